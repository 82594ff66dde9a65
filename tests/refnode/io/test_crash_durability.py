"""Power-loss durability: nothing acknowledged lives only in the page cache (issue 5).

kill -9 keeps the OS page cache, so the kill campaigns cannot show that a
reply waited for fsync. Here a 3-member ensemble of in-process
``NodeDriver``\\ s runs on loopback, each on a ``SqliteStore`` whose
``on_durable`` hook mirrors the data directory at every durable point (the
moment ``apply`` returns from its fsynced transaction). Clients submit Sets
to every member; at a seeded acknowledgement the whole ensemble "loses
power": every data directory is replaced by its mirror, so everything not
fsynced at that instant is gone. The ensemble restarts from the mirrors,
more rounds follow, and at the end every member must hold every write any
client saw acknowledged, under the txid its reply named (spec §6.7; the
persist-before-send rule of ``refnode.core.effects``; ``harness.checker``).

The control run uses ``durable=False`` stores (no fsync, so no durable
point): the same crash then loses acknowledged writes, which shows the
crash model really discards what was not fsynced.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness import checker
from harness.crash import SEED_ENV, campaign_seed
from harness.netalloc import allocate_member
from harness.targets import MemberConfig
from refnode.config import load_config
from refnode.core.config import Mode
from refnode.io.driver import NodeDriver
from refnode.io.storage import DB_NAME, SqliteStore
from wire import OpCode

ROUNDS = int(os.environ.get("GMC_POWERLOSS_ROUNDS", "4"))


class Mirror:
    """A copy of one data directory as of its last durable point."""

    def __init__(self, live: Path, mirror: Path) -> None:
        self.live, self.mirror = live, mirror
        self.frozen = False
        self.points = 0
        mirror.mkdir(parents=True, exist_ok=True)

    def on_durable(self) -> None:
        if self.frozen:
            return
        self.points += 1
        for suffix in ("", "-wal"):
            src, dst = self.live / (DB_NAME + suffix), self.mirror / (DB_NAME + suffix)
            if src.exists():
                shutil.copyfile(src, dst)
            else:
                dst.unlink(missing_ok=True)

    def restore(self) -> None:
        """Power loss: the live directory becomes what was durable."""
        shutil.rmtree(self.live, ignore_errors=True)
        shutil.copytree(self.mirror, self.live)


class PowerLossEnsemble:
    """Three in-process drivers that can all lose power at one instant."""

    def __init__(self, root: Path, *, durable: bool) -> None:
        self.root = root
        self.durable = durable
        addrs = [allocate_member() for _ in range(3)]
        self.configs = []
        for i, a in enumerate(addrs):
            cfg = MemberConfig(host=a, peers=tuple(p for j, p in enumerate(addrs) if j != i))
            path = cfg.write(root / f"m{i + 1}.json")
            self.configs.append(load_config(path).to_node_config(Mode.STANDALONE))
        self.mirrors = [Mirror(root / f"m{i + 1}", root / f"m{i + 1}.durable") for i in range(3)]
        self.drivers: list[NodeDriver] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.drivers = []
        for i, (cfg, mirror) in enumerate(zip(self.configs, self.mirrors, strict=True)):
            mirror.frozen = False
            store = SqliteStore(mirror.live, durable=self.durable, on_durable=mirror.on_durable)
            driver = NodeDriver(cfg, store, events=lambda _e, _f: None, seed=i)
            self.drivers.append(driver)
        self.tasks = [asyncio.create_task(d.run()) for d in self.drivers]
        await self.wait_leader()

    async def wait_leader(self, timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                roles = sorted(d.node.role.value for d in self.drivers if d.node is not None)
                if roles == ["FOLLOWING", "FOLLOWING", "LEADING"]:
                    return
                await asyncio.sleep(0.02)

    def lose_power(self) -> None:
        """Called synchronously: no durable point after this instant counts."""
        for m in self.mirrors:
            m.frozen = True

    async def stop(self) -> None:
        for d in self.drivers:
            d.stop()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def states(self) -> dict[str, dict[str, Any]]:
        return {f"m{i + 1}": d.dump_state() for i, d in enumerate(self.drivers)}

    async def wait_settled(self, timeout: float = 15.0) -> dict[str, dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while not checker.settled(states := self.states()):
                await asyncio.sleep(0.05)
        return states


async def write_until_crash(
    ens: PowerLossEnsemble, rng: random.Random, crash_at: int, round_no: int
) -> list[checker.Write]:
    """Four clients write through random members until ``crash_at`` acks."""
    acked: list[checker.Write] = []
    crashed = asyncio.Event()

    async def client(c: int) -> None:
        n = 0
        while not crashed.is_set():
            n += 1
            i = rng.randrange(len(ens.drivers))
            key, value = f"r{round_no}c{c}-{n}", f"{round_no}:{c}:{n}".encode()
            try:
                reply = await asyncio.wait_for(ens.drivers[i].submit(OpCode.SET, key, value), 5)
            except TimeoutError:
                continue
            if crashed.is_set():
                return  # the reply came after the power went: not seen
            if reply.error is None:
                acked.append(
                    checker.Write(OpCode.SET, key, value, via=f"m{i + 1}", txid=reply.txid)
                )
                if len(acked) >= crash_at:
                    ens.lose_power()
                    crashed.set()

    async with asyncio.timeout(60):
        await asyncio.gather(*(client(c) for c in range(4)))
    return acked


async def power_loss_rounds(root: Path, seed: int, rounds: int, *, durable: bool) -> None:
    rng = random.Random(seed)
    ens = PowerLossEnsemble(root, durable=durable)
    acked: list[checker.Write] = []
    for r in range(rounds):
        await ens.start()
        acked += await write_until_crash(ens, rng, rng.randint(5, 40), r)
        await ens.stop()
        for m in ens.mirrors:
            m.restore()
    await ens.start()
    try:
        states = await ens.wait_settled()
    finally:
        await ens.stop()
    if durable:
        assert all(m.points > 0 for m in ens.mirrors)
    print(f"{rounds} power losses, {len(acked)} acknowledged writes, durable={durable}")
    checker.check(states, acked, replayed=True)


def test_PowerLoss_at_seeded_acks_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    """Spec §6.7 and the persist-before-send rule: ROUNDS whole-ensemble
    power losses, each right after a seeded acknowledgement."""
    seed = campaign_seed()
    print(f"power-loss seed {seed} (replay: {SEED_ENV}={seed})")
    try:
        asyncio.run(power_loss_rounds(tmp_path, seed, ROUNDS, durable=True))
    except AssertionError as exc:
        raise AssertionError(f"{SEED_ENV}={seed}: {exc}") from exc


def test_PowerLoss_without_fsync_loses_acknowledged_writes(tmp_path: Path) -> None:
    """Control: with no fsync there is no durable point, and the same crash
    loses acknowledged writes: the checker reports them."""
    with pytest.raises(checker.CheckError, match="acknowledged write"):
        asyncio.run(power_loss_rounds(tmp_path, 7, 1, durable=False))


def test_SqliteStore_on_durable_only_when_durable(tmp_path: Path) -> None:
    """A no-fsync store has no durable point, so ``on_durable`` never fires."""
    from refnode.core.effects import PersistEpochs

    calls: list[bool] = []
    batch = [PersistEpochs(accepted_epoch=1, accepted_leader="127.0.0.1:1", current_epoch=1)]
    for durable in (True, False):
        store = SqliteStore(
            tmp_path / str(durable), durable=durable, on_durable=lambda: calls.append(True)
        )
        store.apply(batch)
        store.close()
    assert calls == [True]
