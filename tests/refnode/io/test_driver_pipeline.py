"""The driver's pipelined group commit keeps persist-before-send (refnode.core.effects).

A store whose transactions are slow shows both halves: no client reply
leaves before the transaction holding its commit is durable, and while one
transaction runs the next requests pile into one later transaction instead
of one fsync each.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from harness.netalloc import allocate_member
from refnode.config import GometaConfig
from refnode.core import effects as fx
from refnode.core.store import PersistEffect
from refnode.io.driver import NodeDriver
from refnode.io.storage import SqliteStore, StorageError
from wire import OpCode


class SlowStore(SqliteStore):
    """Each transaction takes ``delay`` seconds; records when each became durable."""

    def __init__(self, directory: Path, delay: float) -> None:
        super().__init__(directory)
        self.delay = delay
        self.durable_commits: list[tuple[float, set[int]]] = []
        self.threads: set[str] = set()

    def apply(self, effects: Iterable[PersistEffect]) -> None:
        batch = list(effects)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        super().apply(batch)
        commits = {e.txid for e in batch if isinstance(e, fx.PersistCommit)}
        self.durable_commits.append((time.monotonic(), commits))


def test_replies_wait_for_their_transaction_and_share_fsyncs(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "data", delay=0.05)
    config = GometaConfig(host=allocate_member()).to_node_config()
    driver = NodeDriver(config, store, events=lambda event, fields: None, seed=1)
    replies: list[tuple[float, fx.ClientReply]] = []

    async def scenario() -> None:
        ready = asyncio.Event()
        runner = asyncio.create_task(driver.run(ready.set))
        await ready.wait()
        await asyncio.sleep(0.3)  # a single member leads at once

        async def one(i: int) -> None:
            reply = await driver.submit(OpCode.SET, f"k{i}", b"v")
            replies.append((time.monotonic(), reply))

        await asyncio.gather(*(one(i) for i in range(40)))
        driver.stop()
        await runner

    asyncio.run(scenario())
    assert len(replies) == 40 and all(r.error is None for _, r in replies)
    durable_at = {txid: at for at, txids in store.durable_commits for txid in txids}
    for sent_at, reply in replies:
        assert reply.txid in durable_at, f"reply for {reply.txid:#x} without a durable commit"
        assert sent_at >= durable_at[reply.txid], "a reply left before its commit was durable"
    assert store.threads == {t for t in store.threads if t.startswith("refnode-store")}
    commit_transactions = [txids for _, txids in store.durable_commits if txids]
    assert len(commit_transactions) < 20, (
        f"{len(commit_transactions)} transactions for 40 commits: no group commit"
    )


class BrokenDisk(SqliteStore):
    """Transactions fail once ``broken`` is set, as a full or failing disk would."""

    broken = False

    def apply(self, effects: Iterable[PersistEffect]) -> None:
        if self.broken:
            raise StorageError(f"{self.path}: write failed: disk I/O error")
        super().apply(effects)


def test_a_failing_disk_stops_the_node_and_acknowledges_nothing(tmp_path: Path) -> None:
    """Durability can no longer be promised: no success reply, a fatal event, a stop."""
    store = BrokenDisk(tmp_path / "data")
    config = GometaConfig(host=allocate_member()).to_node_config()
    events: list[tuple[str, dict[str, object]]] = []
    driver = NodeDriver(config, store, events=lambda e, f: events.append((e, f)), seed=1)

    async def scenario() -> fx.ClientReply:
        ready = asyncio.Event()
        runner = asyncio.create_task(driver.run(ready.set))
        await ready.wait()
        await asyncio.sleep(0.3)
        assert (await driver.submit(OpCode.SET, "before", b"ok")).error is None
        store.broken = True
        reply = await driver.submit(OpCode.SET, "after", b"lost")
        await asyncio.wait_for(runner, timeout=5)
        return reply

    reply = asyncio.run(scenario())
    assert reply.error is not None and "terminated" in reply.error
    fatal = [f for e, f in events if e == "error"]
    assert fatal and "disk I/O error" in str(fatal[0]["msg"])
