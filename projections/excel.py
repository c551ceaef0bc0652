"""The report workbook a trader opens: metrics, trades, equity, periods, breakdowns and charts.

Written with openpyxl in write-only mode (streams rows, so a long equity curve stays fast).
Every sheet has one bold header row and no index column; NaN/inf become empty cells.
"""
from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from journal.errors import BadInput
from projections.excel_charts import add_charts
from projections.report import Report, clean, flat_metrics

PERCENT_COLUMNS = {"win_rate", "return", "drawdown", "mdd", "total_return"}
TRADE_SHEET_COLUMNS = ["trade_id", "symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price",
                       "qty", "pnl", "fees", "return", "holding_s", "exit_reason", "entry_ts", "exit_ts"]
EQUITY_SHEET_COLUMNS = ["time", "equity", "peak", "drawdown", "ts", "marks"]
PERIOD_SHEET_COLUMNS = ["period", "start_equity", "end_equity", "change", "return"]


def _write_table(wb: Workbook, title: str, header: list[str], rows: Iterable[Iterable[Any]]) -> Any:
    """A sheet with one bold header row; `rows` hold clean values (no NaN/inf, naive UTC datetimes)."""
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    for i, name in enumerate(header):
        ws.column_dimensions[get_column_letter(i + 1)].width = max(12, len(name) + 2)
    ws.append([_styled(ws, name, font=bold) for name in header])
    percent = [i for i, name in enumerate(header) if name in PERCENT_COLUMNS or name.endswith("_win_rate")]
    for row in rows:
        row = list(row)
        for i in percent:  # only these cells pay for a styled cell; the rest are plain values
            if isinstance(row[i], (int, float)):
                row[i] = _styled(ws, row[i], number_format="0.00%")
        ws.append(row)
    return ws


def _styled(ws: Any, value: Any, font: Font | None = None, number_format: str | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _clean_column(column: pd.Series) -> list[Any]:
    """One column as Excel-safe Python values, converted in bulk (NaN/inf -> None, UTC -> naive)."""
    if pd.api.types.is_datetime64_any_dtype(column):
        naive = column.dt.tz_convert(None) if column.dt.tz is not None else column
        return [None if pd.isna(v) else v.to_pydatetime() for v in naive]
    if pd.api.types.is_float_dtype(column):
        values = column.to_numpy(dtype="float64")
        return [float(v) if math.isfinite(v) else None for v in values]
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.tolist()
    return [clean(v) for v in column]


def _frame_rows(frame: pd.DataFrame, columns: list[str]) -> Iterable[tuple]:
    frame = frame.reindex(columns=columns)
    return zip(*(_clean_column(frame[name]) for name in columns)) if len(frame) else iter(())


def _cells(row: Iterable[Any]) -> list[Any]:
    return [_clean_value(v) for v in row]


def _clean_value(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime().replace(tzinfo=None)
    value = clean(value)
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def _metric_rows(metrics: dict[str, Any]) -> list[list[Any]]:
    flat = flat_metrics(metrics)
    return [_cells([key, flat[key], flat.get(f"{key}_note")]) for key in flat if not key.endswith("_note")]


def _breakdown_rows(groups: dict[str, dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    return [_cells([name, *[stats.get(c) for c in columns]]) for name, stats in groups.items()]


def _breakdown_columns(groups: dict[str, dict[str, Any]]) -> list[str]:
    columns: list[str] = []
    for stats in groups.values():
        columns += [k for k in stats if k not in columns]
    return columns


def _resolution(report: Report) -> list[Any]:
    bucket = report.equity_bucket_ms
    how = ("one row per timestamp" if bucket == 1 else
           f"one row per {bucket // 60_000}-minute bucket: its last equity, highest peak and worst drawdown")
    return ["equity_sheet_rows", len(report.equity), how]


def write_workbook(report: Report, path: str | Path) -> Path:
    """Write the full report workbook to `path` (.xlsx) and return the path."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise BadInput(f"{path}: --xlsx file must end in .xlsx")
    wb = Workbook(write_only=True)
    _write_table(wb, "metrics", ["metric", "value", "note"], _metric_rows(report.metrics) + [_resolution(report)])
    _write_table(wb, "trades", TRADE_SHEET_COLUMNS, _frame_rows(report.trades, TRADE_SHEET_COLUMNS))
    equity = report.equity.assign(time=pd.to_datetime(report.equity["ts"], unit="ms"))
    _write_table(wb, "equity", EQUITY_SHEET_COLUMNS, _frame_rows(equity, EQUITY_SHEET_COLUMNS))
    for name, frame in report.returns.items():
        _write_table(wb, name, PERIOD_SHEET_COLUMNS, _frame_rows(frame, PERIOD_SHEET_COLUMNS))
    sides = {k: report.metrics[k] for k in ("long", "short")}
    for title, first, groups in (("by_symbol", "symbol", report.by_symbol), ("long_short", "side", sides)):
        columns = _breakdown_columns(groups)
        _write_table(wb, title, [first, *columns], _breakdown_rows(groups, columns))
    add_charts(wb, equity_rows=len(report.equity), monthly_rows=len(report.returns["monthly"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        wb.save(path)
    except OSError as exc:
        raise BadInput(f"{path}: cannot write workbook ({exc.strerror or exc})") from exc
    return path
