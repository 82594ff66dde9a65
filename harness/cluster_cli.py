"""``gmc cluster up``: a local ensemble on loopback with one command.

    gmc cluster up [-n 3] [--impl refnode|gometa|mixed|refnode,gometa,...]
                   [--workdir ./.cluster] [--host 127.0.0.1] [--base-port PORT]
                   [--no-live] [--no-fsync] [--clean]

Each member gets a directory ``WORKDIR/m<i>`` holding its gometa config
(``config.json``, spec §9.3), its data, ``events.jsonl`` and ``stderr.log``;
``WORKDIR/cluster.json`` lists every member's addresses and pid. Processes are
started and observed through ``harness.targets``: the view is built from the
members' event lines (``status``, ``winner``, ``current_epoch``,
``committed``; see ``refnode.io.events``), plus one ``state`` dump per member
and election run for what the events of a restarted member do not say.

The live view is a rich table; ``--no-live`` prints one plain line per change
instead (``member m1 role=LEADING ...``, ``leader m1 rpc=HOST:PORT``), which is
what scripts and tests read. Ctrl-C (or SIGTERM) stops every member: SIGTERM,
a wait, then SIGKILL, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from harness.binaries import BinaryNotFoundError
from harness.netalloc import MemberAddrs, free_port, port_free
from harness.targets import (
    GoHostTarget,
    MemberConfig,
    MixedTarget,
    ProcessMember,
    RefnodeTarget,
    Target,
)

IMPL_ALIASES = {"refnode": "refnode", "ref": "refnode", "gometa": "gometa", "go": "gometa"}
STOP_TIMEOUT = 5.0


class ClusterError(RuntimeError):
    """The cluster cannot start as asked; the message says why."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmc cluster``."""
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="start a local ensemble and watch it until ctrl-c")
    up.add_argument("-n", "--size", type=int, default=3, help="number of members (default 3)")
    up.add_argument(
        "--impl",
        default="refnode",
        help="refnode, gometa, mixed (alternating), or one per member: refnode,refnode,gometa",
    )
    up.add_argument("--workdir", type=Path, default=Path(".cluster"), help="default ./.cluster")
    up.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    up.add_argument(
        "--base-port",
        type=int,
        default=None,
        help="member i uses BASE+3i (election), +1 (message), +2 (RPC); default: free ports",
    )
    up.add_argument("--no-live", action="store_true", help="plain lines instead of a live table")
    up.add_argument("--no-fsync", action="store_true", help="refnode without fsync (faster)")
    up.add_argument(
        "--clean", action="store_true", help="remove WORKDIR first (fresh data for every member)"
    )


# ---------------------------------------------------------------- planning


def parse_impls(spec: str, size: int) -> list[str]:
    """The implementation of each member: ``refnode``/``gometa`` per member."""
    if size < 1:
        raise ClusterError(f"-n: need at least one member, got {size}")
    if spec == "mixed":
        return ["refnode" if i % 2 == 0 else "gometa" for i in range(size)]
    names = [part.strip().lower() for part in spec.split(",")]
    unknown = [n for n in names if n not in IMPL_ALIASES]
    if unknown:
        raise ClusterError(
            f"--impl: unknown implementation {unknown[0]!r} "
            "(use refnode, gometa, mixed or a comma list)"
        )
    impls = [IMPL_ALIASES[n] for n in names]
    if len(impls) == 1:
        return impls * size
    if len(impls) != size:
        raise ClusterError(f"--impl lists {len(impls)} members but -n is {size}")
    return impls


def plan_addrs(host: str, size: int, base_port: int | None) -> list[MemberAddrs]:
    """Election, message and RPC address of each member."""
    try:
        socket.inet_aton(host)
    except OSError:
        raise ClusterError(f"--host: {host!r} is not an IPv4 address") from None
    if base_port is None:
        ports: list[int] = []
        while len(ports) < 3 * size:
            try:
                port = free_port(host)
            except OSError as exc:
                raise ClusterError(f"--host: cannot bind {host}: {exc.strerror}") from None
            if port not in ports:
                ports.append(port)
    else:
        ports = list(range(base_port, base_port + 3 * size))
        if base_port < 1 or ports[-1] > 65535:
            raise ClusterError(f"--base-port: {base_port}..{ports[-1]} is not a port range")
        busy = [p for p in ports if not port_free(host, p)]
        if busy:
            raise ClusterError(f"--base-port: port {busy[0]} on {host} is in use")
    return [
        MemberAddrs(
            election=f"{host}:{ports[3 * i]}",
            message=f"{host}:{ports[3 * i + 1]}",
            request=f"{host}:{ports[3 * i + 2]}",
        )
        for i in range(size)
    ]


def make_target(impls: list[str], *, durable: bool) -> Target:
    """One target per member (``MixedTarget``), each refnode or the Go host."""
    refnode = RefnodeTarget(durable=durable)
    go: Target | None = None
    targets: list[Target] = []
    for impl in impls:
        if impl == "gometa":
            go = go or GoHostTarget()
            targets.append(go)
        else:
            targets.append(refnode)
    return MixedTarget(targets)


