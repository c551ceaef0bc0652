"""A journal written by schema v1 (tests/data/journal_v1, the golden file) reads through the upcaster."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from conftest_journal import ROOT, run_cli
from journal.codec import decode_record
from journal.events import SCHEMA_VERSION, OrderFilled, StopMoved
from journal.reader import read_events, read_records
from journal.upcast import upcast_event, upcast_v1_v2
from journal.writer import JournalWriter

GOLDEN = ROOT / "tests" / "data" / "journal_v1"


def test_golden_file_is_what_its_generator_writes(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "tests/data/make_journal_v1.py"), str(tmp_path)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in GOLDEN.iterdir())
    for p in tmp_path.iterdir():
        assert p.read_bytes() == (GOLDEN / p.name).read_bytes()


def test_v1_stop_updated_reads_as_stop_moved() -> None:
    stops = [e for e in read_events(GOLDEN) if isinstance(e, StopMoved)]
    assert stops == [
        StopMoved(ts=1_704_067_200_000, symbol="BTC/USDT", side="long", stop_price=41450.0, reason="initial"),
        StopMoved(ts=1_704_070_800_000, symbol="BTC/USDT", side="long", stop_price=42760.0, reason="breakeven",
                  prev_stop=41450.0),
    ]


def test_v1_order_filled_gains_its_fee_asset() -> None:
    fills = [e for e in read_events(GOLDEN) if isinstance(e, OrderFilled)]
    assert [(f.fee_asset, f.fee, f.purpose) for f in fills] == [("USDT", 1.64626, "entry"), ("USDT", 1.64626, "stop")]


def test_records_keep_the_version_they_were_written_with() -> None:
    records = list(read_records(GOLDEN))
    assert [r.seq for r in records] == list(range(1, 12))
    assert {r.v for r in records} == {1}


def test_verify_and_stats_accept_the_v1_journal() -> None:
    rc, out, _ = run_cli("verify", GOLDEN)
    assert rc == 0 and "11 records" in out and "11 upcast" in out
    rc, out, _ = run_cli("stats", GOLDEN, "--json")
    stats = json.loads(out)
    assert rc == 0 and stats["records"] == 11 and stats["last_seq"] == 11


def test_a_v1_journal_continues_in_v2_and_reads_as_one(tmp_path: Path) -> None:
    work = tmp_path / "j"
    shutil.copytree(GOLDEN, work)
    with JournalWriter.open(work) as writer:
        writer.append([StopMoved(ts=1_704_078_000_000, symbol="BTC/USDT", side="long", stop_price=1.0, reason="trail")])
    records = list(read_records(work))
    assert [r.v for r in records] == [1] * 11 + [SCHEMA_VERSION]
    assert run_cli("verify", work)[0] == 0


def test_upcaster_steps() -> None:
    assert upcast_v1_v2({"kind": "stop_updated", "ts": 1, "symbol": "X", "side": "short", "price": 2.5,
                         "why": "trail"}) == {"kind": "stop_moved", "ts": 1, "symbol": "X", "side": "short",
                                              "stop_price": 2.5, "reason": "trail"}
    assert upcast_v1_v2({"kind": "candle_closed", "ts": 1}) == {"kind": "candle_closed", "ts": 1}
    with pytest.raises(ValueError, match="schema v3"):
        upcast_event(3, {"kind": "candle_closed"})


def test_a_record_from_a_newer_schema_is_not_silently_read() -> None:
    payload = msgspec.msgpack.encode([1, 0, 0, SCHEMA_VERSION + 1, bytes(16), {"kind": "candle_closed", "ts": 0}])
    with pytest.raises(ValueError, match=f"schema v{SCHEMA_VERSION + 1}"):
        decode_record(payload)
