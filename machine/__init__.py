"""The pure decision core. Its hot modules may run compiled (see build_core.py at the repo root).

The compiled modules live in `machine/_native/` with a manifest of the sources they were built
from. They are put first on this package's path only while every one of those sources is
unchanged (and the interpreter ABI matches), so an edited core runs interpreted until the next
build instead of running stale code. `BOT_CORE=interpreted` forces the interpreted modules: the
one environment read of the package, made once at import to pick *how* the core runs, never
*what* it decides (both give byte-identical journals: tests/test_core_compiled.py).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
NATIVE_DIR = PACKAGE_DIR / "_native"
COMPILED_MODULES = ("records", "indicators", "state", "ids", "risk", "emit", "fills", "evolve_orders", "evolve_ops",
                    "evolve", "decide_orders", "emergency", "emergency_reconcile", "decide_ops", "decide_bar",
                    "decider")
"""The modules mypyc compiles: every module of the per-input path. The rest (params and lifecycle,
which are msgspec/transitions classes; the seed facades; the reference venue) stay interpreted."""


def manifest_sources() -> list[str]:
    """Sources the compiled core depends on, relative to the repo root: its own modules and the
    types it was compiled against (events, params, the lifecycle table)."""
    own = [f"machine/{name}.py" for name in COMPILED_MODULES]
    return [*own, "machine/params.py", "machine/lifecycle.py", "journal/events.py"]


def source_digest(relative: str) -> str:
    return hashlib.sha256((PACKAGE_DIR.parent / relative).read_bytes()).hexdigest()


def native_is_current() -> bool:
    """True when machine/_native holds a build of exactly the sources on disk, for this interpreter."""
    try:
        manifest = json.loads((NATIVE_DIR / "manifest.json").read_text())
        return (manifest.get("abi") == sys.implementation.cache_tag
                and sorted(manifest["sources"]) == sorted(manifest_sources())
                and all(source_digest(path) == digest for path, digest in manifest["sources"].items()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


COMPILED = os.environ.get("BOT_CORE", "") != "interpreted" and native_is_current()
"""Whether this process runs the compiled core (reported by `bot backtest` and the benchmarks)."""
if COMPILED:
    __path__.insert(0, str(NATIVE_DIR))
