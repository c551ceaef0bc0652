"""Native Excel charts for the report workbook: equity curve, drawdown and monthly returns.

The charts live on their own `charts` sheet and point at the data sheets written by
projections.excel (equity: A=time, B=equity, D=drawdown; monthly: A=period, E=return),
so Excel draws them from the real cells.
"""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.chart import AreaChart, BarChart, LineChart, Reference
from openpyxl.utils import get_column_letter


def _ref(sheet: str, col: int, first_row: int, last_row: int) -> Reference:
    letter = get_column_letter(col)
    return Reference(range_string=f"'{sheet}'!${letter}${first_row}:${letter}${last_row}")


def _styled(chart, title: str, y_title: str, y_format: str):
    chart.title, chart.y_axis.title = title, y_title
    chart.y_axis.number_format = y_format
    chart.height, chart.width, chart.legend = 9, 24, None
    return chart


def _plot(chart, sheet: str, data_col: int, rows: int):
    """Series from `data_col` (header row = series title) against column A as categories."""
    chart.add_data(_ref(sheet, data_col, 1, rows + 1), titles_from_data=True)
    chart.set_categories(_ref(sheet, 1, 2, rows + 1))
    return chart


def add_charts(wb: Workbook, equity_rows: int, monthly_rows: int) -> None:
    """Add the `charts` sheet; a chart whose data sheet is empty is replaced by a note."""
    ws = wb.create_sheet("charts")
    if equity_rows == 0:
        ws.append(["no equity series in this journal: no equity or drawdown chart"])
    else:
        equity = _plot(_styled(LineChart(), "Equity curve", "equity (USDT)", "#,##0"), "equity", 2, equity_rows)
        equity.x_axis.number_format = "yyyy-mm-dd"
        equity.series[0].smooth = False
        ws.add_chart(equity, "A1")
        drawdown = _plot(_styled(AreaChart(), "Drawdown from running peak", "drawdown", "0%"),
                         "equity", 4, equity_rows)
        drawdown.y_axis.scaling.orientation = "maxMin"  # underwater: deeper drawdowns hang lower
        ws.add_chart(drawdown, "A20")
    if monthly_rows == 0:
        ws.append(["no monthly returns: no monthly returns chart"])
        return
    monthly = _plot(_styled(BarChart(), "Monthly returns", "return", "0.0%"), "monthly", 5, monthly_rows)
    monthly.type, monthly.x_axis.number_format = "col", "yyyy-mm"
    ws.add_chart(monthly, "A39")
