"""`journal verify|stats|tail|repair|export|bench`: the storage commands of the journal CLI."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cli.apps import journal_app
from journal.errors import BadInput

DirArg = typer.Argument(..., help="Journal directory.", show_default=False)


def _table(title: str, rows: dict) -> Table:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("key", style="bold")
    table.add_column("value", justify="right")
    for key, value in rows.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value))
    return table


@journal_app.command("verify")
def verify(directory: Path = DirArg) -> None:
    """Check framing, checksums, seq order and the hash chain of every record.

    Exit 0 when all hold; exit 1 naming the segment, byte offset and seq of the first bad record."""
    from journal.verify import verify_journal

    summary = verify_journal(directory)
    note = " (a writer is appending)" if summary["writer_active"] else ""
    upcast = f", {summary['upcast_records']} upcast from older schemas" if summary["upcast_records"] else ""
    print(
        f"ok: {summary['records']} records in {summary['segments']} segments, last seq {summary['last_seq']}, "
        f"last digest {summary['last_digest']}{upcast}{note}"
    )


@journal_app.command("stats")
def stats(directory: Path = DirArg, as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Records, segments, bytes, first/last seq and ts, last digest and content digest."""
    from journal.stats import journal_stats

    result = journal_stats(directory)
    if as_json:
        print(json.dumps(result))
    else:
        Console().print(_table(f"journal {directory}", result))


@journal_app.command("tail")
def tail(
    directory: Path = DirArg,
    n: int = typer.Option(10, "-n", "--lines", help="How many of the last records to show."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing records as they are appended."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Print the last N records; with --follow keep printing new ones (Ctrl-C stops)."""
    from journal.reader import follow_records
    from journal.tail import last_seq, record_json, record_line, tail_records

    if n < 0:
        raise BadInput(f"-n {n}: must be >= 0")
    show = (lambda r: sys.stdout.write(record_json(r).decode() + "\n")) if as_json else (lambda r: print(record_line(r)))
    if not follow:
        for rec in tail_records(directory, n) if n else ():
            show(rec)
        return
    start = max(1, last_seq(directory) - n + 1)
    try:
        for rec in follow_records(directory, from_seq=start):
            show(rec)
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


@journal_app.command("repair")
def repair(directory: Path = DirArg) -> None:
    """Cut a torn tail into a quarantine file and record a journal_recovered event.

    Never touches records before the tail: damage there exits 1 naming where it is."""
    from journal.segments import list_segments
    from journal.writer import JournalWriter

    list_segments(directory)  # a repair needs an existing journal; never create one here
    with JournalWriter.open(directory) as writer:
        rec = writer.recovered
        if rec is None:
            print(f"nothing to repair: {writer.last_seq} whole records, no torn tail")
        else:
            print(
                f"cut {rec.cut_bytes} bytes at byte offset {rec.offset} of {rec.segment} into {rec.quarantine_file}; "
                f"last good seq {rec.last_good_seq}; journal_recovered recorded as seq {writer.last_seq}"
            )


@journal_app.command("export")
def export(
    directory: Path = DirArg,
    parquet: Path = typer.Option(..., "--parquet", help="Output file: one table, event as a JSON column."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
) -> None:
    """Write every record to one parquet table (seq, ts, recorded_at, v, kind, symbol, payload JSON)."""
    from journal.export import export_parquet

    if parquet.is_file() and not force:
        raise BadInput(f"{parquet}: already exists (--force replaces it)")

    rows = export_parquet(directory, parquet)
    print(f"wrote {rows} rows to {parquet}")


@journal_app.command("bench")
def bench(
    events: int = typer.Option(100_000, "--events", help="Events to append in each run."),
    out: Optional[Path] = typer.Option(None, "--out", help="Leave the durable run's journal in this directory."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    max_seconds: float = typer.Option(
        6.0, "--max-seconds", help="Time cap of the fsync-bound durable/raw phase (0: append all events)."
    ),
) -> None:
    """Append throughput (durable: one fsync per decision batch; batched) and read+verify throughput,
    beside the raw write+fsync rate of the same disk."""
    from journal.bench import run_bench

    if events < 1:
        raise BadInput(f"--events {events}: must be >= 1")
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"{out}: --out must be a new or empty directory")
    if max_seconds < 0:
        raise BadInput(f"--max-seconds {max_seconds}: must be >= 0")
    result = run_bench(events, out, max_seconds)
    if as_json:
        print(json.dumps(result))
        return
    table = Table(title=f"journal bench: {result['events']:,} events, {result['cpu']} ({result['cores']} cores, "
                        f"load average {result['load_average']})")
    for col in ("measure", "events/s", "note"):
        table.add_column(col, justify="right" if col == "events/s" else "left")
    table.add_row("append, durable", f"{result['append_durable_eps']:,}",
                  f"{result['durable_batches']:,} batches ({result['durable_events']:,} events, "
                  f"~{result['events_per_batch']} per batch), one fdatasync each")
    table.add_row("raw write+fdatasync", f"{result['raw_fsync_eps']:,}",
                  f"{result['bytes_per_event']} B per write, interleaved with the durable run; "
                  f"durable/raw = {result['durable_vs_raw']}")
    table.add_row("append, batched", f"{result['append_batched_eps']:,}",
                  f"fsync at close; {result['append_batched_cpu_eps']:,}/s of CPU time")
    table.add_row("read + full verify", f"{result['read_verify_eps']:,}",
                  f"CRC32C, seq, BLAKE2b chain, typed decode; {result['read_verify_cpu_eps']:,}/s of CPU time")
    Console().print(table)
    if out is not None:
        print(f"durable journal left in {out}")
