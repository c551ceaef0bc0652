"""The per-symbol lifecycle as data: states, the legal triggers, and nothing else.

`transitions` holds the table (auto_transitions=False, no callbacks); `fire` asks it
for the next phase and raises `IllegalTransition` for a trigger the table does not
allow. The decider turns that into `ErrorRaised` + `Halted`, never a silent change.
Only a state *change* touches transitions; per-bar work never does.
"""
from __future__ import annotations

import functools
import threading
from enum import Enum

from transitions import Machine, MachineError


class Phase(str, Enum):
    FLAT = "flat"
    ENTERING = "entering"
    LONG = "long"
    SHORT = "short"
    PYRAMIDED = "pyramided"
    EXITING = "exiting"
    HALTED = "halted"


_IN_POSITION = ["long", "short", "pyramided"]
_ALL_BUT_HALTED = ["flat", "entering", "long", "short", "pyramided", "exiting"]

TRANSITIONS: tuple[dict, ...] = (
    {"trigger": "submit_entry", "source": "flat", "dest": "entering"},
    {"trigger": "entry_failed", "source": "entering", "dest": "flat"},
    {"trigger": "filled_long", "source": "entering", "dest": "long"},
    {"trigger": "filled_short", "source": "entering", "dest": "short"},
    {"trigger": "pyramid_filled", "source": _IN_POSITION, "dest": "pyramided"},
    {"trigger": "late_fill_long", "source": ["flat", "entering"], "dest": "long"},
    {"trigger": "late_fill_short", "source": ["flat", "entering"], "dest": "short"},
    {"trigger": "request_exit", "source": _IN_POSITION, "dest": "exiting"},
    {"trigger": "exit_failed_long", "source": "exiting", "dest": "long"},
    {"trigger": "exit_failed_short", "source": "exiting", "dest": "short"},
    {"trigger": "exit_failed_pyramided", "source": "exiting", "dest": "pyramided"},
    {"trigger": "flattened", "source": _IN_POSITION + ["exiting"], "dest": "flat"},
    {"trigger": "halt", "source": _ALL_BUT_HALTED, "dest": "halted"},
    {"trigger": "resume_flat", "source": "halted", "dest": "flat"},
    {"trigger": "resume_long", "source": "halted", "dest": "long"},
    {"trigger": "resume_short", "source": "halted", "dest": "short"},
    {"trigger": "resume_pyramided", "source": "halted", "dest": "pyramided"},
    {"trigger": "resume_entering", "source": "halted", "dest": "entering"},
    {"trigger": "resume_exiting", "source": "halted", "dest": "exiting"},
)


class IllegalTransition(Exception):
    """A trigger the table does not allow from the current phase."""


class _Cursor:
    """A throwaway model: transitions needs an object to hold `state`."""

    state: str


def build_machine(model: object | None = None, initial: str = "flat") -> Machine:
    return Machine(
        model=model if model is not None else [],
        states=[p.value for p in Phase],
        transitions=[dict(t) for t in TRANSITIONS],
        initial=initial,
        auto_transitions=False,
        send_event=False,
    )


_TABLE_MACHINE = build_machine()
"""The table itself. Each thread drives it through its own cursor model (see `fire`)."""
_CURSORS = threading.local()
_ADD_LOCK = threading.Lock()


def _thread_cursor() -> _Cursor:
    cursor = getattr(_CURSORS, "cursor", None)
    if cursor is None:
        cursor = _Cursor()
        with _ADD_LOCK:
            _TABLE_MACHINE.add_model(cursor, initial="flat")
        _CURSORS.cursor = cursor
    return cursor


@functools.lru_cache(maxsize=None)
def _next_phase(phase: str, trigger: str) -> str | None:
    """Fire `trigger` from `phase` on the table through a cursor placed with `set_state`
    (no callbacks run); None when the table does not allow it. Pure in (phase, trigger),
    so it is memoized: the table is consulted once per distinct edge, not per event."""
    cursor = _thread_cursor()
    try:
        _TABLE_MACHINE.set_state(phase, cursor)
        cursor.trigger(trigger)
    except (MachineError, AttributeError, ValueError):
        return None
    return cursor.state


def fire(phase: str, trigger: str) -> str:
    """Next phase for `trigger` fired in `phase`; raises IllegalTransition."""
    dest = _next_phase(phase, trigger)
    if dest is None:
        raise IllegalTransition(f"{trigger!r} is not allowed from {phase!r}")
    return dest


def legal_edges() -> frozenset[tuple[str, str, str]]:
    """(source, trigger, dest) for every edge in the table."""
    edges = set()
    for event_name, event in _TABLE_MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for tr in transitions:
                edges.add((source, event_name, tr.dest))
    return frozenset(edges)


def mermaid() -> str:
    """The state diagram as Mermaid, deterministic (sorted), generated from the table."""
    lines = ["stateDiagram-v2", "    [*] --> flat"]
    for source, trigger, dest in sorted(legal_edges()):
        lines.append(f"    {source} --> {dest}: {trigger}")
    return "\n".join(lines) + "\n"
