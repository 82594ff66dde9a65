"""Target adapters beyond the ensemble: embedded shape, initial state,
restart on the same data, pause/resume, the command-template target, and the
loud failure when the Go host was not built."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

import wire
from harness import binaries, netalloc
from harness.rpcclient import GometaRpcClient
from harness.targets import (
    CommandTarget,
    GoHostTarget,
    InitialState,
    LogEntry,
    MemberConfig,
    ProcessMember,
    Role,
)


def test_netalloc_addresses_are_distinct_loopback() -> None:
    members = [netalloc.allocate_member() for _ in range(6)]
    hosts = {m.election.rpartition(":")[0] for m in members}
    assert len(hosts) == 6
    assert all(h.startswith("127.") for h in hosts)
    for m in members:
        assert len({m.election, m.message, m.request}) == 3


def test_netalloc_subnet_follows_xdist_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    second3, _ = netalloc.worker_subnet()
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw4")
    second4, _ = netalloc.worker_subnet()
    assert second3 != second4


def test_binaries_missing_host_fails_with_build_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(binaries, "TOOLS_BIN", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(binaries.BinaryNotFoundError, match="make gohost"):
        binaries.gometa_host()


def _embedded(tmp_path: Path, state: InitialState | None = None) -> ProcessMember:
    member = GoHostTarget(embedded=True).member(
        "e1", MemberConfig(host=netalloc.allocate_member()), tmp_path, state
    )
    assert isinstance(member, ProcessMember)
    return member


@pytest.mark.gometa
def test_GoHost_initial_state_then_kill9_restart_keeps_it(
    tmp_path: Path, gohost_binary: Path
) -> None:
    """-state seeds epochs and log; the journal keeps them across kill -9."""
    state = InitialState(
        accepted_epoch=3,
        current_epoch=3,
        log=(
            LogEntry(txid=(3 << 32) | 1, op_code=2, key="a", content=b"1", committed=True),
            LogEntry(txid=(3 << 32) | 2, op_code=2, key="b", content=b"2", committed=False),
        ),
    )
    m = _embedded(tmp_path, state)
    m.start()
    try:
        m.wait_role(Role.LEADING, timeout=10)
        m.wait_event(lambda ev: ev.get("event") == "current_epoch", timeout=10)
        st = m.state()
        assert st["current_epoch"] == 4  # the leader's discovery raises the epoch
        assert st["last_logged_txid"] == (3 << 32) | 2
        assert st["last_committed_txid"] == (3 << 32) | 1
        assert bytes.fromhex(st["data_hex"]["a"]) == b"1"
        with GometaRpcClient(m.config.host.request) as c:
            c.set("c", b"3")
        m.kill()
        m.start()
        m.wait_role(Role.LEADING, timeout=10)
        after = m.state()
        assert after["accepted_epoch"] >= 4
        assert bytes.fromhex(after["data_hex"]["c"]) == b"3"
        assert after["log"][-1]["key"] == "c"
    finally:
        m.stop()


@pytest.mark.gometa
def test_GoHost_pause_resume_and_sigusr1_state(tmp_path: Path, gohost_binary: Path) -> None:
    m = _embedded(tmp_path)
    m.start()
    try:
        m.wait_role(Role.LEADING, timeout=10)
        m.pause()
        m.resume()
        st = ProcessMember.state(m)  # the SIGUSR1 path every ProcessMember has
        assert st["status"] == "LEADING" and st["embedded"] is True
    finally:
        m.stop()
    assert not m.running


@pytest.mark.gometa
def test_CommandTarget_runs_any_template(tmp_path: Path, gohost_binary: Path) -> None:
    target = CommandTarget(
        [str(gohost_binary), "-config", "{config}", "-data", "{data}", "-embedded"]
    )
    m = target.member("c1", MemberConfig(host=netalloc.allocate_member()), tmp_path)
    assert isinstance(m, ProcessMember)
    assert m.command()[2] == str(tmp_path / "config.json")
    m.start()
    try:
        m.wait_role(Role.LEADING, timeout=10)
        assert (tmp_path / "data" / "journal.jsonl").exists()
        assert os.path.getsize(tmp_path / "events.jsonl") > 0
    finally:
        m.stop()


def _read_frame(sock: socket.socket) -> bytes:
    buf = b""
    while len(buf) < 8 or len(buf) < 8 + int.from_bytes(buf[:8], "big"):
        chunk = sock.recv(65536)
        assert chunk, "leader closed the connection"
        buf += chunk
    return buf[: 8 + int.from_bytes(buf[:8], "big")]


@pytest.mark.gometa
def test_GoHost_embedded_leader_answers_a_tcp_watcher(tmp_path: Path, gohost_binary: Path) -> None:
    """Spec §7: in the embedded shape watchers dial the leader over TCP; a
    FollowerInfo with voting=false is answered with LeaderInfo."""
    m = _embedded(tmp_path)
    m.start()
    try:
        m.wait_role(Role.LEADING, timeout=10)
        host, _, port = m.config.host.message.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(
                wire.encode(wire.FollowerInfo(accepted_epoch=0, fid="watcher-1", voting=False))
            )
            reply = wire.decode(_read_frame(s))
        assert isinstance(reply, wire.LeaderInfo)
        assert reply.accepted_epoch >= 1
    finally:
        m.stop()
