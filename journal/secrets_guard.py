"""Last line of defence: settings that look like credentials never reach the journal.

The session-started event must carry a config digest and non-secret settings only;
the writer refuses one whose settings contain a secret-looking key with a value.
"""
from __future__ import annotations

import re
from typing import Any

from journal.events import Event, SessionStarted

SECRET_KEY = re.compile(r"api[_-]?key|(^|_)key$|secret|passw|passphrase|token|webhook|private[_-]?key", re.IGNORECASE)


def secret_keys(value: Any, path: str = "settings") -> list[str]:
    """Dotted paths of secret-looking keys holding a non-empty value."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            if isinstance(key, str) and SECRET_KEY.search(key) and item not in (None, "", False):
                found.append(here)
            else:
                found.extend(secret_keys(item, here))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found.extend(secret_keys(item, f"{path}[{i}]"))
    return found


def refuse_secrets(event: Event) -> None:
    if isinstance(event, SessionStarted):
        found = secret_keys(event.settings)
        if found:
            raise ValueError(f"session_started carries secret-looking settings ({', '.join(found)}); "
                             "journal a config digest and non-secret settings only")
