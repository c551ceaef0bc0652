"""Which code recorded a session: a digest of the bot's Python sources, stamped on `session_started`.

The package version (`version`) stays 0.1.0 across every edit; an audit or a replay that diverges
needs to know which code decided. `code_digest` is SHA-256 over every `.py` file of the bot's
packages (relative path + bytes, in path order), its first 16 hex digits. It is left out of
`journal stats`' `content_digest`, so two runs of the same backtest on different code still share a
content digest exactly when they recorded the same events.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGES = ("cli", "exchange", "journal", "machine", "projections")
ROOT = Path(__file__).resolve().parent.parent  # the folder holding the packages (repo root or site-packages)


@lru_cache(maxsize=None)
def code_digest(root: Path = ROOT) -> str:
    """16 hex digits; computed once per process (≈ 4 ms for ≈ 150 files)."""
    digest = hashlib.sha256()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if not path.is_file():  # an editor's lock file (a dangling `.#name.py` link), a directory: not code
                continue
            try:
                content = path.read_bytes()
            except OSError:  # unreadable: stamped as such, never a reason for a session not to start
                content = b"<unreadable>"
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(content + b"\0")
    return digest.hexdigest()[:16]
