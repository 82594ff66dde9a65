"""Client write load against live members, and the acknowledgements it saw.

Each writer thread sends Sets with keys and values that are never reused
(``<prefix><thread>-<n>``) through the client RPC (spec §9.2), to the
members it is given, in turn. A reply without an error is an
acknowledgement: the member promises the write is committed (spec §6.7),
so :mod:`harness.checker` must find it on every member afterwards. A failed
or timed-out call is *not* acknowledged: that write may or may not commit,
and the checker does not ask.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness import checker
from harness.rpcclient import GometaRpcClient
from harness.targets.base import ProcessMember, TargetError
from wire import OpCode

AddrSource = Sequence[str] | Callable[[], Sequence[str]]


class Workload:
    """``threads`` writers sending Sets until :meth:`stop` or ``total`` acks.

    ``addrs`` is a list of RPC addresses, or a function returning the
    current list (so a test can steer writes away from a member it is about
    to kill, or towards all of them).
    """

    def __init__(
        self,
        addrs: AddrSource,
        *,
        threads: int = 4,
        total: int | None = None,
        prefix: str = "w",
        call_timeout: float = 5.0,
        value_size: int = 16,
    ) -> None:
        self._addrs = addrs
        self.threads = threads
        self.total = total
        self.prefix = prefix
        self.call_timeout = call_timeout
        self.value_size = value_size
        self.acked: list[checker.Write] = []
        self.failures: list[str] = []
        self._sent = 0
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def addrs(self) -> Sequence[str]:
        return self._addrs() if callable(self._addrs) else self._addrs

    # ---- lifecycle

    def start(self) -> Workload:
        for t in range(self.threads):
            w = threading.Thread(target=self._run, args=(t,), name=f"writer-{t}", daemon=True)
            self._workers.append(w)
            w.start()
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        for w in self._workers:
            w.join(timeout)
        with self._lock:
            self._lock.notify_all()

    def __enter__(self) -> Workload:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def join(self, timeout: float) -> None:
        """Wait for ``total`` acknowledgements (or raise TargetError)."""
        assert self.total is not None
        self.wait_acks(self.total, timeout)
        self.stop()

    def wait_acks(self, count: int, timeout: float) -> None:
        """Until at least ``count`` writes were acknowledged."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.acked) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TargetError(
                        f"{len(self.acked)}/{count} writes acknowledged in {timeout}s; "
                        f"failures: {self.failures[-5:]}"
                    )
                self._lock.wait(min(left, 0.1))

    @property
    def ack_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def snapshot_acked(self) -> list[checker.Write]:
        with self._lock:
            return list(self.acked)

    # ---- writer

    def _claim(self) -> bool:
        with self._lock:
            if self.total is not None and self._sent >= self.total:
                return False
            self._sent += 1
            return True

    def _unclaim(self) -> None:
        with self._lock:
            self._sent -= 1

    def _run(self, index: int) -> None:
        clients: dict[str, GometaRpcClient] = {}
        n = 0
        turn = index
        try:
            while not self._stop.is_set():
                addrs = list(self.addrs())
                if not addrs:
                    time.sleep(0.02)
                    continue
                addr = addrs[turn % len(addrs)]
                turn += 1
                if not self._claim():
                    return
                n += 1
                key = f"{self.prefix}{index}-{n}"
                value = f"{index}:{n}:".encode().ljust(self.value_size, b".")
                try:
                    client = clients.get(addr)
                    if client is None:
                        client = clients[addr] = GometaRpcClient(addr, timeout=self.call_timeout)
                    client.set(key, value)
                except Exception as exc:
                    self._unclaim()
                    broken = clients.pop(addr, None)
                    if broken is not None:
                        broken.close()
                    with self._lock:
                        self.failures.append(f"{addr} {key}: {type(exc).__name__}: {exc}")
                    time.sleep(0.02)
                    continue
                with self._lock:
                    self.acked.append(checker.Write(OpCode.SET, key, value, via=addr))
                    self._lock.notify_all()
        finally:
            for c in clients.values():
                c.close()


def states_of(members: Sequence[ProcessMember]) -> dict[str, dict[str, Any]]:
    """The ``state`` dump of each running member, by name."""
    return {m.name: m.state() for m in members if m.running}


def wait_settled(
    members: Sequence[ProcessMember], timeout: float = 10.0
) -> dict[str, dict[str, Any]]:
    """Poll the members' states until :func:`harness.checker.settled` holds."""
    deadline = time.monotonic() + timeout
    while True:
        states = states_of(members)
        if len(states) == len(members) and checker.settled(states):
            return states
        if time.monotonic() > deadline:
            marks = {
                n: (s["last_committed_txid"], s["last_logged_txid"]) for n, s in states.items()
            }
            raise TargetError(f"not settled within {timeout}s: {marks}")
        time.sleep(0.05)


def check_members(
    members: Sequence[ProcessMember],
    acked: Sequence[checker.Write] = (),
    *,
    timeout: float = 10.0,
    replayed: bool = True,
) -> Mapping[str, dict[str, Any]]:
    """Wait until settled, then run :func:`harness.checker.check`; returns the states."""
    states = wait_settled(members, timeout)
    checker.check(states, acked, settled=True, replayed=replayed)
    return states
