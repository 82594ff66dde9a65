"""wire.netrpc: the HTTP preamble, pipelined calls, bad input, and interop with Go.

Sans-I/O first: a ``ClientConnection`` and a ``ServerConnection`` talk to each
other through byte strings cut at every position. Then sockets: the Go host's
``-client`` (Go's own net/rpc client) against the reference node's RPC port,
and raw exchanges against both servers, compared with each other.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.binaries import gometa_host
from harness.netalloc import allocate_member
from harness.rpcclient import split_addr
from harness.targets import (
    GoHostTarget,
    MemberConfig,
    ProcessMember,
    RefnodeTarget,
    Role,
    Target,
)
from wire.gob import BOOL, BYTES, INT, STRING, UINT, GobEncoder, StructType
from wire.netrpc import (
    CONNECTED,
    MAX_HTTP_HEAD,
    NEW_REQUEST_ARGS,
    REQUEST_HEADER,
    RESPONSE_HEADER,
    SERVICE_METHOD,
    Call,
    ClientConnection,
    Reply,
    RpcProtocolError,
    ServerConnection,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def connected_pair() -> tuple[ClientConnection, ServerConnection]:
    client, server = ClientConnection(), ServerConnection()
    assert server.feed(client.connect_request()) == []
    assert client.feed(server.take_output()) == []
    assert client.connected
    return client, server


# ---------------------------------------------------------------- preamble


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"CONNECT /_goRPC_ HTTP/1.0\n\n",
        b"CONNECT /_goRPC_ HTTP/1.0\r\n\r\n",
        b"CONNECT /_goRPC_ HTTP/1.0\r\n\n",
        b"CONNECT /_goRPC_ HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\n\r\n",
    ],
)
def test_ServerConnection_accepts_LF_CRLF_and_mixed_heads(request_bytes: bytes) -> None:
    """Go's textproto ends a line at LF with an optional CR; any blank line ends the head."""
    client = ClientConnection()
    seq, call = client.call("Get", "k")
    stream = request_bytes + call
    for cut in range(len(stream) + 1):
        server = ServerConnection()
        calls = server.feed(stream[:cut]) + server.feed(stream[cut:])
        assert server.take_output() == f"HTTP/1.0 {CONNECTED}\n\n".encode()
        assert calls == [
            Call(seq=seq, service_method=SERVICE_METHOD, op_code="Get", key="k", value=b"")
        ]


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /_goRPC_ HTTP/1.0\r\n\r\n",
        b"POST /_goRPC_ HTTP/1.1\n\n",
        b"CONNECT /other HTTP/1.0\n\n",
    ],
)
def test_ServerConnection_answers_405_must_CONNECT(request_bytes: bytes) -> None:
    """net/rpc server.go ServeHTTP: anything but CONNECT gets "405 must CONNECT" and no RPC.

    (For CONNECT to another path Go's mux would answer 404; both refuse the exchange.)
    """
    server = ServerConnection()
    assert server.feed(request_bytes) == []
    out = server.take_output()
    assert out.startswith(b"HTTP/1.0 405 Method Not Allowed\r\n")
    assert out.endswith(b"\r\n\r\n405 must CONNECT\n")
    assert server.closed
    assert server.feed(ClientConnection().call("Get", "k")[1]) == []
    assert server.take_output() == b""


def test_ServerConnection_refuses_an_endless_head() -> None:
    server = ServerConnection()
    server.feed(b"CONNECT /_goRPC_ HTTP/1.0\r\n")
    with pytest.raises(RpcProtocolError, match="HTTP head longer"):
        server.feed(b"X-Filler: " + b"a" * MAX_HTTP_HEAD + b"\r\n")


def test_ServerConnection_pipelined_head_and_calls_holding_blank_lines() -> None:
    """A value containing CRLFCRLF behind an LF head: the first blank line ends the head."""
    client = ClientConnection()
    _, first = client.call("Set", "k", b"a\r\n\r\nb\n\nc")
    _, second = client.call("Get", "k")
    server = ServerConnection()
    calls = server.feed(client.connect_request() + first + second)
    assert [(c.seq, c.op_code, c.value) for c in calls] == [
        (0, "Set", b"a\r\n\r\nb\n\nc"),
        (1, "Get", b""),
    ]


