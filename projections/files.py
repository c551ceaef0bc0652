"""Opening the projection's DuckDB file: read-write, shared read-only, or giving up (caller
falls back to memory). DuckDB allows one writing process or several reading ones per file."""
from __future__ import annotations

from pathlib import Path

import duckdb

from projections.schema import schema_fingerprint
from projections.store import read_meta

_DAMAGED = ("not a valid DuckDB database", "version number", "corrupt", "Corrupt", "checksum")


def open_read_write(path: Path) -> duckdb.DuckDBPyConnection | None:
    """The projection file opened read-write, or None when another process holds it / unwritable."""
    try:
        return duckdb.connect(str(path))
    except OSError:
        return None
    except duckdb.Error as exc:
        if not any(sign in str(exc) for sign in _DAMAGED):
            return None  # locked by another process, opened differently in this one, no permission
    # Not a usable DuckDB file (damaged, or from an incompatible DuckDB): it is only a cache.
    try:
        for stale in (path, path.with_name(path.name + ".wal")):
            stale.unlink(missing_ok=True)
        return duckdb.connect(str(path))
    except (duckdb.Error, OSError):
        return None


def open_current_read_only(path: Path, signature: str) -> duckdb.DuckDBPyConnection | None:
    """The projection file read-only, if it is already caught up with this journal signature.

    Several processes may hold a DuckDB file read-only at once (but not beside a writer)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except (duckdb.Error, OSError):
        return None
    meta = read_meta(con)
    if meta.get("schema") == schema_fingerprint() and meta.get("signature") == signature:
        return con
    con.close()
    return None


def reopen(path: Path) -> duckdb.DuckDBPyConnection | None:
    """Read-only when possible; else read-write (this process already holds the file read-write)."""
    for read_only in (True, False):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except (duckdb.Error, OSError):
            continue
    return None
