"""`journal sql DIR "SELECT ..." [--format table|csv|json]` through the `journal` entry point.

Most tests call `cli.main.journal_main` in process (same code path, exit codes via SystemExit);
one runs the installed console script as a user would."""
from __future__ import annotations

import csv
import io
import json

import pytest

from conftest_projection import journal_in_process, run_journal, trading_session, write_journal
from journal.writer import JournalWriter
from projections.db import DB_FILE


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    return write_journal(tmp_path_factory.mktemp("sql") / "j", trading_session())


def test_json_format_prints_rows_as_objects_with_payload_embedded(journal):
    out = journal_in_process("sql", journal, "SELECT seq, kind, payload FROM events WHERE seq <= 2 ORDER BY seq",
                      "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["kind"] for r in rows] == ["session_started", "daily_anchor_reset"]
    assert rows[1]["payload"] == {"kind": "daily_anchor_reset", "day": "1970-01-01", "equity": 10000.0, "ts": 0}


def test_csv_format_has_a_header_and_one_line_per_row(journal):
    out = journal_in_process("sql", journal, "SELECT client_id, status, filled_qty FROM orders ORDER BY seq",
                      "--format", "csv")
    assert out.returncode == 0, out.stderr
    assert list(csv.reader(io.StringIO(out.stdout))) == [
        ["client_id", "status", "filled_qty"], ["c-entry", "filled", "2.0"], ["c-eth", "rejected", "0.0"],
        ["c-stop1", "canceled", "0.0"], ["c-stop2", "filled", "2.0"]]


def test_table_format_is_the_default_and_counts_rows(journal):
    out = journal_in_process("sql", journal, "SELECT trade_id, exit_reason, pnl FROM trades")
    assert out.returncode == 0, out.stderr
    assert "BTC-1" in out.stdout and "breakeven" in out.stdout and "-0.22275" in out.stdout
    assert out.stdout.rstrip().endswith("1 row")


def test_table_format_caps_rows_but_reports_the_total(journal):
    out = journal_in_process("sql", journal, "SELECT seq FROM events", "--max-rows", "3")
    assert out.returncode == 0, out.stderr
    assert f"{len(trading_session())} rows, first 3 shown" in out.stdout


def test_aggregate_over_trades_matches_the_journal(journal):
    out = journal_in_process("sql", journal, "SELECT count(*) AS n, sum(pnl) AS pnl, sum(fees) AS fees FROM trades",
                      "--format", "json")
    assert json.loads(out.stdout) == [{"n": 1, "pnl": -0.22275, "fees": 0.22275}]


@pytest.mark.parametrize("query, fragment", [
    ("SELEC 1", "Parser Error"),
    ("SELECT nope FROM trades", "Binder Error"),
    ("SELECT * FROM no_such_view", "no_such_view"),
    ("DELETE FROM events_t", "read-only"),
    ("   ", "empty SQL query"),
    (";", "empty SQL query"),
    # the sandbox: no file reads (secrets in /proc/self/environ or config.json), writes, attaches or installs
    ("SELECT content FROM read_text('/proc/self/environ')", "file system operations are disabled"),
    ("SELECT * FROM read_csv('config.json')", "file system operations are disabled"),
    ("COPY (SELECT 1) TO 'leak.csv'", "file system operations are disabled"),
    ("ATTACH 'other.duckdb'", "file system operations are disabled"),
    ("INSTALL httpfs", "file system operations are disabled"),
    ("SET enable_external_access = true", "configuration has been locked"),
])
def test_bad_sql_exits_2_with_duckdbs_message_on_one_line(journal, query, fragment):
    out = journal_in_process("sql", journal, query)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_format_exits_2(journal):
    out = journal_in_process("sql", journal, "SELECT 1", "--format", "xml")
    assert out.returncode == 2 and "--format" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_missing_or_non_journal_directory_exits_2_without_creating_files(tmp_path):
    missing = journal_in_process("sql", tmp_path / "nope", "SELECT 1")
    assert missing.returncode == 2 and "nope" in missing.stderr
    (tmp_path / "notes.txt").write_text("hello")
    plain = journal_in_process("sql", tmp_path, "SELECT 1")
    assert plain.returncode == 2 and str(tmp_path) in plain.stderr
    assert not (tmp_path / DB_FILE).exists()
    a_file = journal_in_process("sql", tmp_path / "notes.txt", "SELECT 1")
    assert a_file.returncode == 2 and "Traceback" not in a_file.stderr


def test_an_empty_journal_has_empty_views(tmp_path):
    JournalWriter.open(tmp_path / "j").close()
    out = journal_in_process("sql", tmp_path / "j", "SELECT count(*) AS n FROM trades", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"n": 0}]


def test_sql_while_a_writer_holds_the_journal_sees_every_durable_record(tmp_path):
    journal = tmp_path / "j"
    events = trading_session()
    with JournalWriter.open(journal) as writer:
        writer.append(events[:10], durable=True)
        first = journal_in_process("sql", journal, "SELECT max(seq) AS s FROM events", "--format", "json")
        writer.append(events[10:], durable=True)
        second = journal_in_process("sql", journal, "SELECT max(seq) AS s FROM events", "--format", "json")
    assert json.loads(first.stdout) == [{"s": 10}]
    assert json.loads(second.stdout) == [{"s": len(events)}]


def test_the_installed_console_script_end_to_end(journal):
    ok = run_journal("sql", journal, "SELECT count(*) AS n FROM trades", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout) == [{"n": 1}]
    bad = run_journal("sql", journal, "SELECT nope FROM trades")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Binder Error" in bad.stderr
    assert "Traceback" not in bad.stderr
