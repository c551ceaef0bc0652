"""`bot report --journal DIR [--xlsx PATH] [--csv DIR] [--json]`: the performance report of a journal."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from cli.apps import bot_app
from journal.errors import BadInput

PERCENT_KEYS = ("win_rate", "mdd", "total_return", "return")


def _shown(key: str, value: Any) -> str:
    from projections.report import clean

    value = clean(value)
    if value is None:
        return "-"
    if key.endswith("_ts") and isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, float):
        return f"{value:.2%}" if key.endswith(PERCENT_KEYS) else f"{value:,.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _print_table(doc: dict[str, Any], written: list[Path]) -> None:
    from projections.report import flat_metrics

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    table = Table(title="Performance report", show_lines=False)
    for name in ("metric", "value", "note"):
        table.add_column(name, justify="right" if name == "value" else "left")
    flat = flat_metrics({k: v for k, v in doc.items() if k not in ("by_symbol", "returns")})
    for key, value in flat.items():
        if not key.endswith("_note"):
            table.add_row(key, _shown(key, value), flat.get(f"{key}_note") or "")
    console.print(table)
    for symbol, stats in doc["by_symbol"].items():
        console.print(f"{symbol}: trades {stats['trades']}, win_rate {_shown('win_rate', stats['win_rate'])}, "
                      f"expectancy {_shown('', stats['expectancy'])}, net_pnl {_shown('', stats['net_pnl'])}")
    monthly = doc["returns"]["monthly"]
    if monthly:
        console.print("monthly returns: " + ", ".join(
            f"{row['period'][:7]} {_shown('return', row['return'])}" for row in monthly[-12:]))
    for path in written:
        console.print(f"wrote {path}")


@bot_app.command("report")
def report_command(
    journal: Path = typer.Option(..., "--journal", help="Journal directory to report on."),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write the Excel workbook here (.xlsx)."),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Also write the seed's CSV logs and summaries "
                                                            "under DIR/<env>/ (env = the journal's mode)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as one JSON object (snake_case keys)."),
) -> None:
    """Trade count, win rate, RRR, expectancy, profit factor, MDD, Sharpe, streaks, holding time,
    long/short, per symbol and daily/weekly/monthly returns (definitions: README "Reports")."""
    # imported here, not at module level, so other `bot` commands never pay for pandas/duckdb/openpyxl
    from projections.db import connect
    from projections.report import build_report, report_json

    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise BadInput(f"--xlsx {xlsx}: the workbook path must end in .xlsx")
    if csv is not None and csv.exists() and not csv.is_dir():
        raise BadInput(f"--csv {csv}: exists and is not a directory")
    con = connect(journal, read_only_query=True)
    written: list[Path] = []
    try:
        report = build_report(con, tables=xlsx is not None)
        if csv is not None:
            from projections.csv_logs import write_csv_logs

            written += write_csv_logs(con, csv)
    finally:
        con.close()
    if xlsx is not None:
        from projections.excel import write_workbook

        written.insert(0, write_workbook(report, xlsx))
    doc = report_json(report)
    if as_json:
        doc["journal"] = str(journal)
        doc["written"] = [str(p) for p in written]
        print(json.dumps(doc, allow_nan=False))  # compact: 1M-event journals give ~1 MB (pipe to jq)
    else:
        _print_table(doc, written)
