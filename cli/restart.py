"""Crash-only start-up: the core's state is rebuilt by folding the journal.

Every record is folded with `evolve`, inputs and the decisions recorded for them alike:
the recorded decisions are what the venue was told, whatever settings or code made them,
so a restart under an edited config (or a new version) knows exactly which orders are
live, which client ids are spent and what each symbol holds. Deciding the old inputs
again instead would rebuild what the *new* settings would have done, and reconciliation
would then cancel the real stops as strangers.

The fold runs under the new session's params: its indicators are recomputed over the
whole candle history with the new lengths, and its cash starts from the journal's own
first session (its initial equity), not from today's config.

Besides the state, the rebuild tells the loop where to resume (the last candle of each
symbol the journal holds) and which venue answers of the bar in flight are already
recorded, so the re-fed bar does not record them twice.
"""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import msgspec

from cli.loop import Observer, answer_key
from journal.events import CandleClosed, Event, OrderCanceled, OrderFilled, SessionStarted
from machine.decider import evolve, initial_state
from machine.params import Params


class Rebuilt(NamedTuple):
    state: Any
    last_candle: dict[str, int]  # symbol -> open time of its last recorded closed candle
    trailing_answers: set[tuple]  # venue answers recorded after each symbol's last candle


def params_from_session(event: SessionStarted) -> Params:
    """The Params a session ran with, as recorded in its non-secret settings."""
    settings = event.settings
    raw = settings.get("params", settings)
    fields = set(Params.__struct_fields__)
    return msgspec.convert({k: v for k, v in raw.items() if k in fields}, Params)


def rebuild_state(events: Iterable[Event], params: Params, observe: Observer | None = None) -> Rebuilt:
    """Fold every recorded event into a fresh state made with `params` (see the module docstring)."""
    state = initial_state(params)
    first = True
    last_candle: dict[str, int] = {}
    trailing: dict[str, set[tuple]] = {}
    for event in events:
        if observe is not None:
            observe(event)
        if first:
            first = False
            if isinstance(event, SessionStarted):
                state.cash = params_from_session(event).initial_equity
        state = evolve(state, event)
        if isinstance(event, CandleClosed):
            last_candle[event.symbol] = event.ts
            trailing[event.symbol] = set()
        elif isinstance(event, (OrderFilled, OrderCanceled)):
            trailing.setdefault(event.symbol, set()).add(answer_key(event))
    answers = set().union(*trailing.values()) if trailing else set()
    return Rebuilt(state, last_candle, answers)
