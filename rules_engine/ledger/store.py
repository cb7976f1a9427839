"""Opening the ledger: one writer (guarded by a lock file), any number of read-only readers.

SQLite in WAL mode: readers never block the writer and see the last committed cycle. Writes go
through :meth:`Ledger.transaction`, one per poll cycle, so a crash leaves either the whole
cycle (uplinks, firings, intents, state, cursor) or none of it.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlite_utils import Database

from ..errors import LedgerError
from .migrations import migrations

__all__ = ["Ledger"]


def _foreign_tables(db: Database) -> str:
    """The tables of a database that holds tables but no record of the engine's migrations (an
    other application's database), named for an error; ``""`` for a ledger or an empty database."""
    names = db.table_names()
    # the record table alone is a first start that stopped before its first migration: not foreign
    tables = [name for name in names if not name.startswith("sqlite_") and name != migrations.migrations_table]
    if not tables:
        return ""
    if migrations.migrations_table in names and db.execute(
            f"SELECT 1 FROM [{migrations.migrations_table}] WHERE migration_set = ? LIMIT 1", [migrations.name]).fetchone():
        return ""
    shown = ", ".join(sorted(tables)[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
    return shown


def _refuse_foreign(path: Path, connection: sqlite3.Connection, advice: str) -> None:
    foreign = _foreign_tables(Database(connection))
    if foreign:
        raise LedgerError(f"{path} is not a rules-engine ledger: it holds other tables ({foreign}) and no record of the "
                          f"engine's schema. {advice}")


def _refuse_foreign_file(path: Path) -> None:
    """:func:`_refuse_foreign` through a read-only connection of its own; a file that is not a
    database at all passes (opening it for writing says so)."""
    try:
        probe = _connect(f"file:{path}?mode=ro")
    except sqlite3.DatabaseError:
        return
    try:
        _refuse_foreign(path, probe, "Give 'ledger.path' a new file")
    except sqlite3.DatabaseError:
        pass
    finally:
        probe.close()


def _connect(uri: str) -> sqlite3.Connection:
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10.0)
    connection.execute("PRAGMA busy_timeout = 10000")
    return connection


class Ledger:
    """An open ledger. Use :meth:`open_writer` in the daemon and :meth:`open_reader` elsewhere."""

    def __init__(self, path: Path, connection: sqlite3.Connection, *, writable: bool, lock_fd: int | None = None) -> None:
        self.path = path
        self.conn = connection
        self.writable = writable
        self._lock_fd = lock_fd
        self.db = Database(connection)

    @classmethod
    def open_writer(cls, path: str | Path, *, synchronous: str = "NORMAL") -> Ledger:
        """Open (creating and migrating as needed) for writing; refuse if another process writes."""
        path = Path(path)
        if path.is_dir():
            raise LedgerError(f"the ledger path {path} is a directory; name the ledger's file (for example "
                              f"{path / 'ledger.db'}) in 'ledger.path'")
        if path.exists():  # never touch another application's database: no lock file, no WAL, no tables
            _refuse_foreign_file(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(f"cannot create the ledger directory {path.parent}: {exc.strerror or exc}") from exc
        lock_path = path.with_name(path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise LedgerError(f"cannot open the lock file {lock_path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LedgerError(
                f"the ledger {path} is already in use by another rules-engine process (pid {holder}); "
                "exactly one daemon may write a ledger. Stop the other one, or give this one its own "
                "ledger path. Read-only commands (rules-engine ledger ...) work while it runs."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        connection = None
        try:
            connection = _connect(f"file:{path}?mode=rwc")
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise LedgerError(f"{path}: cannot switch the ledger to WAL mode (got {mode}); is it on a network file system?")
            connection.execute(f"PRAGMA synchronous = {synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
            ledger = cls(path, connection, writable=True, lock_fd=fd)
            migrations.apply(ledger.db)
        except (sqlite3.DatabaseError, LedgerError) as exc:
            if connection is not None:
                connection.close()
            os.close(fd)
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(f"{path}: cannot open the ledger: {exc}") from exc
        return ledger

    @classmethod
    def open_reader(cls, path: str | Path) -> Ledger:
        """Open read-only (works while the daemon writes)."""
        path = Path(path)
        if not path.exists():
            raise LedgerError(f"no ledger at {path}; the daemon creates it on its first start (check 'ledger.path')")
        if path.is_dir():
            raise LedgerError(f"the ledger path {path} is a directory, not a ledger file (check 'ledger.path' or --ledger)")
        try:
            connection = _connect(f"file:{path}?mode=ro")
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"{path}: cannot open the ledger read-only: {exc}") from exc
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            _refuse_foreign(path, connection, "Check 'ledger.path' or --ledger")
            db = Database(connection)
            if not [name for name in db.table_names() if name != migrations.migrations_table]:
                raise LedgerError(f"{path} holds no ledger yet (an empty database); the daemon creates the ledger's "
                                  "tables on its first start (check 'ledger.path' or --ledger)")
            if migrations.pending(db):
                raise LedgerError(f"{path}: the ledger schema is older than this version; start the daemon once to migrate it")
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise LedgerError(f"{path}: cannot open the ledger read-only: {exc}") from exc
        except LedgerError:
            connection.close()
            raise
        return cls(path, connection, writable=False)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; rolled back on any exception."""
        if not self.writable:
            raise LedgerError("this ledger was opened read-only")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
