"""`journal sql DIR "SELECT ..."` and `journal audit DIR --kill-switch` over the DuckDB projection."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from cli.apps import journal_app
from journal.errors import BadInput
# DuckDB and the audit are imported inside the commands: loading them (0.1 s) slowed every `bot` command.


@journal_app.command("sql")
def sql_command(
    directory: Path = typer.Argument(..., help="Journal directory."),
    query: str = typer.Argument(..., help="SQL over the views: events, candles, signals, orders, fills, trades, "
                                          "stops, equity, anchors, kill_switch, ... (README 'SQL views')."),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    max_rows: int = typer.Option(1000, "--max-rows", min=1, help="Rows shown in table format (csv/json: all)."),
) -> None:
    """Run any SQL query over the journal's DuckDB projection (built or caught up first)."""
    from projections.db import connect, run_query
    from projections.sql_output import FORMATS, write_result

    if fmt not in FORMATS:
        raise BadInput(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    con = connect(directory, read_only_query=True)
    try:
        write_result(run_query(con, query), fmt, sys.stdout, max_rows=max_rows)
    finally:
        con.close()


@journal_app.command("audit")
def audit_command(
    directory: Path = typer.Argument(..., help="Journal directory."),
    kill_switch: bool = typer.Option(False, "--kill-switch", help="Audit every kill-switch trip."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    window_sec: int = typer.Option(60, "--window-sec", min=1,
                                   help="Trigger window for trips that name no error seqs nor a window."),
) -> None:
    """Post-incident audit: each kill-switch trip, its trigger, the state it hit, what followed."""
    if not kill_switch:
        raise BadInput("journal audit: choose what to audit (available: --kill-switch)")
    from projections.audit import kill_switch_audit
    from projections.audit_render import render_audit
    from projections.db import connect

    con = connect(directory, read_only_query=True)
    try:
        trips = kill_switch_audit(con, default_window_sec=window_sec)
    finally:
        con.close()
    if as_json:
        print(json.dumps({"journal": str(directory), "trips": len(trips), "kill_switch": trips}, indent=2,
                         allow_nan=False))
        return
    render_audit(trips, Console(highlight=False, width=None if sys.stdout.isatty() else 160))
