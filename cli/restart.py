"""Crash-only start-up: the core's state is rebuilt by folding the journal's inputs.

Besides the state, the rebuild tells the loop where to resume (the last candle of each
symbol the journal holds) and which venue answers of the bar in flight are already
recorded, so the re-fed bar does not record them twice.
"""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from cli.loop import Observer, answer_key
from journal.events import CandleClosed, Event, OrderCanceled, OrderFilled, is_input
from machine.decider import initial_state, step
from machine.params import Params


class Rebuilt(NamedTuple):
    state: Any
    last_candle: dict[str, int]  # symbol -> open time of its last recorded closed candle
    trailing_answers: set[tuple]  # venue answers recorded after each symbol's last candle


def rebuild_state(events: Iterable[Event], params: Params, observe: Observer | None = None) -> Rebuilt:
    """Crash-only start-up: fold a journal's recorded inputs back into the core's state."""
    state = initial_state(params)
    last_candle: dict[str, int] = {}
    trailing: dict[str, set[tuple]] = {}
    for event in events:
        if observe is not None:
            observe(event)
        if not is_input(event):
            continue
        state, _ = step(state, event, params)
        if isinstance(event, CandleClosed):
            last_candle[event.symbol] = event.ts
            trailing[event.symbol] = set()
        elif isinstance(event, (OrderFilled, OrderCanceled)):
            trailing.setdefault(event.symbol, set()).add(answer_key(event))
    answers = set().union(*trailing.values()) if trailing else set()
    return Rebuilt(state, last_candle, answers)
