"""`journal replay`: an untouched journal reproduces; any changed decision is named by seq."""
from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from conftest_lead import backtest, run_main
from journal.events import SessionStarted, StopMoved, is_input
from journal.reader import read_records
from journal.writer import JournalWriter


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    return backtest(tmp_path_factory.mktemp("replay") / "journal")


def copy_with(src: Path, dst: Path, change) -> int | None:
    """Rewrite a journal through the real writer, letting `change(seq, event)` alter one event."""
    changed_seq = None
    with JournalWriter.open(dst) as writer:
        for rec in read_records(src):
            event = change(rec.seq, rec.event)
            if event is not rec.event and changed_seq is None:
                changed_seq = rec.seq
            writer.append([event], durable=False)
    return changed_seq


def test_untouched_backtest_journal_replays_exactly(recorded):
    rc, out, err = run_main("journal", "replay", str(recorded), "--json")
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["ok"] and summary["divergences"] == 0
    assert summary["decisions"] > 50 and summary["inputs"] > 800


def test_changed_stop_price_is_reported_with_its_seq(recorded, tmp_path):
    target = next(r.seq for r in read_records(recorded) if isinstance(r.event, StopMoved) and r.seq > 200)

    def change(seq, event):
        if seq == target:
            return msgspec.structs.replace(event, stop_price=event.stop_price + 0.01)
        return event

    changed = copy_with(recorded, tmp_path / "tampered", change)
    assert changed == target
    rc, out, err = run_main("journal", "replay", str(tmp_path / "tampered"))
    assert rc == 1
    assert f"seq {target} " in err and "field=stop_price" in err


def test_changed_donchian_len_diverges_at_first_affected_decision(recorded, tmp_path):
    def change(seq, event):
        if isinstance(event, SessionStarted):
            params = dict(event.settings["params"], donchian_len=35)
            return msgspec.structs.replace(event, settings={**event.settings, "params": params})
        return event

    copy_with(recorded, tmp_path / "other_len", change)
    rc, out, err = run_main("journal", "replay", str(tmp_path / "other_len"), "--json")
    assert rc == 1
    summary = json.loads(out)
    assert summary["divergences"] > 0
    first_seq = int(summary["first_divergences"][0].split()[1])
    first_decision = next(r.seq for r in read_records(recorded) if not is_input(r.event)
                          and type(r.event).__name__ in ("SignalDetected", "SignalFiltered"))
    assert first_seq >= first_decision


def test_what_if_config_prints_side_by_side_and_exits_1(recorded, tmp_path):
    config = tmp_path / "whatif.json"
    config.write_text(json.dumps({"donchian_len": 30, "atr_stop_k": 2.0}))
    rc, out, err = run_main("journal", "replay", str(recorded), "--config", str(config), "--json")
    assert rc == 1
    result = json.loads(out)
    assert result["recorded"]["bars"] == result["whatif"]["bars"]
    assert result["recorded"]["signals"] != result["whatif"]["signals"] or \
        result["recorded"]["pnl"] != result["whatif"]["pnl"]


def test_what_if_under_the_recorded_settings_does_not_diverge(recorded, tmp_path):
    config = tmp_path / "same.json"
    config.write_text("{}")
    rc, out, err = run_main("journal", "replay", str(recorded), "--config", str(config), "--json")
    assert rc == 0, err
    result = json.loads(out)
    assert result["recorded"] == result["whatif"]


def test_replay_of_a_missing_directory_is_bad_input(tmp_path):
    rc, out, err = run_main("journal", "replay", str(tmp_path / "nope"))
    assert rc == 2 and len(err.strip().splitlines()) == 1
