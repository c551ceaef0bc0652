"""Print a query result as a rich table, CSV or JSON, streaming rows in chunks.

JSON: one array of objects; JSON-typed columns (e.g. events.payload) are embedded as
objects, NaN/inf become null, timestamps ISO strings. CSV: a header row, then rows.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
import uuid
from typing import Any, Iterator, TextIO

import duckdb
from rich.console import Console
from rich.table import Table

from projections.db import QueryError, one_line

FORMATS = ("table", "csv", "json")
CHUNK = 10_000


def _rows(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    try:
        while chunk := cursor.fetchmany(CHUNK):
            yield from chunk
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {one_line(exc)}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _columns(cursor: duckdb.DuckDBPyConnection) -> tuple[list[str], list[bool]]:
    names = [d[0] for d in cursor.description]
    is_json = [str(d[1]).upper() == "JSON" for d in cursor.description]
    return names, is_json


def write_json(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    names, is_json = _columns(cursor)
    count = 0
    out.write("[")
    for row in _rows(cursor):
        obj = {n: (json.loads(v) if j and isinstance(v, str) else _plain(v)) for n, v, j in zip(names, row, is_json)}
        out.write(("," if count else "") + "\n" + json.dumps(obj, ensure_ascii=False, allow_nan=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_csv(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    names, _ = _columns(cursor)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for row in _rows(cursor):
        writer.writerow(["" if v is None else (json.dumps(_plain(v)) if isinstance(v, (list, dict)) else v)
                         for v in row])
        count += 1
    return count


def write_table(cursor: duckdb.DuckDBPyConnection, console: Console, max_rows: int) -> int:
    names, _ = _columns(cursor)
    table = Table(*names, show_lines=False, header_style="bold")
    count = 0
    for row in _rows(cursor):
        if count < max_rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        count += 1
    console.print(table)
    more = count - min(count, max_rows)
    tail = f", first {max_rows} shown (use --max-rows or --format csv)" if more else ""
    console.print(f"{count} row{'s' if count != 1 else ''}{tail}", style="dim")
    return count


def write_result(cursor: duckdb.DuckDBPyConnection, fmt: str, out: TextIO, max_rows: int = 1000) -> int:
    """Write every row of the executed query in `fmt`; returns the row count."""
    if cursor.description is None:
        return 0  # a statement without a result set
    if fmt == "json":
        return write_json(cursor, out)
    if fmt == "csv":
        return write_csv(cursor, out)
    width = None if out.isatty() else 250
    return write_table(cursor, Console(file=out, width=width, highlight=False), max_rows)
