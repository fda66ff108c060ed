"""The query log's store from settings: ``logs.duckdb`` (default) or PostgreSQL, which API replicas share.

PostgreSQL (``api.log_store=postgres``, ``api.log_store_dsn``; Azure Database for PostgreSQL in the cloud): the
same tables as logs.duckdb (JSON -> JSONB, DOUBLE -> DOUBLE PRECISION). Each spool file's batch is one
transaction that first takes an advisory lock on the file (``pg_advisory_xact_lock``), reads the file's stored
offset, inserts the rows with ``ON CONFLICT (id) DO NOTHING`` and upserts the new offset: exactly once, even
with two flushers on one file (several machines sharing a spool folder, or a missing flock). One connection
per flush: a restarted or failed-over server costs one failed flush, never a stuck connection; the lines wait
in the spool meanwhile. The connection string is never logged, nor any error text that could quote it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.querylog import COLUMNS, JSON_COLUMNS, DuckDBStore, LogSession, LogStore, Take
from fda.errors import ConfigError, FDAError
from fda.settings import Settings

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)

DSN_ENV = "FDA_API__LOG_STORE_DSN"
PG_TYPES = {  # logs.duckdb's columns (api/querylog.py SCHEMA) in PostgreSQL's types
    "id": "TEXT PRIMARY KEY",
    "ts": "TIMESTAMP",
    "citations": "JSONB",
    "timings": "JSONB",
    "usage": "JSONB",
    "cannot_answer": "BOOLEAN",
    "refused": "BOOLEAN",
    "fallback": "BOOLEAN",
    "cached": "BOOLEAN",
    "invalid_citations": "INTEGER",
    "latency_ms": "DOUBLE PRECISION",
}
PG_SCHEMA = (
    "".join(
        f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(c + ' ' + PG_TYPES.get(c, 'TEXT') for c in cols)});\n"
        for table, cols in COLUMNS.items()
    )
    + "CREATE TABLE IF NOT EXISTS spool_offsets (file TEXT PRIMARY KEY, byte_offset BIGINT NOT NULL);"
)
INSERT = {  # explicit casts: a row's Python types never decide a column's
    table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ("
    + ", ".join("%s::" + PG_TYPES[c].removesuffix(" PRIMARY KEY") if c in PG_TYPES else "%s" for c in cols)
    + ") ON CONFLICT (id) DO NOTHING"
    for table, cols in COLUMNS.items()
}
SCHEMA_LOCK = 0x66646171756572  # pg_advisory_xact_lock key while creating the tables
FILE_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('fda.spool:' || %s, 0))"


class LogStoreError(FDAError):
    """The PostgreSQL query-log store cannot be reached or refused a flush; the lines stay in the spool."""

    hint = (
        f"Check {DSN_ENV} (host, port, database, user, password) and that the server is up and reachable; "
        "the lines wait in the spool folder and the next flush retries."
    )


def open_log_store(settings: Settings, logs_db: Path) -> LogStore:
    """The store ``api.log_store`` names: DuckDB at ``logs_db``, or PostgreSQL at ``api.log_store_dsn``."""
    if settings.api.log_store == "duckdb":
        return DuckDBStore(logs_db)
    if settings.api.log_store_dsn is None or not settings.api.log_store_dsn.get_secret_value().strip():
        raise ConfigError(
            "api.log_store=postgres needs a connection string",
            hint=f"Set {DSN_ENV}=postgresql://user:password@host:5432/dbname (in Azure: the fda-postgres-dsn "
            "secret in Key Vault), or FDA_API__LOG_STORE=duckdb.",
        )
    return PostgresStore(settings.api.log_store_dsn.get_secret_value())


class PostgresStore:
    def __init__(self, dsn: str, connect_timeout_s: int = 10, lock_timeout_s: float = 30) -> None:
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._lock_timeout_ms = int(lock_timeout_s * 1000)
        self._schema_ready = False

    def __repr__(self) -> str:
        return "PostgresStore(<dsn hidden>)"

    @contextmanager
    def session(self) -> Iterator[LogSession]:
        try:
            import psycopg
        except ImportError as err:
            raise ConfigError(
                "api.log_store=postgres needs psycopg", hint="pip install 'psycopg[binary]' (the azure extra)"
            ) from err
        connected = False
        try:
            with psycopg.connect(self._dsn, **self._connect_kwargs()) as conn:
                connected = True
                if not self._schema_ready:
                    _create_tables(conn)
                    self._schema_ready = True
                yield _PostgresSession(conn)
        except psycopg.Error as err:
            self._schema_ready = False  # a new database (failover to an empty one) gets its tables again
            raise self._error(err, connected) from None  # `from None`: psycopg's text could quote the DSN

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"autocommit": True}  # each unit of work is an explicit transaction
        if "connect_timeout" not in self._dsn:  # the DSN's own timeout wins
            kwargs["connect_timeout"] = self._connect_timeout_s
        if "application_name" not in self._dsn:
            kwargs["application_name"] = "fda-api"
        if "keepalives" not in self._dsn:  # a server gone silent (network cut) is noticed in about a minute
            kwargs.update(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        if "options" not in self._dsn:  # a flusher waiting on a file's lock, or a stuck insert, gives up and retries
            kwargs["options"] = f"-c lock_timeout={self._lock_timeout_ms} -c statement_timeout=120s"
        return kwargs

    def _secrets(self) -> list[str]:
        out = [self._dsn]
        try:
            from psycopg.conninfo import conninfo_to_dict

            password = conninfo_to_dict(self._dsn).get("password")
            if password:
                out.append(str(password))
        except Exception:  # an unparsable DSN: the URI form's user:password below still goes
            pass
        if m := re.search(r"://([^@/]*)@", self._dsn):
            out += [m.group(1), m.group(1).partition(":")[2]]
        return sorted((s for s in out if s), key=len, reverse=True)

    def _error(self, err: psycopg.Error, connected: bool) -> LogStoreError:
        import psycopg

        if not connected and isinstance(err, psycopg.ProgrammingError):  # libpq's parse errors quote the DSN
            return LogStoreError(f"{DSN_ENV} is not a valid libpq connection string ({type(err).__name__})")
        text = next((line.strip() for line in str(err).splitlines() if line.strip()), type(err).__name__)
        for secret in self._secrets():
            text = text.replace(secret, "***")
        if not connected:
            return LogStoreError(f"PostgreSQL query-log store unreachable or refused the connection: {text}")
        return LogStoreError(f"PostgreSQL query-log store failed a flush ({type(err).__name__}): {text}")


def _create_tables(conn: psycopg.Connection[Any]) -> None:
    """The tables, unless they are there: a user with only row rights (no CREATE on the schema) can flush."""
    exists = "SELECT " + " AND ".join(f"to_regclass('{t}') IS NOT NULL" for t in [*COLUMNS, "spool_offsets"])
    row = conn.execute(exists).fetchone()
    if row and row[0]:
        return
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])  # concurrent CREATEs clash in pg_type
        conn.execute(PG_SCHEMA)


class _PostgresSession:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def offsets(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT file, byte_offset FROM spool_offsets").fetchall()
        return {str(f): int(o) for f, o in rows}

    def _locked_offset(self, file: str) -> int:
        self.conn.execute(FILE_LOCK, [file])  # released at commit or rollback
        row = self.conn.execute("SELECT byte_offset FROM spool_offsets WHERE file = %s", [file]).fetchone()
        return int(row[0]) if row else 0  # READ COMMITTED: sees what the lock's previous holder committed

    def consume(self, file: str, take: Take) -> tuple[int, int]:
        written = 0
        with self.conn.transaction():
            start = self._locked_offset(file)
            end, rows = take(start)
            if end > start:
                with self.conn.cursor() as cur:
                    for table, values in rows.items():
                        if values:
                            cur.executemany(INSERT[table], [_pg_safe(table, v) for v in values])  # pipelined
                            written += len(values)
                self.conn.execute(
                    "INSERT INTO spool_offsets VALUES (%s, %s) "
                    "ON CONFLICT (file) DO UPDATE SET byte_offset = EXCLUDED.byte_offset",
                    [file, end],
                )
        return end, written

    def forget(self, file: str, offset: int, remove: Callable[[], None]) -> None:
        with self.conn.transaction():
            if self._locked_offset(file) == offset:
                self.conn.execute("DELETE FROM spool_offsets WHERE file = %s", [file])
                remove()  # before the commit: a failed commit leaves a stale row, never a re-read file


def _pg_safe(table: str, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """PostgreSQL's text and JSONB hold no NUL character (DuckDB's do): U+FFFD instead, so a hostile comment
    cannot wedge the flusher on a line it can never insert."""
    return tuple(_no_nul(v, c in JSON_COLUMNS) for c, v in zip(COLUMNS[table], values, strict=True))


def _no_nul(value: Any, is_json: bool) -> Any:
    if not isinstance(value, str):
        return value
    if is_json:
        return json.dumps(_strip(json.loads(value))) if "\\u0000" in value else value
    return value.replace("\x00", "\ufffd")


def _strip(obj: Any) -> Any:
    if isinstance(obj, str):
        return obj.replace("\x00", "\ufffd")
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    if isinstance(obj, dict):
        return {_strip(k): _strip(v) for k, v in obj.items()}
    return obj
