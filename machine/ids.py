"""Deterministic client order ids: `<prefix><purpose code><counter>`.

The prefix comes from the FIRST `SessionStarted.run_id` of the journal, so every
order of one journal shares it (restart reconciliation finds ours by prefix) and the
counter (one per OrderSubmitted, folded from the journal) makes each id unique.
Ids match Binance's `^[.A-Z:/a-z0-9_-]{1,36}$`.
"""
from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9]")
_PURPOSE_CODES = {
    "entry": "E",
    "pyramid": "P",
    "stop": "S",
    "take_profit": "T",
    "exit": "X",
    "manual_close": "M",
    "emergency": "Z",
    "reconcile": "R",
}
NO_RUN_PREFIX = "dj-norun-"
CLIENT_ID_PATTERN = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")


def prefix_from_run_id(run_id: str) -> str:
    cleaned = _UNSAFE.sub("", run_id)[:12] or "0"
    return f"dj-{cleaned}-"


def client_id_prefix(state) -> str:
    """The prefix every client order id of this journal starts with."""
    return state.prefix if state.prefix is not None else NO_RUN_PREFIX


def make_client_id(prefix: str, purpose: str, counter: int) -> str:
    return f"{prefix}{_PURPOSE_CODES.get(purpose, 'O')}{counter}"
