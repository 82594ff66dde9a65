"""SqliteStore applies persistence effects exactly as the core's reference does.

``PersistentState.apply`` is the reference semantics of the effects; the
store must load back the same state after any sequence of batches, after a
reopen, and after a crash that keeps only what was durable.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from refnode.core.effects import PersistCommit, PersistEpochs, PersistLogAppend, PersistLogTruncate
from refnode.core.store import PersistEffect, PersistentState
from refnode.io.storage import DB_NAME, SqliteStore, StorageError


def random_batches(rng: random.Random, count: int) -> list[list[PersistEffect]]:
    """Plausible effect batches: epochs grow, txids grow, commits follow logs."""
    batches: list[list[PersistEffect]] = []
    epoch, counter, logged, committed = 1, 0, 0, 0
    pending: list[PersistLogAppend] = []
    for _ in range(count):
        batch: list[PersistEffect] = []
        for _ in range(rng.randint(1, 6)):
            roll = rng.random()
            if roll < 0.1:
                epoch += 1
                counter = 0
                batch.append(
                    PersistEpochs(
                        accepted_epoch=epoch, accepted_leader="127.0.0.1:1", current_epoch=epoch
                    )
                )
            elif roll < 0.6:
                counter += 1
                txid = (epoch << 32) | counter
                op = rng.choice([1, 2, 2, 3, 4, 7])
                key = rng.choice(["a", "b", "\udcff-raw", "c"])
                logged = txid
                entry = PersistLogAppend(
                    txid=txid,
                    op_code=op,
                    key=key,
                    content=rng.randbytes(4),
                    last_logged_txid=logged,
                )
                pending.append(entry)
                batch.append(entry)
            elif roll < 0.95 and pending:
                entry = pending.pop(0)
                committed = entry.txid
                batch.append(
                    PersistCommit(
                        txid=entry.txid,
                        op_code=entry.op_code,
                        key=entry.key,
                        content=entry.content,
                        last_committed_txid=committed,
                    )
                )
            elif pending:
                logged = committed
                pending.clear()
                batch.append(PersistLogTruncate(after_txid=committed, last_logged_txid=logged))
        batches.append(batch)
    return batches


def reference(batches: list[list[PersistEffect]]) -> PersistentState:
    state = PersistentState()
    for batch in batches:
        for effect in batch:
            state.apply(effect)
    return state


@pytest.mark.parametrize("seed", range(20))
def test_SqliteStore_matches_the_reference_semantics(tmp_path: Path, seed: int) -> None:
    batches = random_batches(random.Random(seed), 40)
    store = SqliteStore(tmp_path)
    for batch in batches:
        store.apply(batch)
    assert store.load() == reference(batches)
    store.close()
    reopened = SqliteStore(tmp_path)
    assert reopened.load() == reference(batches)
    reopened.close()


@pytest.mark.parametrize("seed", range(10))
def test_SqliteStore_crash_keeps_exactly_the_durable_batches(tmp_path: Path, seed: int) -> None:
    """Snapshot the files at every durable point; a crash returns to the last one.

    kill -9 keeps the page cache, so it cannot show that fsync happened; a
    copy taken when ``apply`` reports durability is what a power cut would
    leave at worst.
    """
    rng = random.Random(1000 + seed)
    batches = random_batches(rng, 30)
    live = tmp_path / "live"
    snapshot = tmp_path / "snapshot"

    def take_snapshot() -> None:
        if snapshot.exists():
            shutil.rmtree(snapshot)
        shutil.copytree(live, snapshot)

    store = SqliteStore(live, on_durable=take_snapshot)
    crash_after = rng.randrange(len(batches))
    for batch in batches[: crash_after + 1]:
        store.apply(batch)
    store.close()
    shutil.rmtree(live)
    shutil.copytree(snapshot, live)
    assert SqliteStore(live).load() == reference(batches[: crash_after + 1])


def test_SqliteStore_keeps_full_uint64_txids_in_numeric_order(tmp_path: Path) -> None:
    """W24: gometa's decimal keys sort 1e10 before 9e9; ours sort numerically."""
    txids = [(1 << 64) - 1, 9 << 30, 10 << 32, 1]
    store = SqliteStore(tmp_path)
    store.apply(
        [
            PersistLogAppend(txid=t, op_code=2, key="k", content=b"", last_logged_txid=t)
            for t in txids
        ]
    )
    assert list(store.load().log) == sorted(txids)


def test_SqliteStore_rejects_a_foreign_database(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('magic', '42')")
    db.commit()
    db.close()
    with pytest.raises(StorageError, match="not a refnode store"):
        SqliteStore(tmp_path)


def test_SqliteStore_reports_an_unusable_directory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot open"):
        SqliteStore(blocker / "sub")


def test_SqliteStore_no_fsync_mode_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    SqliteStore(tmp_path, durable=False).close()
    assert "fsync is OFF" in capsys.readouterr().err
