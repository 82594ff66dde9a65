"""harness.rpcclient against the genuine Go server and its reference client.

The gob and net/rpc rules themselves are tested in tests/wire/test_gob.py and
tests/wire/test_netrpc.py; here the blocking and asyncio clients talk to the
Go host's RequestAddr (Go's own net/rpc server) and must agree with the Go
host's ``-client`` about what is stored.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.netalloc import allocate_member, next_host
from harness.rpcclient import (
    AsyncGometaRpcClient,
    GometaRpcClient,
    RpcConnectionError,
    RpcError,
    RpcProtocolError,
    split_addr,
)
from harness.targets import GoHostTarget, MemberConfig, ProcessMember, Role
from tests.harness.fakes import one_shot_server
from wire.netrpc import Call, ServerConnection


@pytest.fixture(scope="module")
def embedded_member(
    tmp_path_factory: pytest.TempPathFactory, gohost_binary: Path
) -> Iterator[ProcessMember]:
    """A single embedded-shape Go member: always LEADING, commits alone."""
    member = GoHostTarget(embedded=True).member(
        "e1", MemberConfig(host=allocate_member()), tmp_path_factory.mktemp("emb")
    )
    assert isinstance(member, ProcessMember)
    member.start()
    member.wait_role(Role.LEADING, timeout=10)
    member.wait_event(lambda ev: ev.get("event") == "current_epoch", timeout=10)
    yield member
    member.stop()


def go_client(binary: Path, addr: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-client", addr, *args], capture_output=True, text=True, timeout=20
    )


@pytest.mark.gometa
def test_GometaRpcClient_interoperates_with_go_client(
    embedded_member: ProcessMember, gohost_binary: Path
) -> None:
    addr = embedded_member.config.host.request
    with GometaRpcClient(addr) as c:
        c.set("py", b"from python")
        assert c.get("py") == b"from python"
        c.set("empty", b"")
        assert c.get("empty") == b""
        c.set("binary", bytes(range(256)))
        assert c.get("binary") == bytes(range(256))
    got = go_client(gohost_binary, addr, "get", "py")
    assert got.returncode == 0 and got.stdout == "from python\n"
    assert go_client(gohost_binary, addr, "set", "go", "from go").returncode == 0
    with GometaRpcClient(addr) as c:
        assert c.get("go") == b"from go"
        c.delete("go")
        with pytest.raises(RpcError, match="key not found"):
            c.get("go")


@pytest.mark.gometa
def test_GometaRpcClient_surfaces_server_errors(embedded_member: ProcessMember) -> None:
    """Spec §9.2: unknown op codes answer 'Undefined Error : Invalid Op code X'."""
    with GometaRpcClient(embedded_member.config.host.request) as c:
        with pytest.raises(RpcError, match="Invalid Op code Broadcast"):
            c.call("Broadcast", "k", b"v")
        c.set("after-error", b"still usable")
        assert c.get("after-error") == b"still usable"


@pytest.mark.gometa
def test_AsyncGometaRpcClient_pipelines_calls_to_go(embedded_member: ProcessMember) -> None:
    """Many calls in flight on one connection; Go answers each by sequence number."""
    addr = embedded_member.config.host.request

    async def scenario() -> list[bytes]:
        async with await AsyncGometaRpcClient.connect(addr) as c:
            await asyncio.gather(*(c.set(f"a{i}", f"v{i}".encode()) for i in range(40)))
            with pytest.raises(RpcError, match="Invalid Op code Nope"):
                await c.call("Nope", "k")
            return list(await asyncio.gather(*(c.get(f"a{i}") for i in range(40))))

    assert asyncio.run(scenario()) == [f"v{i}".encode() for i in range(40)]


def test_GometaRpcClient_connection_refused_names_the_address() -> None:
    host = next_host()
    with socket.socket() as s:
        s.bind((host, 0))
        addr = "{}:{}".format(*s.getsockname())
    with pytest.raises(RpcConnectionError, match=f"{addr}: cannot connect: Connection refused"):
        GometaRpcClient(addr, timeout=2)

    async def scenario() -> None:
        with pytest.raises(RpcConnectionError, match=f"{addr}: cannot connect"):
            await AsyncGometaRpcClient.connect(addr, timeout=2)

    asyncio.run(scenario())


def test_GometaRpcClient_refuses_a_non_rpc_server() -> None:
    addr, thread = one_shot_server(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(RpcProtocolError, match="404 Not Found"):
        GometaRpcClient(addr, timeout=2)
    thread.join(2)


def test_GometaRpcClient_reports_a_server_that_hangs_up() -> None:
    addr, thread = one_shot_server(b"HTTP/1.0 200 Connected to Go RPC\n\n", then_read=True)
    with (
        GometaRpcClient(addr, timeout=2) as c,
        pytest.raises(RpcConnectionError, match="server closed the connection"),
    ):
        c.get("k")
    thread.join(2)


@pytest.mark.parametrize("bad", ["nohost", "h:", ":80", "h:http", "h:70000"])
def test_split_addr_refuses_malformed(bad: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        split_addr(bad)


def test_split_addr_ipv6() -> None:
    assert split_addr("[::1]:9000") == ("::1", 9000)


def test_GometaRpcClient_after_a_timeout_matches_replies_by_seq() -> None:
    """A reply that arrives after its call timed out is not taken for the next call's."""
    listener = socket.socket()
    listener.bind((next_host(), 0))
    listener.listen(1)
    addr = "{}:{}".format(*listener.getsockname())

    def serve() -> None:
        server, pending = ServerConnection(), list[Call]()
        with listener, listener.accept()[0] as conn:
            while len(pending) < 2:  # hold the first call until the second arrives
                pending += server.feed(conn.recv(65536))
                conn.sendall(server.take_output())
            conn.sendall(b"".join(server.reply(c, result=c.key.encode()) for c in pending))
            conn.recv(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with GometaRpcClient(addr, timeout=0.3) as c:
        with pytest.raises(RpcConnectionError, match="timed out"):
            c.get("first")
        assert c.get("second") == b"second"
    thread.join(2)