@pytest.mark.parametrize(
    ("status", "ok"),
    [
        (b"HTTP/1.0 200 Connected to Go RPC\n\n", True),
        (b"HTTP/1.0 200 Connected to Go RPC\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 405 Method Not Allowed\r\n\r\n405 must CONNECT\n", False),
        (b"garbage\n\n", False),
    ],
)
def test_ClientConnection_checks_the_status_line(status: bytes, ok: bool) -> None:
    """net/rpc client.go DialHTTP: only status "200 Connected to Go RPC" opens the exchange."""
    client = ClientConnection()
    if ok:
        assert client.feed(status) == [] and client.connected
    else:
        with pytest.raises(RpcProtocolError, match="unexpected HTTP response"):
            client.feed(status)


# ---------------------------------------------------------------- calls


def test_calls_and_replies_round_trip_pipelined_and_out_of_order() -> None:
    """Calls go out back to back; replies come back in any order, matched by Seq."""
    client, server = connected_pair()
    sent = [client.call("Set", f"k{i}", bytes([i]) * i) for i in range(20)]
    calls = server.feed(b"".join(data for _, data in sent))
    assert [c.seq for c in calls] == [seq for seq, _ in sent] == list(range(20))
    assert [(c.key, c.value) for c in calls] == [(f"k{i}", bytes([i]) * i) for i in range(20)]
    answers = b"".join(
        server.reply(c, result=c.value, error="odd" if c.seq % 2 else "") for c in reversed(calls)
    )
    replies: list[Reply] = []
    for i in range(0, len(answers), 7):
        replies += client.feed(answers[i : i + 7])
    assert {r.seq: (r.error, r.result) for r in replies} == {
        c.seq: ("odd", b"") if c.seq % 2 else ("", c.value) for c in calls
    }


def test_error_replies_carry_an_empty_struct_body() -> None:
    """net/rpc sends invalidRequest (struct {}) as the body of an error response."""
    client, server = connected_pair()
    (call,) = server.feed(client.call("Nope", "k")[1])
    out = server.reply(call, error="Undefined Error : Invalid Op code Nope")
    assert b"struct {}" in out and b"Result" not in out
    assert client.feed(out) == [
        Reply(seq=0, error="Undefined Error : Invalid Op code Nope", result=b"")
    ]


def test_ServerConnection_refuses_fields_of_the_wrong_type() -> None:
    """The peer defines its own types; a Seq sent as a string is a protocol error."""
    _, server = connected_pair()
    enc = GobEncoder()
    header = type(REQUEST_HEADER)(65, "Request", (("ServiceMethod", 6), ("Seq", 6)))
    data = enc.encode(header, {"ServiceMethod": SERVICE_METHOD, "Seq": "7"})
    data += enc.encode(NEW_REQUEST_ARGS, {"OpCode": "Get", "Key": "k"})
    with pytest.raises(RpcProtocolError, match="field Seq is str, expected int"):
        server.feed(data)


def test_ClientConnection_refuses_a_non_struct_reply() -> None:
    client, _ = connected_pair()
    # A Response header, then a bare string where the reply struct belongs.
    server_enc = GobEncoder()
    data = server_enc.encode(RESPONSE_HEADER, {"ServiceMethod": SERVICE_METHOD, "Seq": 0})
    data += b"\x05\x0c\x00\x02hi"  # type 6 (string) singleton "hi"
    with pytest.raises(RpcProtocolError, match="expected a reply struct"):
        client.feed(data)


# ---------------------------------------------------------------- fuzz


def _damage(data: bytes, how: st.DataObject) -> bytes:
    out = bytearray(data)
    for _ in range(how.draw(st.integers(1, 4))):
        if not out:
            break
        at = how.draw(st.integers(0, len(out) - 1))
        op = how.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            out[at] ^= 1 << how.draw(st.integers(0, 7))
        elif op == "cut":
            del out[at : at + how.draw(st.integers(1, 8))]
        else:
            out[at:at] = how.draw(st.binary(min_size=1, max_size=8))
    return bytes(out)


def _feed_all(conn: ServerConnection | ClientConnection, stream: bytes, chunk: int) -> None:
    try:
        for i in range(0, len(stream), chunk):
            conn.feed(stream[i : i + chunk])
    except RpcProtocolError:
        pass


