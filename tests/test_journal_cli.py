"""The journal commands through their real interface: exit codes, one-line errors, outputs."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest_journal import make_journal, run_cli, run_journal_process, sample_events, segment_files
from journal.events import SessionStarted
from journal.framing import HEADER_SIZE
from journal.reader import read_records
from journal.writer import JournalWriter

COMMANDS = ("verify", "stats", "tail", "repair", "export", "bench")


@pytest.fixture(scope="module")
def journal(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "journal"
    make_journal(path, 500, segment_bytes=30_000, batch=4)
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    rc, out, _ = run_cli(command, "--help")
    assert rc == 0 and "Usage: journal " + command in " ".join(out.split())


def test_console_script_runs_verify(journal: Path) -> None:
    proc = run_journal_process("verify", journal)
    assert proc.returncode == 0 and proc.stdout.startswith("ok: 500 records")


def test_stats_json_reports_counts_and_digests(journal: Path) -> None:
    rc, out, _ = run_cli("stats", journal, "--json")
    stats = json.loads(out)
    records = list(read_records(journal))
    assert rc == 0
    assert stats["records"] == 500 and stats["first_seq"] == 1 and stats["last_seq"] == 500
    assert stats["segments"] == len(segment_files(journal)) > 1
    assert stats["bytes"] == sum(p.stat().st_size for p in segment_files(journal))
    assert (stats["first_ts"], stats["last_ts"]) == (records[0].ts, records[-1].ts)
    assert len(stats["last_digest"]) == 32 and len(stats["content_digest"]) == 32


def test_content_digest_ignores_recording_time_but_not_content(tmp_path: Path) -> None:
    events = sample_events(200)

    def write(path: Path, clock_start: int, evs) -> dict:
        with JournalWriter.open(path, wall_clock=lambda: clock_start) as writer:
            writer.append(evs, durable=False)
        return json.loads(run_cli("stats", path, "--json")[1])

    a = write(tmp_path / "a", 1, events)
    b = write(tmp_path / "b", 999_999, events)
    c = write(tmp_path / "c", 1, events[:-1] + [events[0]])
    assert a["content_digest"] == b["content_digest"]
    assert a["last_digest"] != b["last_digest"]  # the chain covers recorded_at
    assert c["content_digest"] != a["content_digest"]


def test_tail_prints_the_last_n_records(journal: Path) -> None:
    rc, out, _ = run_cli("tail", journal, "-n", "3", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [r["seq"] for r in rows] == [498, 499, 500]
    assert all("kind" in r and "ts" in r and "recorded_at" in r for r in rows)
    rc, out, _ = run_cli("tail", journal, "-n", "2")
    assert rc == 0 and len(out.splitlines()) == 2 and out.splitlines()[-1].split()[0] == "500"


def test_export_writes_one_table_with_a_json_payload(journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "journal.parquet"
    rc, text, _ = run_cli("export", journal, "--parquet", out)
    table = pq.read_table(out).to_pylist()
    records = list(read_records(journal))
    assert rc == 0 and "500 rows" in text
    assert [r["seq"] for r in table] == list(range(1, 501))
    row, rec = table[7], records[7]
    assert (row["ts"], row["kind"], row["v"]) == (rec.ts, type(rec.event).__struct_config__.tag, rec.v)
    assert row["symbol"] == getattr(rec.event, "symbol", None)
    assert json.loads(row["payload"])["kind"] == row["kind"]
    # an existing file is kept unless --force says to replace it
    before = out.read_bytes()
    one_line_error(["export", journal, "--parquet", out], "already exists (--force replaces it)")
    assert out.read_bytes() == before
    assert run_cli("export", journal, "--parquet", out, "--force")[0] == 0


def test_bench_json_reports_every_rate_and_leaves_the_durable_journal(tmp_path: Path) -> None:
    out = tmp_path / "bench-journal"
    rc, text, _ = run_cli("bench", "--events", "600", "--out", out, "--json", "--max-seconds", "0")
    result = json.loads(text)
    assert rc == 0 and result["events"] == 600 and result["durable_events"] == 600
    for key in ("append_batched_eps", "append_durable_eps", "raw_fsync_eps", "read_verify_eps"):
        assert result[key] > 0
    assert run_cli("verify", out)[1].startswith("ok: 600 records")
    assert [r.event for r in read_records(out)] == sample_events(600)


def test_repair_reports_what_it_cut(journal: Path, tmp_path: Path) -> None:
    import shutil

    work = tmp_path / "j"
    shutil.copytree(journal, work)
    last = segment_files(work)[-1]
    size = last.stat().st_size
    with open(last, "r+b") as f:
        f.truncate(size - 10)
    rc, out, _ = run_cli("repair", work)
    assert rc == 0 and f"at byte offset" in out and "into " + last.name in out and "last good seq 499" in out
    assert run_cli("verify", work)[0] == 0


def test_writer_refuses_secret_settings(tmp_path: Path) -> None:
    with JournalWriter.open(tmp_path / "j") as writer:
        with pytest.raises(ValueError, match="settings.binance_secret"):
            writer.append([SessionStarted(ts=0, run_id="r", mode="live", version="1", config_digest="d",
                                          settings={"binance_secret": "s3cr3t", "leverage": 3})])
        assert writer.last_seq == 0
    assert b"s3cr3t" not in b"".join(p.read_bytes() for p in (tmp_path / "j").iterdir() if p.is_file())


# ------------------------------------------------------------------ bad input: exit 2, one line naming the path


def one_line_error(args: list, needle: str) -> None:
    rc, out, err = run_cli(*args)
    assert rc == 2, (args, out, err)
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", ["verify", "stats", "tail", "repair"])
def test_missing_directory_is_bad_input(command: str, tmp_path: Path) -> None:
    one_line_error([command, tmp_path / "nope"], f"{tmp_path / 'nope'}: no such journal directory")


@pytest.mark.parametrize("command", ["verify", "stats", "tail", "repair"])
def test_a_file_instead_of_a_directory_is_bad_input(command: str, tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("hello")
    one_line_error([command, f], f"{f}: not a directory")


@pytest.mark.parametrize("command", ["verify", "stats", "tail", "repair"])
def test_a_directory_without_segments_is_bad_input(command: str, tmp_path: Path) -> None:
    (tmp_path / "projections.duckdb").write_bytes(b"x")
    one_line_error([command, tmp_path], f"{tmp_path}: not a journal directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["projections.duckdb"], "nothing may be created"


def test_export_of_a_missing_journal_is_bad_input(tmp_path: Path) -> None:
    one_line_error(["export", tmp_path / "nope", "--parquet", tmp_path / "x.parquet"], "no such journal directory")
    assert not (tmp_path / "x.parquet").exists()


def test_a_segment_that_is_not_a_segment_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000001.seg").write_bytes(b"PK\x03\x04 definitely a zip file" * 3)
    one_line_error(["stats", tmp_path], f"{tmp_path / '00000000000000000001.seg'}: corrupt segment header")


def test_a_short_segment_header_is_bad_input(journal: Path, tmp_path: Path) -> None:
    seg = tmp_path / "00000000000000000001.seg"
    seg.write_bytes((journal / seg.name).read_bytes()[: HEADER_SIZE - 1])
    one_line_error(["verify", tmp_path], f"{seg}: corrupt segment header")


def test_bad_option_values_are_bad_input(journal: Path, tmp_path: Path) -> None:
    one_line_error(["tail", journal, "-n", "-1"], "-n -1")
    one_line_error(["bench", "--events", "0"], "--events 0")
    one_line_error(["export", journal, "--parquet", tmp_path], "is a directory")
    rc, _, err = run_cli("tail", journal, "-n", "many")
    assert rc == 2 and "Traceback" not in err


def test_other_files_in_the_journal_directory_are_ignored(journal: Path, tmp_path: Path) -> None:
    import shutil

    work = tmp_path / "j"
    shutil.copytree(journal, work)
    (work / "projections.duckdb").write_bytes(b"duck")
    (work / "control").mkdir()
    (work / "notes.seg.txt").write_text("not a segment")
    assert run_cli("verify", work)[0] == 0
    with JournalWriter.open(work) as writer:
        assert writer.last_seq == 500 and writer.recovered is None


@pytest.mark.parametrize("args, names", [
    (("replay",), "Missing argument 'directory'"),
    (("verify", "--bogus"), "--bogus"),
    (("nosuch",), "No such command 'nosuch'"),
    (("sql", ".", "SELECT 1", "--format", "xml"), "--format"),
])
def test_usage_errors_are_one_line_on_stderr_with_exit_2(args, names) -> None:
    rc, out, err = run_cli(*args)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journal: error: ") and names in lines[0], err


def test_ctrl_c_in_a_command_says_aborted_and_exits_130(journal: Path, monkeypatch) -> None:
    import cli.replay_cmd

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.replay_cmd, "replay_journal", interrupted)
    rc, out, err = run_cli("replay", journal)
    assert rc == 130 and out == "" and err.strip().splitlines() == ["journal: aborted"]
