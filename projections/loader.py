"""Turn journal records into one Arrow batch and load it into every projection table.

Python touches each record once (tag, symbol, JSON payload); everything else — picking
the rows of each kind, parsing their payload into typed columns, inserting — is one
vectorised DuckDB statement per table.
"""
from __future__ import annotations

import hashlib
from itertools import islice
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import duckdb
import msgspec

if TYPE_CHECKING:  # imported when a batch is built: a caught-up `journal sql` never pays for it
    import pyarrow as pa

from journal.events import TAGS
from projections.schema import TABLES

BATCH_RECORDS = 200_000
_TAG_OF: dict[type, str] = {cls: tag for tag, cls in TAGS.items()}
_JSON = msgspec.json.Encoder()
_BATCH_VIEW = "projection_batch_in"


def chunks(records: Iterable[Any], size: int | None = None) -> Iterator[list[Any]]:
    it, size = iter(records), size or BATCH_RECORDS
    while batch := list(islice(it, size)):
        yield batch


def fingerprint(seq: int, ts: int, payload: bytes) -> str:
    """Identity of one record's content (not its wall time): detects a different journal."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{seq}:{ts}:".encode())
    h.update(payload)
    return h.hexdigest()


def record_fingerprint(record: Any) -> str:
    return fingerprint(record.seq, record.ts, _JSON.encode(record.event))


def to_arrow(records: Sequence[Any]) -> "pa.Table":
    """Records -> Arrow table (seq, ts, recorded_at, v, kind, symbol, payload JSON text)."""
    import pyarrow as pa

    seqs, tss, recorded, versions, kinds, symbols, payloads = [], [], [], [], [], [], []
    tag_of, encode = _TAG_OF, _JSON.encode
    for rec in records:
        ev = rec.event
        seqs.append(rec.seq)
        tss.append(rec.ts)
        recorded.append(rec.recorded_at)
        versions.append(rec.v)
        kinds.append(tag_of[type(ev)])
        symbols.append(getattr(ev, "symbol", None))
        payloads.append(encode(ev))
    return pa.table({
        "seq": pa.array(seqs, pa.int64()),
        "ts": pa.array(tss, pa.int64()),
        "recorded_at": pa.array(recorded, pa.int64()),
        "v": pa.array(versions, pa.int32()),
        "kind": pa.array(kinds, pa.string()),
        "symbol": pa.array(symbols, pa.string()),
        "payload": pa.array(payloads, pa.binary()).cast(pa.string()),
    })


def apply_batch(con: duckdb.DuckDBPyConnection, batch: "pa.Table") -> None:
    """Insert one batch into events_t and every typed table (caller owns the transaction)."""
    con.register(_BATCH_VIEW, batch)
    try:
        con.execute(f"INSERT INTO events_t SELECT seq, ts, recorded_at, v, kind, symbol, payload "
                    f"FROM {_BATCH_VIEW}")
        for spec in TABLES:
            con.execute(spec.insert_sql(_BATCH_VIEW))
    finally:
        con.unregister(_BATCH_VIEW)
