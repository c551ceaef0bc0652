"""Each session records which sources recorded it, and that stamp never changes the content digest."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import msgspec

from cli.code_version import PACKAGES, code_digest
from journal.events import CandleClosed, SessionStarted
from journal.stats import _content_of, journal_stats
from journal.writer import JournalWriter
from conftest_lead import run_main

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "ohlcv"


def test_a_backtest_session_carries_the_code_digest(tmp_path):
    rc, out, err = run_main("bot", "backtest", "--data", str(DATA), "--symbols", "BTC/USDT", "--bars", "50",
                            "--journal", str(tmp_path / "j"), "--json")
    assert rc == 0, err
    rc, out, err = run_main("journal", "sql", str(tmp_path / "j"), "SELECT code_digest FROM sessions",
                            "--format", "csv")
    assert rc == 0, err
    stamp = out.split()[-1]
    assert stamp == code_digest() and len(stamp) == 16 and int(stamp, 16) >= 0


def _journal(path: Path, session: SessionStarted) -> str:
    with JournalWriter.open(path) as journal:
        journal.append([session, CandleClosed(ts=2, symbol="BTC/USDT", timeframe="1h", open=1.0, high=2.0,
                                              low=0.5, close=1.5, volume=3.0)])
    return journal_stats(path)["content_digest"]


def test_the_content_digest_leaves_the_code_digest_out(tmp_path):
    session = SessionStarted(ts=1, run_id="r", mode="backtest", version="0.1.0", config_digest="c",
                             symbols=("BTC/USDT",), settings={"params": {"x": 1.5, "n": [1, 2]}})
    digests = {_journal(tmp_path / name, msgspec.structs.replace(session, code_digest=stamp))
               for name, stamp in (("a", "0123456789abcdef"), ("b", "fedcba9876543210"), ("c", ""))}
    assert len(digests) == 1
    other = _journal(tmp_path / "d", msgspec.structs.replace(session, run_id="r2", code_digest="0123456789abcdef"))
    assert other not in digests  # everything else in the session is still content


class _OldEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    ts: int


class _OldSession(_OldEvent, tag="session_started"):
    """session_started as it was encoded before code_digest existed."""
    run_id: str
    mode: str
    version: str
    config_digest: str
    symbols: tuple[str, ...] = ()
    timeframe: str = "1h"
    settings: dict[str, Any] = {}


def test_a_session_without_the_field_hashes_as_it_always_did():
    fields = dict(ts=1_735_603_200_000, run_id="backtest-b1cf461725bf", mode="backtest", version="0.1.0",
                  config_digest="", symbols=("BTC/USDT", "ETH/USDT"), settings={"params": {"risk_pct": 0.01}})
    old = msgspec.msgpack.encode(_OldSession(**fields))
    new = msgspec.msgpack.encode(SessionStarted(**fields, code_digest="b3ad407ca3704054"))
    assert new != old
    assert bytes(_content_of(msgspec.Raw(new))) == old  # so journals recorded before keep their content digest
    assert bytes(_content_of(msgspec.Raw(old))) == old


def test_any_source_edit_changes_the_code_digest(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "_native*"))
    before = code_digest(tmp_path)
    assert before == code_digest.__wrapped__(ROOT)  # the same sources, wherever they are
    (tmp_path / "journal" / "notes.txt").write_text("not code")
    assert code_digest.__wrapped__(tmp_path) == before
    risk = tmp_path / "machine" / "risk.py"
    risk.write_text(risk.read_text() + "\n")
    assert code_digest.__wrapped__(tmp_path) != before


def test_an_editor_lock_file_among_the_sources_is_not_code(tmp_path):
    """Emacs keeps `.#name.py`, a link to nowhere, beside a file with unsaved edits: reading it failed every
    session start (found by review). Such a path is not code and leaves the digest as it was."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "_native*"))
    before = code_digest.__wrapped__(tmp_path)
    (tmp_path / "machine" / ".#risk.py").symlink_to("someone@host.4242:1700000000")
    (tmp_path / "cli" / "folder.py").mkdir()
    assert code_digest.__wrapped__(tmp_path) == before
