"""What the cluster and failover benchmarks share: the Go load generator,
the implementations under test, and CPU accounting.

The load generator is ``gometa-host -load`` (harness/gometa_host/loadgen.go):
Go's own net/rpc client, so the client path is the one real gometa clients
use, and it costs a fraction of a core where a Python client would compete
with the nodes for the GIL-free cores. Its CPU time is reported next to the
members' (read from ``/proc/<pid>/stat``) and the harness's own.

Implementations (``--impl``) expand to variants that differ only in how the
node keeps its state:

* ``gometa``: the Go host, store in memory (it has no durable mode to offer);
* ``refnode-mem``: the reference node without ``--data``, state in memory:
  equal durability with ``gometa``, the headline comparison;
* ``refnode-durable``: the reference node's default, SQLite with fsync per
  group commit;
* ``refnode-nofsync``: SQLite with ``synchronous=OFF`` (only when asked for).

``refnode`` means ``refnode-mem,refnode-durable``.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench.base import BenchUsageError
from harness.binaries import gometa_host
from harness.targets import (
    Ensemble,
    GoHostMember,
    InitialState,
    Member,
    MemberConfig,
    ProcessMember,
    RefnodeMember,
    Target,
    TargetError,
)

GOMETA = "gometa"
REF_MEM = "refnode-mem"
REF_DURABLE = "refnode-durable"
REF_NOFSYNC = "refnode-nofsync"
VARIANTS = (GOMETA, REF_MEM, REF_DURABLE, REF_NOFSYNC)
ALIASES = {"refnode": (REF_MEM, REF_DURABLE), "go": (GOMETA,), "gometa": (GOMETA,)}
DEFAULT_IMPLS = ("refnode", "gometa")

_HOT_EVENTS = (
    b'"event":"committed"',
    b'"event": "committed"',
    b'"event":"logged"',
    b'"event": "logged"',
)


def expand_impls(impls: Sequence[str] | None) -> tuple[str, ...]:
    """``--impl`` values → variant names, in a fixed order, without duplicates."""
    out: list[str] = []
    for impl in impls or DEFAULT_IMPLS:
        names = ALIASES.get(impl, (impl,))
        for name in names:
            if name not in VARIANTS:
                raise BenchUsageError(
                    f"unknown implementation {impl!r}; "
                    f"known: refnode, gometa, {', '.join(VARIANTS)}"
                )
            if name not in out:
                out.append(name)
    return tuple(v for v in VARIANTS if v in out)


class _QuietEvents(ProcessMember):
    """Event lines go to a file that a thread tails, not through a pipe.

    Under load every member prints one or two lines per commit; through a
    pipe each line wakes a harness reader thread, and on a 2-core machine
    that wake-up preempts the nodes (both implementations alike) and the
    harness's GIL-bound parsing competes with them. A regular file costs the
    node one cheap write and nobody a wake-up. The tail thread polls every
    few milliseconds and skips the per-commit lines (``hot_events`` counts
    them); roles, winners and state dumps arrive as before.
    """

    hot_events = 0
    poll_interval = 0.005

    def start(self) -> None:
        if self.running:
            raise TargetError(f"{self.name} is already running")
        with self._cond:
            self.events = []
            self.incarnation += 1
        path = self.workdir / f"events.{self.incarnation}.jsonl"
        with (self.workdir / "stderr.log").open("ab") as stderr, path.open("wb") as out:
            self._proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=stderr
            )
        self._reader = threading.Thread(
            target=self._tail, args=(self._proc, path), name=f"events-{self.name}", daemon=True
        )
        self._reader.start()

    def _tail(self, proc: subprocess.Popen[bytes], path: Path) -> None:
        rest = b""
        with path.open("rb") as f:
            while True:
                exited = proc.poll() is not None
                chunk = f.read()
                if chunk:
                    lines = (rest + chunk).split(b"\n")
                    rest = lines.pop()
                    self._take(proc, lines)
                elif exited:
                    break
                else:
                    time.sleep(self.poll_interval)
        if rest.strip():
            self._take(proc, [rest])
        with self._cond:
            self._cond.notify_all()

    def _take(self, proc: subprocess.Popen[bytes], lines: list[bytes]) -> None:
        events: list[dict[str, Any]] = []
        for line in lines:
            if not line or any(hot in line for hot in _HOT_EVENTS):
                self.hot_events += 1
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                events.append({"event": "unparsed", "line": line.decode(errors="replace")})
        if events:
            with self._cond:
                if self._proc is proc:
                    self.events.extend(events)
                self._cond.notify_all()


class QuietGoHostMember(_QuietEvents, GoHostMember):
    """A Go host member whose per-commit events are skipped."""


class QuietRefnodeMember(_QuietEvents, RefnodeMember):
    """A reference node member whose per-commit events are skipped."""


class BenchTarget(Target):
    """Members of one variant, with quiet event readers."""

    def __init__(self, variant: str) -> None:
        if variant not in VARIANTS:
            raise BenchUsageError(f"unknown variant {variant!r}")
        self.name = variant
        self.variant = variant
        self.binary = gometa_host() if variant == GOMETA else None

    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member:
        if self.binary is not None:
            return QuietGoHostMember(
                name, config, workdir, initial_state, binary=self.binary, persistent=False
            )
        return QuietRefnodeMember(
            name,
            config,
            workdir,
            initial_state,
            durable=self.variant == REF_DURABLE,
            persistent=self.variant != REF_MEM,
        )


# ---- CPU accounting ----------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def proc_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` (0.0 if it is gone)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()
    # After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def self_cpu_seconds() -> float:
    """This harness process's CPU seconds (all threads)."""
    t = os.times()
    return t.user + t.system


