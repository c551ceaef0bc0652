"""Public entry of the read side: a DuckDB connection where every projection view exists.

    connect(journal_dir, read_only_query=False) -> duckdb.DuckDBPyConnection
    query_df(journal_dir, sql) -> pandas.DataFrame

The projection lives in `DIR/projections.duckdb` (the journal reader ignores it) and is
caught up on each connect. Another process holding that file never fails a query: an
up-to-date file is shared read-only, otherwise (another process writes it, or the
directory is unwritable) the projection is built in memory from the journal. Close the
connection when done: an open read-write connection keeps other processes off the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import duckdb

from journal.errors import BadInput
from projections.files import open_current_read_only, open_read_write, reopen
from projections.store import CatchUp, RecordSource, catch_up, journal_signature, read_meta

if TYPE_CHECKING:  # pandas costs ~1 s of import time; `journal sql` never needs it
    import pandas as pd

DB_FILE = "projections.duckdb"


class QueryError(BadInput):
    """DuckDB refused a query (syntax, unknown column, ...): exit 2 with its message in one line."""


def one_line(exc: BaseException) -> str:
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


def _journal_records(journal_dir: Path, from_seq: int) -> Iterable[Any]:
    from journal.reader import read_records

    return read_records(journal_dir, from_seq=from_seq)


def connect_with_stats(journal_dir: str | Path, read_only_query: bool = False,
                       source: RecordSource = _journal_records) -> tuple[duckdb.DuckDBPyConnection, CatchUp, bool]:
    """connect() plus how the catch-up went and whether the in-memory fallback was used."""
    journal_dir = Path(journal_dir)
    signature = journal_signature(journal_dir)  # BadInput here for a missing/non-journal dir
    path = journal_dir / DB_FILE
    con = open_read_write(path)
    if con is not None:
        try:
            result = catch_up(con, journal_dir, source, signature)
        except BaseException:
            con.close()
            raise
        if not read_only_query:
            return con, result, False
        con.close()
        reopened = reopen(path)
        if reopened is not None:
            return reopened, result, False
    else:
        current = open_current_read_only(path, signature)
        if current is not None:
            return current, CatchUp(applied=0, rebuilt=False, last_seq=int(read_meta(current)["last_seq"])), False
    con = duckdb.connect(":memory:")  # the file is held by another process: build in memory
    return con, catch_up(con, journal_dir, source, signature), True


def connect(journal_dir: str | Path, read_only_query: bool = False) -> duckdb.DuckDBPyConnection:
    """Build or catch up the projection of `journal_dir`; a connection where all views exist.

    read_only_query=True returns a read-only connection to the projection file (queries
    cannot alter it), used by `journal sql`."""
    return connect_with_stats(journal_dir, read_only_query)[0]


def sandbox(con: duckdb.DuckDBPyConnection) -> None:
    """No file, network or extension access from here on, for good (`lock_configuration`): a query
    over the views must not read `/proc/self/environ` or config.json (secrets), write files with
    COPY, ATTACH other databases or install extensions. The projection is already open."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Execute one user query in the sandbox (rows are fetched from the returned cursor); DuckDB
    errors become QueryError (exit 2, one line)."""
    try:
        if not duckdb.extract_statements(sql):
            raise QueryError("empty SQL query")
        sandbox(con)
        return con.execute(sql)
    except duckdb.Error as exc:
        raise QueryError(f"SQL error: {one_line(exc)}") from None


def query_df(journal_dir: str | Path, sql: str) -> "pd.DataFrame":
    """Run `sql` over the projection views of `journal_dir` and return the rows as a DataFrame."""
    import pandas as pd

    con = connect(journal_dir, read_only_query=True)
    try:
        cursor = run_query(con, sql)
        if cursor.description is None:
            return pd.DataFrame()
        try:
            return cursor.df()
        except duckdb.Error as exc:
            raise QueryError(f"SQL error: {one_line(exc)}") from None
    finally:
        con.close()
