"""``gmc cluster up``: one command starts an ensemble; ctrl-c stops every member.

Runs the real console path as a subprocess in ``--no-live`` mode, reads its
plain lines, writes through one member with ``gmc kv`` and reads through
another, then sends SIGINT and checks that no member process is left.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.cluster_cli import ClusterError, MemberView, format_txid, parse_impls, plan_addrs
from harness.netalloc import next_host

GMC = [sys.executable, "-m", "harness.cli"]


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line.rstrip("\n"))
        out.put("<eof>")

    threading.Thread(target=pump, daemon=True).start()
    return out


def _wait_line(lines: queue.Queue[str], prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
        assert line != "<eof>", seen
    raise AssertionError(f"no line starting {prefix!r} within {timeout}s: {seen}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GMC, "kv", *args], capture_output=True, text=True, timeout=30)


def test_cluster_up_kv_and_ctrl_c(tmp_path: Path) -> None:
    workdir = tmp_path / "cluster"
    proc = subprocess.Popen(
        [
            *GMC,
            "cluster",
            "up",
            "-n",
            "3",
            "--no-live",
            "--no-fsync",
            "--workdir",
            str(workdir),
            "--host",
            next_host(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _lines(proc)
        leader_line = _wait_line(lines, "leader ", timeout=30)
        manifest = json.loads((workdir / "cluster.json").read_text())
        members = {m["name"]: m for m in manifest["members"]}
        assert len(members) == 3
        for m in members.values():
            config = json.loads((Path(m["workdir"]) / "config.json").read_text())
            assert config["Host"]["RequestAddr"] == m["rpc"] and len(config["Peer"]) == 2
        leader = leader_line.split()[1]
        follower = next(name for name in members if name != leader)
        written = kv("set", "greeting", "hello cluster", "--addr", members[follower]["rpc"])
        assert (written.returncode, written.stdout) == (0, "ok\n"), written.stderr
        for name in (leader, follower):
            deadline = time.monotonic() + 10
            while True:  # a local read: a member may apply the commit a moment later
                got = kv("get", "greeting", "--addr", members[name]["rpc"])
                if got.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert (got.returncode, got.stdout) == (0, "hello cluster\n"), got.stderr
        pids = [m["pid"] for m in members.values()]
        assert all(_alive(pid) for pid in pids)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=8) == 0, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() - started < 8
        deadline = time.monotonic() + 2
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in pids if _alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cluster_up_bad_arguments_exit_2(tmp_path: Path) -> None:
    busy = subprocess.run(
        [*GMC, "cluster", "up", "-n", "2", "--impl", "refnode,erlang", "--workdir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert busy.returncode == 2
    assert busy.stderr == (
        "gmc cluster: --impl: unknown implementation 'erlang' "
        "(use refnode, gometa, mixed or a comma list)\n"
    )


def test_parse_impls() -> None:
    assert parse_impls("refnode", 3) == ["refnode"] * 3
    assert parse_impls("mixed", 3) == ["refnode", "gometa", "refnode"]
    assert parse_impls("ref,go,gometa", 3) == ["refnode", "gometa", "gometa"]
    with pytest.raises(ClusterError, match="lists 2 members but -n is 3"):
        parse_impls("refnode,gometa", 3)
    with pytest.raises(ClusterError, match="at least one member"):
        parse_impls("refnode", 0)


def test_plan_addrs_base_port_and_busy_port() -> None:

    host = next_host()
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
        with pytest.raises(ClusterError, match=f"port {port} on {host} is in use"):
            plan_addrs(host, 1, port)
    free = plan_addrs(host, 2, None)
    assert (
        len({a.election for a in free} | {a.message for a in free} | {a.request for a in free}) == 6
    )
    with pytest.raises(ClusterError, match="not a port range"):
        plan_addrs(host, 3, 65530)
    with pytest.raises(ClusterError, match="not an IPv4 address"):
        plan_addrs("localhost:1", 1, None)


def test_MemberView_folds_events() -> None:
    view = MemberView(name="m1", impl="refnode", rpc="h:3", election="h:1")
    for ev in [
        {"event": "status", "status": "ELECTING", "run": 1},
        {"event": "winner", "winner": "h:1", "run": 1, "epoch": 2},
        {"event": "status", "status": "LEADING", "run": 1},
        {"event": "committed", "txid": (2 << 32) | 5},
        {"event": "state", "current_epoch": 3, "last_committed_txid": (3 << 32) | 1},
    ]:
        view.fold(ev)
    assert (view.role, view.epoch, view.committed) == ("LEADING", 3, (3 << 32) | 1)
    assert format_txid(view.committed) == f"{(3 << 32) | 1} (3.1)"
    assert "role=LEADING epoch=3" in view.line()
