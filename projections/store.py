"""The projection's DuckDB file: create, check, catch up incrementally, or drop and rebuild.

State kept in `projection_meta`: the schema fingerprint, the last applied seq and the
fingerprints of the first and the last applied record. On every catch-up both are
compared with the journal; any mismatch (another journal in the directory, a rewritten
history, a changed projection schema) drops every table and replays from seq 1.
Each batch commits together with its meta row, so an interrupted build resumes cleanly.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import duckdb

from journal.segments import list_segments
from projections.loader import apply_batch, chunks, record_fingerprint, to_arrow
from projections.schema import EVENTS, META_DDL, TABLES, schema_fingerprint
from projections.views import VIEWS

RecordSource = Callable[[Path, int], Iterable[Any]]
"""(journal_dir, from_seq) -> records in seq order (journal.reader.read_records)."""


@dataclass
class CatchUp:
    applied: int  # records loaded by this call
    rebuilt: bool  # tables were dropped and rebuilt from seq 1
    last_seq: int


def journal_signature(journal_dir: Path) -> str:
    """Cheap identity of the journal's bytes (segment names, sizes, mtimes, inodes).

    Unchanged signature = nothing appended or rewritten: a catch-up needs no read at all.
    BadInput for a missing or non-journal directory."""
    h = hashlib.blake2b(digest_size=16)
    for seg in list_segments(journal_dir):
        st = seg.path.stat()
        h.update(f"{seg.name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino};".encode())
    return h.hexdigest()


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'projection_meta'").fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute("SELECT key, value FROM projection_meta").fetchall())


def _set_meta(con: duckdb.DuckDBPyConnection, **values: str) -> None:
    con.executemany("INSERT OR REPLACE INTO projection_meta VALUES (?, ?)", list(values.items()))


def recreate(con: duckdb.DuckDBPyConnection) -> None:
    """Drop everything in the projection and create empty tables, views and meta."""
    db = con.execute("SELECT current_database()").fetchone()[0]
    for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ? "
                               "AND schema_name = 'main' AND NOT internal", [db]).fetchall():
        con.execute(f'DROP VIEW IF EXISTS "{name}"')
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ? "
                               "AND schema_name = 'main'", [db]).fetchall():
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
    con.execute(META_DDL)
    con.execute(EVENTS.ddl())
    for spec in TABLES:
        con.execute(spec.ddl())
    for name, select in VIEWS.items():
        con.execute(f"CREATE VIEW {name} AS {select}")
    _set_meta(con, schema=schema_fingerprint(), last_seq="0", first_fp="", last_fp="", signature="")


def _still_matches(meta: dict[str, str], first: Any, source: RecordSource, journal_dir: Path,
                   last: int) -> Iterator[Any] | None:
    """Iterator over the records after `last` if the stored prefix is still the journal's; else None."""
    if first is None or record_fingerprint(first) != meta.get("first_fp"):
        return None
    it = iter(source(journal_dir, last))
    head = next(it, None)
    if head is None or head.seq != last or record_fingerprint(head) != meta.get("last_fp"):
        return None
    return it


def _prepared(records: Iterator[Any]) -> Iterator[tuple[Any, Any, Any]]:
    """(Arrow batch, its first record, its last record) per chunk of records."""
    for batch in chunks(records):
        yield to_arrow(batch), batch[0], batch[-1]


def catch_up(con: duckdb.DuckDBPyConnection, journal_dir: Path, source: RecordSource,
             signature: str) -> CatchUp:
    """Bring the projection up to the journal's last whole record.

    `signature`: journal_signature() taken before reading; stored once fully caught up."""
    meta = read_meta(con)
    rebuilt = False
    last = int(meta.get("last_seq", 0) or 0)
    current = meta.get("schema") == schema_fingerprint()
    if current and signature and meta.get("signature") == signature:
        return CatchUp(applied=0, rebuilt=False, last_seq=last)
    rest = None
    if current and last > 0:
        first = next(iter(source(journal_dir, 1)), None)
        rest = _still_matches(meta, first, source, journal_dir, last)
    if rest is None:
        rebuilt = last > 0 or (bool(meta) and not current)
        con.begin()
        recreate(con)
        con.commit()
        last = 0
        rest = iter(source(journal_dir, 1))
    applied = 0
    for table, head, tail in _prepared(rest):
        con.begin()
        apply_batch(con, table)
        values = {"last_seq": str(tail.seq), "last_fp": record_fingerprint(tail)}
        if last == 0 and applied == 0:
            values["first_fp"] = record_fingerprint(head)
        _set_meta(con, **values)
        con.commit()
        applied += table.num_rows
        last = tail.seq
    _set_meta(con, signature=signature)
    return CatchUp(applied=applied, rebuilt=rebuilt, last_seq=last)
