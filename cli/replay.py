"""Exact replay: re-run the decider over a journal's recorded inputs and compare decisions.

The journal interleaves inputs (candles, exchange answers, operator requests) with the
decisions the core returned for each of them. Replaying folds the same inputs through
`machine.decider.step` and checks that every recorded decision is reproduced, field by
field and in the same order. Nothing else is trusted: not the state file, not the code.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import chain, takewhile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import msgspec

from journal.events import INPUT_TYPES, Event, JournalRecovered, SessionStarted, kind_of
from journal.codec import cut_record_kind
from journal.reader import read_record_batches, read_records
from cli.restart import params_from_session, rebuild_state
from machine.decider import initial_state, step
from machine.params import Params


_INPUT_KINDS = frozenset(t.__struct_config__.tag for t in INPUT_TYPES)


@dataclass(frozen=True)
class Divergence:
    """One decision that did not reproduce."""

    seq: int | None  # the recorded seq where it diverged (None: missing at the journal's end)
    symbol: str | None
    ts: int
    field: str
    recorded: Any
    replayed: Any

    def line(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "after end"
        return (
            f"{where} symbol={self.symbol or '-'} ts={self.ts} field={self.field}: "
            f"recorded={self.recorded!r} replayed={self.replayed!r}"
        )


@dataclass
class ReplayResult:
    records: int = 0
    inputs: int = 0
    decisions: int = 0
    divergences: list[Divergence] = field(default_factory=list)
    divergence_count: int = 0
    lost_in_crash: int = 0  # decisions of the input before a torn tail the crash never let reach the disk
    lost: list[str] = field(default_factory=list)  # which ones (after the last recorded seq of that input)

    @property
    def ok(self) -> bool:
        return self.divergence_count == 0


def _fields(event: Event) -> dict[str, Any]:
    return {"kind": kind_of(event), **msgspec.structs.asdict(event)}


def compare(recorded: Event, replayed: Event) -> list[tuple[str, Any, Any]]:
    """Field-by-field differences between two decisions (kind first)."""
    if recorded == replayed:
        return []
    a, b = _fields(recorded), _fields(replayed)
    if a["kind"] != b["kind"]:
        return [("kind", a["kind"], b["kind"])]
    return [(k, a.get(k), b.get(k)) for k in a.keys() | b.keys() if a.get(k) != b.get(k)]


def _cut_an_input(recovered: JournalRecovered, quarantined: Callable[[JournalRecovered], bytes | None] | None) -> bool:
    """Whether the torn tail began with the NEXT input (the batch before it was whole, so decisions missing
    from it are divergences), as far as the quarantined bytes tell (unreadable: assume the batch was cut)."""
    raw = quarantined(recovered) if quarantined is not None else None
    return raw is not None and cut_record_kind(raw) in _INPUT_KINDS


def replay_records(records: Iterable, params: Params | None = None, limit: int = 20,
                   history: Callable[[int], Iterable[Event]] | None = None,
                   quarantined: Callable[[JournalRecovered], bytes | None] | None = None) -> ReplayResult:
    """Replay an iterable of journal records. `params` overrides the recorded ones.

    A session that restarted under other params than the state's began, live, from the
    journal folded under its own params (`cli.restart.rebuild_state`); replay does the same
    with `history(seq)`, the events recorded before that session (re-read from the journal:
    such restarts are rare). Without `history` the state carries on, as it does when the
    params did not change. `quarantined(recovered)`: the bytes a torn tail cut, which tell
    whether the tear cut the last input's own decisions (lost in the crash) or the next input."""
    result = ReplayResult()
    state = None
    pending: deque[Event] = deque()

    def diverge(d: Divergence) -> None:
        result.divergence_count += 1
        if len(result.divergences) < limit:
            result.divergences.append(d)

    def flush_missing(at_seq: int | None) -> None:
        """Replayed decisions the journal lacks, reported at the record where they were due."""
        while pending:
            lost = pending.popleft()
            diverge(Divergence(at_seq, getattr(lost, "symbol", None), lost.ts, "missing",
                               None, kind_of(lost)))

    current: Params | None = params
    inputs = frozenset(INPUT_TYPES)  # exact types: one set lookup per record on the hot path
    # Hot loop (one pass per record): counters and bound methods live in locals.
    count = input_count = 0
    next_replayed, expect = pending.popleft, pending.extend
    for rec in records:
        count += 1
        event = rec.event
        kind = type(event)
        if kind in inputs:
            if pending and kind is JournalRecovered and not _cut_an_input(event, quarantined):
                # The torn tail cut the rest of that input's decisions: never durable, so never acted on
                # (intents go out only once their whole batch is fsync'd). Not a divergence, but listed; and
                # the restarted bot folded only what was recorded, so replay does the same from here.
                result.lost_in_crash += len(pending)
                result.lost.extend(f"seq {rec.seq - 1}+: {kind_of(lost)}" for lost in pending)
                pending.clear()
                if history is not None and state is not None:
                    state = rebuild_state(history(rec.seq), state.params).state
            if pending:
                flush_missing(rec.seq)
            input_count += 1
            if kind is SessionStarted and params is None:
                current = params_from_session(event)
                if state is not None and history is not None and state.params != current:
                    state = rebuild_state(history(rec.seq), current).state
            if state is None:  # from here on `current` is set: the state was made with it
                if current is None:
                    current = Params()
                state = initial_state(current)
            state, decided = step(state, event, current)
            if decided:
                expect(decided)
            continue
        if not pending:
            diverge(Divergence(rec.seq, getattr(event, "symbol", None), rec.ts, "unexpected",
                               kind_of(event), None))
            continue
        replayed = next_replayed()
        if event == replayed:
            continue
        for name, recorded_value, replayed_value in sorted(compare(event, replayed)):
            diverge(Divergence(rec.seq, getattr(event, "symbol", None), rec.ts, name,
                               recorded_value, replayed_value))
    flush_missing(None)
    result.records, result.inputs, result.decisions = count, input_count, count - input_count
    return result


def replay_journal(path: str | Path, params: Params | None = None, limit: int = 20) -> ReplayResult:
    records = chain.from_iterable(read_record_batches(path))  # decoded in runs: see read_record_batches

    def history(before_seq: int) -> Iterator[Event]:
        return (r.event for r in takewhile(lambda r: r.seq < before_seq, read_records(path)))

    def quarantined(recovered: JournalRecovered) -> bytes | None:
        try:
            return (Path(path) / recovered.quarantine_file).read_bytes()
        except OSError:
            return None

    return replay_records(records, params=params, limit=limit, history=history, quarantined=quarantined)
