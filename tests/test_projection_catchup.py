"""The projection file: incremental catch-up, rebuild on mismatch, resume, lock fallback."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import projections.loader as loader
from conftest_projection import BTC, candle, trading_session, write_journal
from journal.events import SessionStarted
from journal.writer import JournalWriter
from projections.db import DB_FILE, connect_with_stats

TABLE_DUMP = ("SELECT * FROM events ORDER BY seq", "SELECT * FROM orders ORDER BY seq",
              "SELECT * FROM trades ORDER BY seq", "SELECT * FROM equity ORDER BY seq",
              "SELECT * FROM signals ORDER BY seq", "SELECT * FROM fills ORDER BY seq")


def dump(con) -> list:
    return [con.execute(sql).fetchall() for sql in TABLE_DUMP]


def stats(journal, **kw):
    con, result, in_memory = connect_with_stats(journal, **kw)
    try:
        return result, in_memory, dump(con), con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()


def replace_journal(journal, events):
    """Write another journal into the directory but keep its existing projection file."""
    kept = journal.parent / "kept.duckdb"
    shutil.move(journal / DB_FILE, kept)
    shutil.rmtree(journal)
    write_journal(journal, events)
    shutil.move(kept, journal / DB_FILE)


def append(journal, events):
    with JournalWriter.open(journal, wall_clock=lambda: 1_700_000_000_000) as writer:
        writer.append(list(events), durable=False)


def test_first_connect_builds_then_only_new_records_are_applied(tmp_path):
    events = trading_session()
    journal = write_journal(tmp_path / "j", events[:10])
    first, in_memory, _, count = stats(journal)
    assert (first.applied, first.rebuilt, first.last_seq, in_memory, count) == (10, False, 10, False, 10)
    assert (journal / DB_FILE).exists()
    append(journal, events[10:])
    second, _, _, count = stats(journal)
    assert (second.applied, second.rebuilt, second.last_seq, count) == (len(events) - 10, False, len(events),
                                                                        len(events))
    third, _, _, _ = stats(journal)
    assert (third.applied, third.rebuilt) == (0, False)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=1, max_value=len(trading_session()) - 1), max_size=4))
def test_catching_up_in_any_steps_equals_one_build(tmp_path_factory, cuts):
    events = trading_session()
    whole = write_journal(tmp_path_factory.mktemp("whole") / "j", events)
    expected = stats(whole)[2]
    stepped = tmp_path_factory.mktemp("steps") / "j"
    bounds = sorted(set(cuts)) + [len(events)]
    write_journal(stepped, events[: bounds[0]])
    stats(stepped)
    for lo, hi in zip(bounds, bounds[1:]):
        append(stepped, events[lo:hi])
        stats(stepped)
    result, _, got, _ = stats(stepped)
    assert result.applied == 0 and got == expected


def test_a_different_journal_in_the_directory_forces_a_rebuild(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    stats(journal)
    other = [SessionStarted(ts=5, run_id="other", mode="paper", version="0.1.0", config_digest="zz"),
             candle(BTC, 7, 70.0)]
    replace_journal(journal, other)
    result, _, _, count = stats(journal)
    assert (result.rebuilt, result.applied, count) == (True, 2, 2)


def test_same_start_but_rewritten_history_forces_a_rebuild(tmp_path):
    events = trading_session()
    journal = write_journal(tmp_path / "j", events)
    stats(journal)
    rewritten = events[:5] + [candle(BTC, 9, 999.0)] * (len(events) - 5)
    replace_journal(journal, rewritten)
    result, _, _, count = stats(journal)
    assert result.rebuilt and count == len(rewritten)


def test_a_shorter_journal_forces_a_rebuild(tmp_path):
    events = trading_session()
    journal = write_journal(tmp_path / "j", events)
    stats(journal)
    replace_journal(journal, events[:6])
    result, _, _, count = stats(journal)
    assert result.rebuilt and count == 6


def test_a_changed_projection_schema_forces_a_rebuild(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    stats(journal)
    con = duckdb.connect(str(journal / DB_FILE))
    con.execute("UPDATE projection_meta SET value = '0:old' WHERE key = 'schema'")
    con.execute("DROP VIEW trades")
    con.close()
    result, _, tables, _ = stats(journal)
    assert result.rebuilt and len(tables[2]) == 1


def test_a_damaged_projection_file_is_rebuilt(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    (journal / DB_FILE).write_bytes(b"definitely not duckdb" * 100)
    result, in_memory, _, count = stats(journal)
    assert count == len(trading_session()) and not in_memory


def test_an_interrupted_build_resumes_from_the_last_committed_batch(tmp_path, monkeypatch):
    events = trading_session()
    journal = write_journal(tmp_path / "j", events)
    monkeypatch.setattr(loader, "BATCH_RECORDS", 4)
    from journal.reader import read_records

    def dies_after_ten(path, from_seq):
        for rec in read_records(path, from_seq=from_seq):
            if rec.seq > 10:
                raise KeyboardInterrupt
            yield rec

    with pytest.raises(KeyboardInterrupt):
        connect_with_stats(journal, source=dies_after_ten)
    result, _, tables, count = stats(journal)
    assert (result.rebuilt, result.applied, count) == (False, len(events) - 8, len(events))
    assert tables == stats(write_journal(tmp_path / "fresh", events))[2]


def test_projection_locked_by_another_process_falls_back_to_memory(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    stats(journal)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(journal / DB_FILE)!r})
        print("locked", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        result, in_memory, tables, count = stats(journal)
        assert in_memory and count == len(trading_session()) and len(tables[2]) == 1
    finally:
        holder.communicate("\n", timeout=30)


def test_queries_while_another_process_keeps_appending(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    writer = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest_projection import BTC, candle
        from journal.writer import JournalWriter
        with JournalWriter.open({str(journal)!r}) as w:
            print("writing", flush=True)
            for i in range(400):
                w.append([candle(BTC, 100 + 5 * i + k, 100.0 + k) for k in range(5)], durable=True)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        seen = []
        while writer.poll() is None or len(seen) < 2:
            con, _, _ = connect_with_stats(journal)
            try:
                n, lo, hi = con.execute("SELECT count(*), min(seq), max(seq) FROM events").fetchone()
            finally:
                con.close()
            assert (lo, hi) == (1, n)  # a contiguous prefix of the journal, never a torn record
            seen.append(n)
    finally:
        assert writer.wait(timeout=120) == 0
    assert seen == sorted(seen)
    result, _, _, count = stats(journal)
    assert count == len(trading_session()) + 2000


def test_an_unchanged_journal_is_not_read_again(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    stats(journal)

    def must_not_read(path, from_seq):
        raise AssertionError("the journal was read although nothing changed")

    con, result, _ = connect_with_stats(journal, source=must_not_read)
    con.close()
    assert (result.applied, result.rebuilt, result.last_seq) == (0, False, len(trading_session()))


def test_a_caught_up_projection_is_shared_read_only_with_another_reader(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    stats(journal)
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys
        con = duckdb.connect({str(journal / DB_FILE)!r}, read_only=True)
        print("reading", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "reading"
        result, in_memory, tables, _ = stats(journal)
        assert (result.applied, in_memory, len(tables[2])) == (0, False, 1)
    finally:
        reader.communicate("\n", timeout=30)


def test_nested_connections_in_one_process_share_the_file(tmp_path):
    journal = write_journal(tmp_path / "j", trading_session())
    outer, _, _ = connect_with_stats(journal)
    try:
        inner_ro, _, ro_memory = connect_with_stats(journal, read_only_query=True)
        inner_ro.close()
        inner_rw, _, rw_memory = connect_with_stats(journal)
        inner_rw.close()
    finally:
        outer.close()
    assert (ro_memory, rw_memory) == (False, False)
    assert (journal / DB_FILE).exists() and stats(journal)[0].applied == 0
