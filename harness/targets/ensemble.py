"""N members on private loopback addresses, and the checks before a case runs.

gometa has a cold-start race (spec W41): a member can win, then panic in its
election poll loop and close its election socket, after which it silently
stops answering votes and solicits for the rest of its run. Before a case
runs, every member must therefore answer a solicit with the same winner.
When one does not, the start is recorded as an observation of that target
and the ensemble is started again on fresh addresses.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import wire
from harness import observations
from harness.netalloc import MemberAddrs, allocate_member, next_host
from harness.targets.base import (
    InitialState,
    MemberConfig,
    ProcessMember,
    Role,
    Target,
    TargetError,
)

W41_KIND = "W41-cold-start-election-race"
W41_GRACE = 0.3

Arrange = Callable[[list[MemberAddrs]], list[MemberAddrs]]
"""Reorders freshly allocated addresses before member i gets the i-th."""


def by_election_id(addrs: list[MemberAddrs]) -> list[MemberAddrs]:
    """Ascending election ids as byte-wise strings, the tie-break of votes
    (spec §4.4 rule 4): with equal epochs and txids the last member wins, and
    once it is gone the one before it."""
    return sorted(addrs, key=lambda a: a.election.encode())


def solicit_winner(election_addr: str, timeout: float = 1.0) -> wire.Vote | None:
    """Ask a member who won, the way a watcher does (spec §4.5 rule 1).

    A solicit Vote with status ELECTING goes to the member's election port
    from a fresh socket; a member that leads or follows replies with its
    winning vote. None means no reply within ``timeout``.
    """
    host, _, port = election_addr.rpartition(":")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((next_host(), 0))
        me = "{}:{}".format(*s.getsockname())
        probe = wire.Vote(
            round=1,
            status=int(wire.PeerStatus.ELECTING),
            epoch=0,
            cnd_id=me,
            cnd_logged_txn_id=0,
            cnd_committed_txn_id=0,
            solicit=True,
        )
        deadline = time.monotonic() + timeout
        s.sendto(wire.encode(probe), (host, int(port)))
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(min(left, 0.25))
            try:
                data, _ = s.recvfrom(2048)
            except TimeoutError:
                s.sendto(wire.encode(probe), (host, int(port)))
                continue
            msg = wire.decode_datagram(data)
            if isinstance(msg, wire.Vote):
                return msg
    return None


class Ensemble:
    """Members that each list the others as peers, started together."""

    def __init__(
        self,
        target: Target,
        size: int,
        workdir: Path,
        initial_states: dict[int, InitialState] | None = None,
        arrange: Arrange | None = None,
    ) -> None:
        self.target = target
        addrs = [allocate_member() for _ in range(size)]
        if arrange is not None:
            addrs = arrange(addrs)
        self.members: list[ProcessMember] = []
        for i, a in enumerate(addrs):
            config = MemberConfig(host=a, peers=tuple(p for j, p in enumerate(addrs) if j != i))
            member = target.member(
                f"m{i + 1}", config, workdir / f"m{i + 1}", (initial_states or {}).get(i)
            )
            if not isinstance(member, ProcessMember):
                raise TargetError(f"{target.name}: ensemble members must be ProcessMembers")
            self.members.append(member)

    def __enter__(self) -> Ensemble:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, stagger: bool = False, timeout: float = 10.0) -> None:
        """Start every member; ``stagger`` starts them last to first, each
        once the one before printed its ``start`` event.

        With :func:`by_election_id` the staggered order brings the largest
        id up first, so it wins the cold start (spec §4.4) even when the
        kinds boot at different speeds (a Python process takes ~0.4 s, the Go
        host a few ms, and two fast members would elect without it).
        """
        if not stagger:
            for m in self.members:
                m.start()
            return
        for m in reversed(self.members):
            m.start()
            m.wait_event(lambda ev: ev.get("event") == "start", timeout)

    def stop(self) -> None:
        for m in self.members:
            m.stop()

    def running(self) -> list[ProcessMember]:
        return [m for m in self.members if m.running]

    def by_election(self, addr: str) -> ProcessMember:
        for m in self.members:
            if m.config.host.election == addr:
                return m
        raise KeyError(addr)

    def agreed_leader(self) -> ProcessMember | None:
        """The leader all running members agree on, or None yet."""
        live = self.running()
        roles = [m.role() for m in live]
        winners = {m.winner() for m in live}
        if roles.count(Role.LEADING) != 1 or len(winners) != 1:
            return None
        if any(r not in (Role.LEADING, Role.FOLLOWING) for r in roles):
            return None
        leader = live[roles.index(Role.LEADING)]
        return leader if winners == {leader.config.host.election} else None

    def wait_stable(self, timeout: float = 8.0) -> ProcessMember:
        """Wait until one member leads and every other running one follows it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.agreed_leader()
            if leader is not None:
                return leader
            time.sleep(0.02)
        raise TargetError(f"no agreed leader within {timeout}s: {self.describe()}")

    def wait_stable_or_w41(self, timeout: float, w41_patience: float = 2.0) -> ProcessMember:
        """As ``wait_stable``, but give up ``w41_patience`` s after W41 shows.

        With W41 the third member can stay ELECTING until the leader dies, so
        waiting out the whole timeout would only slow the restart down.
        """
        start = time.monotonic()
        while (now := time.monotonic()) < start + timeout:
            leader = self.agreed_leader()
            if leader is not None:
                return leader
            if now - start > w41_patience and self.w41_signs():
                raise TargetError(f"W41 seen and no agreed leader: {self.describe()}")
            time.sleep(0.02)
        raise TargetError(f"no agreed leader within {timeout}s: {self.describe()}")

    def solicit_all(self, timeout: float = 1.0) -> dict[str, str | None]:
        """Each running member's answer to a solicit: the winner's id or None."""
        out: dict[str, str | None] = {}
        for m in self.running():
            vote = solicit_winner(m.config.host.election, timeout)
            out[m.name] = vote.cnd_id if vote is not None else None
        return out

    def w41_signs(self) -> dict[str, list[dict[str, Any]]]:
        """Events that show a closed election site or a recovered poll-loop panic."""
        signs: dict[str, list[dict[str, Any]]] = {}
        for m in self.members:
            hits = [
                ev
                for ev in m.snapshot()
                if ev.get("event") == "election_site_closed"
                or (ev.get("event") == "error" and ev.get("panic"))
            ]
            if hits:
                signs[m.name] = hits
        return signs

    def describe(self) -> str:
        parts = []
        for m in self.members:
            role = m.role()
            parts.append(
                f"{m.name}({m.config.host.election}) role={role.value if role else None} "
                f"winner={m.winner()} running={m.running}"
            )
        return ", ".join(parts)


