"""`journal export --parquet`: one table, one row per record, the event as a JSON column.

Columns: seq int64, ts int64 (event time, ms UTC), recorded_at int64 (wall ms), v int16
(schema version written), kind string, symbol string (null for events without one),
payload string (the event as JSON in today's schema, including kind and ts).
One table keeps seq order and lets DuckDB/pandas filter by kind and unpack with
json_extract; events are upcast to today's schema first.
"""
from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from journal.errors import BadInput
from journal.events import kind_of
from journal.reader import read_records

SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("ts", pa.int64()),
        ("recorded_at", pa.int64()),
        ("v", pa.int16()),
        ("kind", pa.string()),
        ("symbol", pa.string()),
        ("payload", pa.string()),
    ]
)
BATCH_ROWS = 65_536


def export_parquet(path: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Write the whole journal to `out` (a file); returns the number of rows."""
    target = Path(out)
    if target.is_dir():
        raise BadInput(f"{target}: is a directory; --parquet takes a file path")
    records = read_records(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    encode = msgspec.json.Encoder().encode
    rows = 0
    tmp = target.with_name(target.name + ".tmp")
    with pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        columns: dict[str, list] = {name: [] for name in SCHEMA.names}
        for rec in records:
            ev = rec.event
            columns["seq"].append(rec.seq)
            columns["ts"].append(rec.ts)
            columns["recorded_at"].append(rec.recorded_at)
            columns["v"].append(rec.v)
            columns["kind"].append(kind_of(ev))
            columns["symbol"].append(getattr(ev, "symbol", None))
            columns["payload"].append(encode(ev).decode())
            rows += 1
            if len(columns["seq"]) >= BATCH_ROWS:
                writer.write_table(pa.table(columns, schema=SCHEMA))
                columns = {name: [] for name in SCHEMA.names}
        if columns["seq"] or rows == 0:
            writer.write_table(pa.table(columns, schema=SCHEMA))
    os.replace(tmp, target)
    return rows