# ---------------------------------------------------------------- observing


@dataclass(slots=True)
class MemberView:
    """What the view shows of one member, folded from its events."""

    name: str
    impl: str
    rpc: str
    election: str
    role: str = "starting"
    run: int | None = None
    winner: str | None = None
    epoch: int | None = None
    committed: int | None = None
    pid: int | None = None
    exit_code: int | None = None
    seen: int = 0
    state_asked_for: tuple[int, Any] | None = None

    def fold(self, ev: dict[str, Any]) -> None:
        kind = ev.get("event")
        if kind == "status":
            self.role = str(ev.get("status"))
            self.run = ev.get("run")
        elif kind == "winner":
            self.winner = str(ev.get("winner"))
            if isinstance(ev.get("epoch"), int) and ev["epoch"] > (self.epoch or 0):
                self.epoch = ev["epoch"]
        elif kind == "current_epoch" and isinstance(ev.get("epoch"), int):
            self.epoch = max(self.epoch or 0, ev["epoch"])
        elif kind == "committed" and isinstance(ev.get("txid"), int):
            self.committed = max(self.committed or 0, ev["txid"])
        elif kind == "state":
            if isinstance(ev.get("current_epoch"), int):
                self.epoch = max(self.epoch or 0, ev["current_epoch"])
            if isinstance(ev.get("last_committed_txid"), int):
                self.committed = max(self.committed or 0, ev["last_committed_txid"])

    def line(self) -> str:
        return (
            f"member {self.name} impl={self.impl} role={self.role} epoch={_show(self.epoch)} "
            f"committed={format_txid(self.committed)} rpc={self.rpc} pid={_show(self.pid)}"
        )


def _show(value: object) -> str:
    return "-" if value is None else str(value)


def format_txid(txid: int | None) -> str:
    """gometa's txid: epoch in the high 32 bits, counter in the low (spec §1)."""
    if txid is None:
        return "-"
    return f"{txid} ({txid >> 32}.{txid & 0xFFFFFFFF})"


@dataclass(slots=True)
class Cluster:
    """The members, their views, and the verbs ``up`` needs."""

    members: list[ProcessMember]
    views: list[MemberView]
    workdir: Path
    _dumps: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for m, view in zip(self.members, self.views, strict=True):
            m.start()
            view.pid = m.pid
        self.write_manifest()

    def write_manifest(self) -> None:
        doc = {
            "members": [
                {
                    "name": v.name,
                    "impl": v.impl,
                    "pid": v.pid,
                    "election": m.config.host.election,
                    "message": m.config.host.message,
                    "rpc": v.rpc,
                    "workdir": str(m.workdir),
                }
                for m, v in zip(self.members, self.views, strict=True)
            ]
        }
        (self.workdir / "cluster.json").write_text(json.dumps(doc, indent=2) + "\n")

    def refresh(self) -> None:
        """Fold new events into the views; ask for a state dump once per run."""
        for m, view in zip(self.members, self.views, strict=True):
            events = m.snapshot()
            for ev in events[view.seen :]:
                view.fold(ev)
            view.seen = len(events)
            with self._lock:
                dump = self._dumps.pop(m.name, None)
            if dump is not None:
                view.fold({**dump, "event": "state"})
            # ProcessMember keeps the Popen private; its return code is all we read.
            proc = m._proc
            if not m.running and view.exit_code is None and proc is not None:
                view.exit_code = proc.poll()
                view.role = f"exited ({view.exit_code})"
            key = (m.incarnation, view.run)
            if view.role in ("LEADING", "FOLLOWING") and view.state_asked_for != key:
                view.state_asked_for = key
                threading.Thread(target=self._ask_state, args=(m,), daemon=True).start()

    def _ask_state(self, member: ProcessMember) -> None:
        """One state dump (SIGUSR1, or HTTP for the Go host), kept for ``refresh``."""
        try:
            dump = member.state(timeout=3)
        except Exception:  # a member that is stopping simply gives no dump
            return
        with self._lock:
            self._dumps[member.name] = dump

    def leader(self) -> MemberView | None:
        """The member that leads with every running member agreeing on it."""
        live = [v for v in self.views if v.exit_code is None]
        leading = [v for v in live if v.role == "LEADING"]
        if len(leading) != 1:
            return None
        chosen = leading[0]
        agreed = all(
            v.role == "FOLLOWING" and v.winner == chosen.election for v in live if v is not chosen
        )
        return chosen if agreed else None

    def all_exited(self) -> bool:
        return all(v.exit_code is not None for v in self.views)

    def stop(self) -> None:
        """SIGTERM everyone at once, wait, SIGKILL whoever is left."""
        threads = [
            threading.Thread(target=m.stop, args=(STOP_TIMEOUT,), daemon=True) for m in self.members
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(STOP_TIMEOUT + 2)
        for m in self.members:
            if m.running:
                m.kill()


def build_cluster(args: argparse.Namespace) -> Cluster:
    """Plan addresses and targets, write configs; nothing runs yet."""
    impls = parse_impls(args.impl, args.size)
    addrs = plan_addrs(args.host, args.size, args.base_port)
    try:
        target = make_target(impls, durable=not args.no_fsync)
    except BinaryNotFoundError as exc:
        raise ClusterError(f"--impl gometa: {exc}") from None
    workdir: Path = args.workdir.resolve()
    if args.clean and workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    members: list[ProcessMember] = []
    views: list[MemberView] = []
    for i, (a, impl) in enumerate(zip(addrs, impls, strict=True)):
        config = MemberConfig(host=a, peers=tuple(p for j, p in enumerate(addrs) if j != i))
        name = f"m{i + 1}"
        member = target.member(name, config, workdir / name)
        assert isinstance(member, ProcessMember)
        members.append(member)
        views.append(MemberView(name=name, impl=impl, rpc=a.request, election=a.election))
    return Cluster(members=members, views=views, workdir=workdir)


# ---------------------------------------------------------------- output


class StopRequested(Exception):  # noqa: N818 - a request, not an error
    """Raised in the main thread by SIGINT/SIGTERM."""


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise StopRequested(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def last_stderr_line(member: ProcessMember) -> str:
    """The last non-empty line a member wrote to its stderr.log, for exit reports."""
    try:
        lines = (member.workdir / "stderr.log").read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if line.strip()), "")


