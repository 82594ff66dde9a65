"""Durable storage for the reference node: SQLite in WAL mode.

The core hands out ``Persist*`` effects and a rule (``refnode.core.effects``):
persists must be durable before any later send in the same drained batch.
:meth:`SqliteStore.apply` takes one batch of persists, writes them in one
transaction and returns only once that transaction is durable (WAL fsync with
``synchronous=FULL``), so the driver can do group commit: one fsync per event
loop turn, however many Proposals, Accepts and Commits it carries.

The layout keeps gometa's meaning (spec §3.2): epochs and txids as decimal
strings, the commit log keyed by txid, the key/value data. Txids are stored
as 8-byte big-endian blobs so they sort numerically (gometa's decimal keys do
not, W24) and the full uint64 range fits.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from refnode.core.effects import PersistCommit, PersistEpochs, PersistLogAppend, PersistLogTruncate
from refnode.core.store import LogRecord, PersistEffect, PersistentState
from wire import OpCode

DB_NAME = "refnode.sqlite3"
MAGIC_NUMBER = 0x0123456789
"""gometa's marker of an initialised store (spec §3.2)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    txid BLOB PRIMARY KEY,
    op_code INTEGER NOT NULL,
    key BLOB NOT NULL,
    content BLOB NOT NULL,
    committed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS data (key BLOB PRIMARY KEY, value BLOB NOT NULL);
"""

_META_FIELDS = (
    "accepted_epoch",
    "accepted_leader",
    "current_epoch",
    "last_logged_txid",
    "last_committed_txid",
)


class StorageError(RuntimeError):
    """The data directory cannot be used; says which file and why."""


def _txid_key(txid: int) -> bytes:
    return txid.to_bytes(8, "big")


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


class SqliteStore:
    """One node's durable state in ``DIR/refnode.sqlite3``.

    ``durable=False`` turns fsync off (``synchronous=OFF``): only for
    benchmarks at equal durability with the in-memory Go host. It warns on
    stderr, because a crash may then lose acknowledged writes.
    ``on_durable`` is called after each durable transaction (tests use it to
    snapshot the files at exactly the points a crash may return to); with
    ``durable=False`` no transaction is durable and it is never called.
    """

    def __init__(
        self,
        directory: Path,
        *,
        durable: bool = True,
        on_durable: Callable[[], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.durable = durable
        self._on_durable = on_durable
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            self._db.executescript(_SCHEMA)
            self._init_magic()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"{self.path}: cannot open the store: {exc}") from exc
        if not durable:
            print(
                f"WARNING: {self.path}: fsync is OFF (no-fsync benchmark mode); "
                "a crash can lose acknowledged writes",
                file=sys.stderr,
            )

    def _init_magic(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE name='magic'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('magic', ?)", (str(MAGIC_NUMBER),))
        elif row[0] != str(MAGIC_NUMBER):
            raise StorageError(f"{self.path}: not a refnode store (magic {row[0]!r})")

    def load(self) -> PersistentState:
        """Everything durable, as the core's state."""
        try:
            return self._load()
        except (sqlite3.Error, ValueError, UnicodeError) as exc:
            raise StorageError(f"{self.path}: corrupt store: {exc}") from exc

    def _load(self) -> PersistentState:
        meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        state = PersistentState(
            accepted_epoch=int(meta.get("accepted_epoch", "0")),
            accepted_leader=meta.get("accepted_leader", ""),
            current_epoch=int(meta.get("current_epoch", "0")),
            last_logged_txid=int(meta.get("last_logged_txid", "0")),
            last_committed_txid=int(meta.get("last_committed_txid", "0")),
        )
        rows = self._db.execute(
            "SELECT txid, op_code, key, content, committed FROM log ORDER BY txid"
        )
        for raw_txid, op_code, key, content, committed in rows:
            txid = int.from_bytes(raw_txid, "big")
            state.log[txid] = LogRecord(
                txid=txid,
                op_code=op_code,
                key=bytes(key).decode("utf-8", "surrogateescape"),
                content=bytes(content),
            )
            if committed:
                state.committed.add(txid)
        for key, value in self._db.execute("SELECT key, value FROM data"):
            state.data[bytes(key).decode("utf-8", "surrogateescape")] = bytes(value)
        return state

    def is_fresh(self) -> bool:
        """True until anything but the magic number was written."""
        meta = self._db.execute("SELECT count(*) FROM meta WHERE name != 'magic'").fetchone()[0]
        logs = self._db.execute("SELECT count(*) FROM log").fetchone()[0]
        return bool(meta == 0 and logs == 0)

    def seed(self, state: PersistentState) -> None:
        """Write a whole starting state in one durable transaction (fresh stores only)."""
        if not self.is_fresh():
            raise StorageError(f"{self.path}: seed refused, the store already holds state")
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            self._set_meta(**{name: getattr(state, name) for name in _META_FIELDS})
            db.executemany(
                "INSERT INTO log VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        _txid_key(r.txid),
                        r.op_code,
                        _key_bytes(r.key),
                        r.content,
                        int(r.txid in state.committed),
                    )
                    for r in state.log.values()
                ],
            )
            db.executemany(
                "INSERT INTO data VALUES (?, ?)",
                [(_key_bytes(k), v) for k, v in state.data.items()],
            )
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StorageError(f"{self.path}: seed failed: {exc}") from exc

    def apply(self, effects: Iterable[PersistEffect]) -> None:
        """Write one batch atomically; durable when this returns (if ``durable``)."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            for effect in effects:
                self._apply_one(effect)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StorageError(f"{self.path}: write failed: {exc}") from exc
        if self._on_durable is not None and self.durable:
            self._on_durable()

    def _set_meta(self, **values: object) -> None:
        self._db.executemany(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            [(name, str(value)) for name, value in values.items()],
        )

    def _apply_one(self, effect: PersistEffect) -> None:
        db = self._db
        if isinstance(effect, PersistEpochs):
            self._set_meta(
                accepted_epoch=effect.accepted_epoch,
                accepted_leader=effect.accepted_leader,
                current_epoch=effect.current_epoch,
            )
        elif isinstance(effect, PersistLogAppend):
            db.execute(
                "INSERT INTO log VALUES (?, ?, ?, ?, 0) ON CONFLICT(txid) DO UPDATE SET "
                "op_code=excluded.op_code, key=excluded.key, content=excluded.content, committed=0",
                (_txid_key(effect.txid), effect.op_code, _key_bytes(effect.key), effect.content),
            )
            self._set_meta(last_logged_txid=effect.last_logged_txid)
        elif isinstance(effect, PersistLogTruncate):
            db.execute(
                "DELETE FROM log WHERE txid > ? AND committed = 0", (_txid_key(effect.after_txid),)
            )
            self._set_meta(last_logged_txid=effect.last_logged_txid)
        elif isinstance(effect, PersistCommit):
            if effect.op_code in (OpCode.ADD, OpCode.SET):
                db.execute(
                    "INSERT INTO data VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                    (_key_bytes(effect.key), effect.content),
                )
            elif effect.op_code == OpCode.DELETE:
                db.execute("DELETE FROM data WHERE key = ?", (_key_bytes(effect.key),))
            db.execute("UPDATE log SET committed = 1 WHERE txid = ?", (_txid_key(effect.txid),))
            self._set_meta(last_committed_txid=effect.last_committed_txid)
        else:
            raise TypeError(f"not a persistence effect: {effect!r}")

    def close(self) -> None:
        """Close the database (a later open recovers from the WAL)."""
        self._db.close()