def start_stable_ensemble(
    target: Target,
    size: int,
    workdir: Path,
    *,
    attempts: int = 6,
    timeout: float = 8.0,
    initial_states: dict[int, InitialState] | None = None,
    arrange: Arrange | None = None,
    stagger: bool = False,
) -> Ensemble:
    """Start an ensemble whose members all agree and all answer solicits.

    A start that hits W41 is recorded with ``harness.observations`` and
    retried on fresh addresses, at most ``attempts`` times; anything else
    that keeps the ensemble from agreeing is an error. ``arrange`` orders
    each attempt's addresses (e.g. :func:`by_election_id`, so that the
    member chosen to lead first gets the largest election id); ``stagger``
    is passed to :meth:`Ensemble.start`.
    """
    for attempt in range(1, attempts + 1):
        ens = Ensemble(target, size, workdir / f"attempt{attempt}", initial_states, arrange)
        ens.start(stagger=stagger)
        problem: str | None = None
        try:
            ens.wait_stable_or_w41(timeout)
            # W41's panic fires when a stale 200 ms finalize timer expires
            # after an early win; give it time to show before probing.
            time.sleep(W41_GRACE)
            leader = ens.wait_stable(timeout)
            answers = ens.solicit_all()
            wrong = {n: w for n, w in answers.items() if w != leader.config.host.election}
            if not wrong:
                return ens
            problem = f"solicit answers differ from the leader {leader.name}: {wrong}"
        except TargetError as exc:
            problem = str(exc)
        signs = ens.w41_signs()
        silent = [n for n, w in ens.solicit_all(timeout=0.5).items() if w is None]
        ens.stop()
        if not signs and not silent:
            raise TargetError(f"attempt {attempt}: {problem}")
        observations.record(
            W41_KIND,
            target.name,
            attempt=attempt,
            problem=problem,
            silent_members=silent,
            signs={n: [ev.get("msg", ev.get("event")) for ev in evs] for n, evs in signs.items()},
            workdir=str(workdir / f"attempt{attempt}"),
        )
    raise TargetError(f"{target.name}: no clean {size}-member start in {attempts} attempts")
