"""Seeded kill -9 campaigns against a live ensemble under write load.

:func:`kill_campaign` kills a member chosen by a seeded RNG at a seeded
moment while :class:`harness.workload.Workload` keeps writing, restarts it on
its data directory, waits until the ensemble agrees on a leader again, and
repeats. At most ``(n - 1) // 2`` members are ever down, so a quorum always
survives (spec §6.7). Afterwards :func:`harness.workload.check_members`
proves that every acknowledged write is committed on every member and that
the committed logs agree.

kill -9 leaves the OS page cache intact, so these campaigns prove the
protocol's ordering (persist before send, spec §6 and refnode.core.effects),
not fsync; the storage-level test in tests/refnode/io/test_crash_durability.py
covers the disk.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.targets.base import ProcessMember, Role, TargetError
from harness.targets.ensemble import Ensemble
from harness.workload import Workload

SEED_ENV = "GMC_CRASH_SEED"
"""Environment variable that fixes the campaign seed (replay a failure)."""


def campaign_seed(default: int | None = None) -> int:
    """``$GMC_CRASH_SEED`` if set, else ``default``, else a fresh random seed."""
    raw = os.environ.get(SEED_ENV)
    if raw:
        return int(raw, 0)
    return default if default is not None else random.SystemRandom().randrange(1 << 32)


@dataclass(slots=True)
class KillPoint:
    """One kill -9: who, when, and what it took to recover."""

    index: int
    member: str
    was_leader: bool
    acks_before: int
    recovered_in: float = 0.0


@dataclass(slots=True)
class CampaignReport:
    seed: int
    kills: list[KillPoint] = field(default_factory=list)
    leaders: list[str] = field(default_factory=list)
    wall: float = 0.0

    def summary(self) -> str:
        led = sum(k.was_leader for k in self.kills)
        worst = max((k.recovered_in for k in self.kills), default=0.0)
        return (
            f"seed={self.seed} kills={len(self.kills)} (leader {led}) "
            f"leaders={len(set(self.leaders))} worst_recovery={worst:.2f}s wall={self.wall:.1f}s"
        )


def rejoin(ens: Ensemble, member: ProcessMember, timeout: float = 15.0) -> ProcessMember:
    """Restart ``member`` on its data and wait until the leader counts it.

    FOLLOWING alone is not enough: until the leader has synced it (spec
    §5.4) it is not among the followers whose Accepts form a quorum, and a
    second kill in that window costs the leader its quorum. A reference
    leader reports ``follower_synced`` with the follower's id (its
    MessageAddr, spec §5.1); for another leader, the member must have
    committed everything the leader had committed when it began following,
    and a short grace covers the last step of sync. Returns the leader.
    """
    member.restart()
    member.wait_event(
        lambda ev: (
            ev.get("event") == "status"
            and ev.get("status") in (Role.FOLLOWING.value, Role.LEADING.value)
        ),
        timeout=timeout,
    )
    deadline = time.monotonic() + timeout
    leader = ens.wait_stable(timeout=timeout)
    if leader is member:  # it won a re-election it restarted into
        return leader
    fid = member.config.host.message
    if leader.has_event(lambda ev: ev.get("event") == "start" and ev.get("impl") == "refnode"):
        leader.wait_event(
            lambda ev: ev.get("event") == "follower_synced" and ev.get("fid") == fid,
            timeout=max(0.1, deadline - time.monotonic()),
        )
        return leader
    target = int(leader.state()["last_committed_txid"])
    while int(member.state()["last_committed_txid"]) < target:
        if time.monotonic() > deadline:
            raise TargetError(f"{member.name} did not catch up to {target:#x} in {timeout}s")
        time.sleep(0.05)
    time.sleep(0.3)
    return leader


def kill_campaign(
    ens: Ensemble,
    workload: Workload,
    *,
    seed: int,
    kills: int,
    max_pause: float = 0.3,
    recover_timeout: float = 15.0,
    leader_bias: float = 0.4,
    on_kill: Callable[[KillPoint], None] | None = None,
) -> CampaignReport:
    """Kill and restart members ``kills`` times while ``workload`` writes.

    Each round waits a seeded pause (up to ``max_pause`` s) with writes
    flowing, kills the leader with probability ``leader_bias`` and a
    follower otherwise, restarts it at once, and waits until every member
    is back and agrees on a leader (spec §4.9) before the next round.
    """
    rng = random.Random(seed)
    report = CampaignReport(seed=seed)
    start = time.monotonic()
    for i in range(kills):
        time.sleep(rng.uniform(0.0, max_pause))
        leader = ens.wait_stable(timeout=recover_timeout)
        report.leaders.append(leader.name)
        followers = [m for m in ens.members if m is not leader]
        victim: ProcessMember = (
            leader if rng.random() < leader_bias else followers[rng.randrange(len(followers))]
        )
        point = KillPoint(i, victim.name, victim is leader, workload.ack_count)
        t0 = time.monotonic()
        victim.kill()
        try:
            rejoin(ens, victim, recover_timeout)
        except TargetError as exc:
            raise TargetError(f"seed {seed}, kill #{i} of {victim.name}: {exc}") from exc
        point.recovered_in = time.monotonic() - t0
        report.kills.append(point)
        if on_kill is not None:
            on_kill(point)
    report.wall = time.monotonic() - start
    return report
