"""The paper venue's own state: orders, positions, cash and the bars it has seen.

Kept apart from the bot's journal on purpose: after a restart the bot reconciles
against this state the way a live bot reconciles against Binance, so it must
survive the bot. `save` writes it atomically (temp file, rename), so a kill at any
instant leaves either the old or the new state on disk, never half of one.
"""
from __future__ import annotations

import os
from pathlib import Path

import msgspec

from journal.errors import BadInput
from journal.events import AnyEvent

STATE_FILE = "paper_exchange.json"
DUST = 1e-12
"""Quantities below this are float residue of reductions, i.e. flat."""


class PaperOrder(msgspec.Struct, kw_only=True):
    client_id: str
    exchange_id: str
    symbol: str
    side: str  # buy | sell
    order_kind: str  # market | limit | stop_market | take_profit_market
    qty: float
    purpose: str
    number: int  # submission order: ties inside a bar resolve by it
    price: float | None = None
    stop_price: float | None = None
    reduce_only: bool = False
    status: str = "open"  # open | filled | canceled | rejected | expired
    filled_qty: float = 0.0
    avg_price: float | None = None
    armed_bar: int | None = None  # bar open time when it was placed intrabar (live for the rest of it)


class PaperPosition(msgspec.Struct, kw_only=True):
    qty: float = 0.0  # signed: > 0 long, < 0 short (one-way mode)
    entry_price: float = 0.0


class BarAnswers(msgspec.Struct, kw_only=True):
    """What a step answered for one bar: a restarted loop that re-feeds the bar gets it again."""

    ts: int
    events: list[AnyEvent] = []


class PaperState(msgspec.Struct, kw_only=True):
    initial_equity: float
    cash: float
    orders: dict[str, PaperOrder] = {}
    positions: dict[str, PaperPosition] = {}
    last_price: dict[str, float] = {}
    bar_in_progress: dict[str, int] = {}  # symbol -> open time, between advance and bar_closed
    stop_fired_bar: dict[str, int] = {}  # symbol -> bar in which a protective stop filled
    advanced_ts: dict[str, int] = {}  # symbol -> last bar run through `advance`
    closed_ts: dict[str, int] = {}  # symbol -> last bar run through `bar_closed`
    advanced: dict[str, BarAnswers] = {}  # symbol -> answers of its last bar that had any
    closed: dict[str, BarAnswers] = {}
    order_count: int = 0


def save(state: PaperState, path: Path, fsync: bool = False) -> None:
    """Atomic replace of the state file (temp file + rename).

    Atomic against the process dying at any instant, which is what a restart test does
    to a simulated venue; `fsync=True` also survives power loss, at ~2 fsyncs a call."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(msgspec.json.encode(state))
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if fsync:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def load(path: Path) -> PaperState | None:
    """The saved state, None when there is none yet; a corrupt file is bad input."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        return msgspec.json.decode(path.read_bytes(), type=PaperState)
    except msgspec.DecodeError as exc:
        raise BadInput(f"{path}: corrupt paper exchange state ({exc})") from None