def kv_hint(rpc: str) -> str:
    return f"gmc kv set hello world --addr {rpc}  then  gmc kv get hello --addr {rpc}"


def _render(cluster: Cluster, stopping: bool) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    leader = cluster.leader()
    table = Table(title=f"gometa cluster: {cluster.workdir}", title_justify="left")
    for col in ("member", "impl", "pid", "role", "epoch", "committed txid", "RPC address"):
        table.add_column(col, no_wrap=True)
    styles = {"LEADING": "bold green", "FOLLOWING": "cyan", "ELECTING": "yellow"}
    for v in cluster.views:
        table.add_row(
            v.name + (" *" if v is leader else ""),
            v.impl,
            _show(v.pid),
            Text(v.role, style=styles.get(v.role, "red" if v.exit_code is not None else "")),
            _show(v.epoch),
            format_txid(v.committed),
            v.rpc,
        )
    if stopping:
        footer = Text("stopping members…", style="bold")
    elif leader is not None:
        footer = Text(f"leader {leader.name}. Try: {kv_hint(leader.rpc)}\nctrl-c stops all")
    else:
        footer = Text("electing… ctrl-c stops all")
    return Group(table, footer)


def _watch_live(cluster: Cluster, interval: float) -> None:
    from rich.live import Live

    with Live(_render(cluster, False), refresh_per_second=4, transient=False) as live:
        try:
            while not cluster.all_exited():
                cluster.refresh()
                live.update(_render(cluster, False))
                time.sleep(interval)
        finally:
            live.update(_render(cluster, True))


def _watch_plain(cluster: Cluster, interval: float, emit: Callable[[str], None]) -> None:
    shown: dict[str, str] = {}
    shown_leader: str | None = None
    while not cluster.all_exited():
        cluster.refresh()
        for v in cluster.views:
            if shown.get(v.name) != (text := v.line()):
                shown[v.name] = text
                emit(text)
                if v.exit_code is not None:
                    member = cluster.members[cluster.views.index(v)]
                    emit(f"exited {v.name} rc={v.exit_code}: {last_stderr_line(member)}")
        leader = cluster.leader()
        name = leader.name if leader else None
        if name != shown_leader:
            shown_leader = name
            if leader is not None:
                emit(f"leader {leader.name} rpc={leader.rpc}")
                emit(f"try: {kv_hint(leader.rpc)}")
            else:
                emit("no leader")
        time.sleep(interval)


def run(args: argparse.Namespace) -> int:
    """``gmc cluster up``."""

    def emit(text: str) -> None:
        print(text, flush=True)

    try:
        cluster = build_cluster(args)
    except ClusterError as exc:
        print(f"gmc cluster: {exc}", file=sys.stderr)
        return 2
    stopped_by: str | None = None
    with _stop_on_signals():
        try:
            cluster.start()
            for m, v in zip(cluster.members, cluster.views, strict=True):
                emit(f"started {v.name} impl={v.impl} pid={v.pid} config={m.config_path}")
            emit(f"members listed in {cluster.workdir / 'cluster.json'}; ctrl-c stops all")
            if args.no_live:
                _watch_plain(cluster, 0.1, emit)
            else:
                _watch_live(cluster, 0.25)
        except StopRequested as exc:
            stopped_by = str(exc)
        finally:
            # A second ctrl-c must not leave members behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            emit("stopping")
            cluster.stop()
            emit("stopped")
    if stopped_by is None:
        m = cluster.members[0]
        print(
            f"gmc cluster: every member exited; {m.name} said: {last_stderr_line(m)!r} "
            f"(see {m.workdir / 'stderr.log'})",
            file=sys.stderr,
        )
        return 1
    return 0