@FUZZ
@given(how=st.data(), chunk=st.integers(1, 50))
def test_ServerConnection_bad_input_raises_only_RpcProtocolError(
    how: st.DataObject, chunk: int
) -> None:
    client = ClientConnection()
    stream = client.connect_request()
    stream += b"".join(client.call(op, "key", b"value" * 3)[1] for op in ("Set", "Get", "Delete"))
    _feed_all(ServerConnection(), _damage(stream, how), chunk)


@FUZZ
@given(how=st.data(), chunk=st.integers(1, 50))
def test_ClientConnection_bad_input_raises_only_RpcProtocolError(
    how: st.DataObject, chunk: int
) -> None:
    client, server = connected_pair()
    calls = server.feed(b"".join(client.call("Get", f"k{i}")[1] for i in range(3)))
    stream = f"HTTP/1.0 {CONNECTED}\n\n".encode()
    stream += b"".join(server.reply(c, result=b"r" * c.seq, error="e" * c.seq) for c in calls)
    _feed_all(ClientConnection(), _damage(stream, how), chunk)


@FUZZ
@given(stream=st.binary(max_size=300), chunk=st.integers(1, 50), head=st.booleans())
def test_connections_random_bytes_raise_only_RpcProtocolError(
    stream: bytes, chunk: int, head: bool
) -> None:
    prefix = b"CONNECT /_goRPC_ HTTP/1.0\n\n" if head else b""
    _feed_all(ServerConnection(), prefix + stream, chunk)
    client = ClientConnection()
    _feed_all(client, (f"HTTP/1.0 {CONNECTED}\n\n".encode() if head else b"") + stream, chunk)


# ---------------------------------------------------------------- interop


def _embedded(target: Target, tmp: Path) -> Iterator[ProcessMember]:
    member = target.member("e1", MemberConfig(host=allocate_member()), tmp)
    assert isinstance(member, ProcessMember)
    member.start()
    try:
        member.wait_role(Role.LEADING, timeout=15)
        member.wait_event(lambda ev: ev.get("event") == "current_epoch", timeout=15)
        yield member
    finally:
        member.stop()


@pytest.fixture(scope="module")
def refnode_member(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessMember]:
    """One embedded reference node: always LEADING, commits alone."""
    yield from _embedded(
        RefnodeTarget(embedded=True, durable=False), tmp_path_factory.mktemp("ref")
    )


@pytest.fixture(scope="module")
def go_member(
    tmp_path_factory: pytest.TempPathFactory, gohost_binary: Path
) -> Iterator[ProcessMember]:
    yield from _embedded(GoHostTarget(embedded=True), tmp_path_factory.mktemp("go"))


@pytest.fixture(scope="session")
def gohost_binary() -> Path:
    """Fails (does not skip) with the build command when the binary is missing."""
    return gometa_host()


def go_client(binary: Path, addr: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-client", addr, *args], capture_output=True, text=True, timeout=20
    )


@pytest.mark.gometa
def test_go_client_against_refnode_rpc(refnode_member: ProcessMember, gohost_binary: Path) -> None:
    """Go's net/rpc client (gometa-host -client) writes and reads through the reference node."""
    addr = refnode_member.config.host.request
    assert go_client(gohost_binary, addr, "set", "go", "from go").stdout == "ok\n"
    assert go_client(gohost_binary, addr, "get", "go").stdout == "from go\n"
    assert go_client(gohost_binary, addr, "add", "go2", "second").stdout == "ok\n"
    assert go_client(gohost_binary, addr, "get", "go2").stdout == "second\n"
    assert go_client(gohost_binary, addr, "delete", "go").stdout == "ok\n"
    bad = go_client(gohost_binary, addr, "Broadcast", "k", "v")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "Undefined Error : Invalid Op code Broadcast"