class CpuMeter:
    """CPU seconds of the ensemble's members and of the harness over a window."""

    def __init__(self, ensemble: Ensemble) -> None:
        self.ensemble = ensemble
        self.wall0 = time.monotonic()
        self.members0 = self._members()
        self.self0 = self_cpu_seconds()

    def _members(self) -> dict[str, tuple[int | None, float]]:
        return {m.name: (m.pid, proc_cpu_seconds(m.pid)) for m in self.ensemble.members}

    def stop(self) -> dict[str, float]:
        """Seconds of wall time, member CPU (sum) and harness CPU since the start."""
        wall = time.monotonic() - self.wall0
        nodes = 0.0
        for name, (pid, cpu) in self._members().items():
            pid0, cpu0 = self.members0.get(name, (None, 0.0))
            nodes += cpu - cpu0 if pid == pid0 else cpu
        harness = self_cpu_seconds() - self.self0
        return {"wall_s": wall, "nodes_cpu_s": nodes, "harness_cpu_s": harness}


# ---- the load generator -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadSpec:
    """One run of the load generator."""

    clients: int
    rate: float = 0.0
    """Offered requests/s in total; 0 is saturation."""
    duration: float = 0.0
    """Seconds; 0 runs until :meth:`LoadGen.stop`."""
    warmup: float = 1.0
    value_size: int = 64
    timeout: float = 2.0

    def argv(self, addrs: Sequence[str]) -> list[str]:
        return [
            str(gometa_host()),
            "-load",
            "-addrs",
            ",".join(addrs),
            "-clients",
            str(self.clients),
            "-rate",
            str(self.rate),
            "-duration",
            f"{self.duration}s",
            "-warmup",
            f"{self.warmup}s",
            "-value-size",
            str(self.value_size),
            "-timeout",
            f"{self.timeout}s",
        ]


class LoadGenError(RuntimeError):
    """The load generator failed or printed no result."""


class LoadGen:
    """A running ``gometa-host -load``: markers in, resolved markers and a result out."""

    def __init__(self, spec: LoadSpec, addrs: Sequence[str]) -> None:
        self.spec = spec
        self._cond = threading.Condition()
        self.resolved: dict[int, dict[str, Any]] = {}
        self.result: dict[str, Any] | None = None
        self._proc = subprocess.Popen(
            spec.argv(addrs),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._marks = 0
        self._reader = threading.Thread(target=self._read, name="loadgen", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                if rec.get("event") == "resolved":
                    self.resolved[int(rec["mark"])] = rec
                elif rec.get("event") == "result":
                    self.result = rec
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def _send(self, line: str) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except BrokenPipeError as exc:
            raise LoadGenError(f"load generator gone: {self._stderr()}") from exc

    def mark(self, ts: float) -> int:
        """Record a failover marker at wall-clock ``ts``; returns its index."""
        self._send(f"mark {ts:.6f}")
        self._marks += 1
        return self._marks - 1

    def wait_resolved(self, index: int, timeout: float) -> dict[str, Any] | None:
        """The marker's first commit, or None if none came within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while index not in self.resolved:
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc.poll() is not None and not self._reader.is_alive()):
                    return None
                self._cond.wait(min(left, 0.1))
            return self.resolved[index]

    def stop(self) -> None:
        """Ask a ``duration=0`` run to finish."""
        if self._proc.poll() is None:
            self._send("stop")

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """The final result; stops the run if it has no duration of its own."""
        if timeout is None:
            timeout = self.spec.duration + self.spec.timeout + 15.0
        if self.spec.duration == 0:
            self.stop()
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            raise LoadGenError("load generator did not finish") from None
        self._reader.join(timeout=5)
        if self.result is None:
            raise LoadGenError(f"load generator printed no result: {self._stderr()}")
        self.result["cpu_s"] = float(self.result.get("cpu_s", 0.0))
        return self.result

    def _stderr(self) -> str:
        if self._proc.stderr is None:
            return ""
        if self._proc.poll() is None:
            return "(still running)"
        return self._proc.stderr.read().decode(errors="replace")[-500:]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()


def request_addrs(ensemble: Ensemble) -> list[str]:
    """The members' RequestAddrs, in member order."""
    return [m.config.host.request for m in ensemble.members]


def median(values: Sequence[float]) -> float | None:
    """The median of ``values``, None when empty."""
    data = sorted(values)
    if not data:
        return None
    mid = len(data) // 2
    return data[mid] if len(data) % 2 else (data[mid - 1] + data[mid]) / 2


def quantile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank quantile, None when empty."""
    data = sorted(values)
    if not data:
        return None
    rank = max(1, min(len(data), int(-(-q * len(data) // 1))))
    return data[rank - 1]
