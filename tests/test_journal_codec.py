"""Encode -> decode is identity for every event kind (hypothesis strategies built per Struct)."""
from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journal.codec import decode_record, encode
from journal.events import ALL_EVENT_TYPES, SCHEMA_VERSION
from journal.reader import read_records
from journal.secrets_guard import SECRET_KEY
from journal.record import Record
from journal.writer import JournalWriter

JSON_SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8).filter(lambda k: not SECRET_KEY.search(k)), inner, max_size=3),
    max_leaves=8,
)


def strategy_for(tp: Any) -> st.SearchStrategy:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return JSON_VALUES
    if tp is int:
        return st.integers(-(2**63), 2**63 - 1)
    if tp is float:
        return st.floats(allow_nan=False)
    if tp is str:
        return st.text(max_size=30)
    if tp is bool:
        return st.booleans()
    if tp is bytes:
        return st.binary(max_size=32)
    if tp is type(None):
        return st.none()
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Union, types.UnionType):
        return st.one_of(*(strategy_for(a) for a in args))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(strategy_for(args[0]), max_size=4).map(tuple)
    if origin is list:
        return st.lists(strategy_for(args[0]), max_size=3)
    if origin is dict:  # keys that look like credentials are refused by the writer (secrets_guard)
        keys = strategy_for(args[0]).filter(lambda k: not SECRET_KEY.search(k))
        return st.dictionaries(keys, strategy_for(args[1]), max_size=3)
    raise TypeError(f"no strategy for {tp!r}")


def event_strategy(cls: type) -> st.SearchStrategy:
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in msgspec.structs.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


ANY_EVENT = st.one_of(*(event_strategy(cls) for cls in ALL_EVENT_TYPES))


@pytest.mark.parametrize("cls", ALL_EVENT_TYPES, ids=lambda c: c.__struct_config__.tag)
def test_every_event_kind_round_trips_through_the_record_codec(cls: type) -> None:
    @settings(max_examples=25, deadline=None)
    @given(event=event_strategy(cls), seq=st.integers(1, 2**62), prev=st.binary(min_size=16, max_size=16))
    def check(event, seq, prev) -> None:
        rec = Record(seq=seq, ts=event.ts, recorded_at=123, v=SCHEMA_VERSION, prev=prev, event=event)
        back = decode_record(encode(rec))
        assert back == rec
        assert type(back.event) is cls

    check()


@settings(max_examples=20, deadline=None)
@given(events=st.lists(ANY_EVENT, min_size=1, max_size=12))
def test_events_written_by_the_writer_read_back_identical(tmp_path_factory, events) -> None:
    path = tmp_path_factory.mktemp("j") / "journal"
    with JournalWriter.open(path) as writer:
        written = writer.append(events, durable=True)
    read = list(read_records(path))
    assert read == written
    assert [r.event for r in read] == events
    assert [r.seq for r in read] == list(range(1, len(events) + 1))