def raw_exchange(
    addr: str, service_methods: list[str], *, pipeline_head: bool, timeout: float = 5.0
) -> list[Reply]:
    """One Get per service method, all pipelined; the replies in arrival order.

    With ``pipeline_head`` the calls go out in the same write as the CONNECT
    head; otherwise after the ``200 Connected`` answer, as Go's DialHTTP does.
    """
    enc = GobEncoder()
    calls = b""
    for seq, method in enumerate(service_methods):
        calls += enc.encode(REQUEST_HEADER, {"ServiceMethod": method, "Seq": seq})
        calls += enc.encode(NEW_REQUEST_ARGS, {"OpCode": "Get", "Key": "nokey"})
    client = ClientConnection()
    replies: list[Reply] = []
    with socket.create_connection(split_addr(addr), timeout=timeout) as s:
        s.sendall(client.connect_request() + (calls if pipeline_head else b""))
        while not client.connected:
            replies += client.feed(s.recv(65536))
        if not pipeline_head:
            s.sendall(calls)
        while len(replies) < len(service_methods):
            chunk = s.recv(65536)
            if not chunk:
                break
            replies += client.feed(chunk)
    return replies


@pytest.mark.gometa
def test_refnode_and_go_servers_answer_alike(
    refnode_member: ProcessMember, go_member: ProcessMember
) -> None:
    """Pipelined calls with bad service names get net/rpc's own error texts from both."""
    methods = [SERVICE_METHOD, "NoDot", "Other.NewRequest", "RequestReceiver.Nope", SERVICE_METHOD]
    answers = {}
    for name, member in (("refnode", refnode_member), ("go", go_member)):
        replies = raw_exchange(member.config.host.request, methods, pipeline_head=False)
        answers[name] = sorted((r.seq, r.error) for r in replies)
    assert answers["refnode"] == answers["go"]
    assert answers["go"][1:4] == [
        (1, "rpc: service/method request ill-formed: NoDot"),
        (2, "rpc: can't find service Other.NewRequest"),
        (3, "rpc: can't find method RequestReceiver.Nope"),
    ]


@pytest.mark.gometa
def test_refnode_and_go_servers_refuse_GET(
    refnode_member: ProcessMember, go_member: ProcessMember
) -> None:
    for member in (refnode_member, go_member):
        with socket.create_connection(split_addr(member.config.host.request), timeout=10) as s:
            s.sendall(b"GET /_goRPC_ HTTP/1.0\r\n\r\n")
            got = b""
            while chunk := s.recv(65536):
                got += chunk
        assert got.split(b"\r\n", 1)[0] == b"HTTP/1.0 405 Method Not Allowed", member.name
        assert got.endswith(b"405 must CONNECT\n"), member.name


@pytest.mark.gometa
def test_calls_pipelined_behind_the_CONNECT_head(
    refnode_member: ProcessMember, go_member: ProcessMember
) -> None:
    """Go's rpc.ServeHTTP hijacks the connection and drops what http's bufio already read.

    Calls sent in the same write as the CONNECT head are therefore lost by Go
    (the client waits forever), while the reference node answers them. Clients
    must do what DialHTTP does: wait for ``200 Connected`` before calling.
    """
    methods = [SERVICE_METHOD] * 3
    got = raw_exchange(refnode_member.config.host.request, methods, pipeline_head=True)
    assert [r.seq for r in got] == [0, 1, 2]
    with pytest.raises(TimeoutError):
        raw_exchange(go_member.config.host.request, methods, pipeline_head=True, timeout=1.0)


SAMPLE = {STRING: "x", BYTES: b"x", UINT: 7, INT: -7, BOOL: True}


@FUZZ
@given(
    types=st.lists(st.sampled_from(sorted(SAMPLE)), min_size=5, max_size=5),
    to_server=st.booleans(),
)
def test_peer_chosen_field_types_raise_only_RpcProtocolError(
    types: list[int], to_server: bool
) -> None:
    """Each side decodes the other's own type definitions: a Seq that is a string,
    a Value that is an int, must be a protocol error, never a TypeError."""
    client, server = connected_pair()
    header_types = tuple(zip(("ServiceMethod", "Seq", "Error"), types[:3], strict=True))
    body_names = ("OpCode", "Key", "Value", "Result")
    body_types = tuple(zip(body_names, types[3:] + types[:2], strict=True))
    enc = GobEncoder()
    data = enc.encode(
        StructType(65, "Request", header_types), {n: SAMPLE[t] for n, t in header_types}
    )
    data += enc.encode(StructType(66, "Body", body_types), {n: SAMPLE[t] for n, t in body_types})
    _feed_all(server if to_server else client, data, 1000)
