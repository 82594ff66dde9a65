"""The Python gob/net-rpc client, checked against encoding/gob's documented
bytes and against the Go host's reference client (``gometa-host -client``)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.netalloc import allocate_member
from harness.rpcclient import (
    GobDecoder,
    GometaRpcClient,
    RpcError,
    StructType,
    encode_int,
    encode_uint,
)
from harness.targets import GoHostTarget, MemberConfig, ProcessMember, Role


def test_encode_uint_matches_gob_docs() -> None:
    """encoding/gob doc: 7 is 07, 256 is FE 01 00."""
    assert encode_uint(7) == b"\x07"
    assert encode_uint(256) == b"\xfe\x01\x00"
    assert encode_uint(2**64 - 1) == b"\xf8" + b"\xff" * 8


def test_encode_int_matches_gob_docs() -> None:
    """encoding/gob doc: -129 is FE 01 01; type ids 65 and -65 are FF 82, FF 81."""
    assert encode_int(-129) == b"\xfe\x01\x01"
    assert encode_int(65) == b"\xff\x82"
    assert encode_int(-65) == b"\xff\x81"


def test_StructType_definition_matches_gob_docs_point() -> None:
    """The Point{X, Y int} definition from the encoding/gob package docs."""
    point = StructType(65, "Point", (("X", 2), ("Y", 2)))
    expected = bytes.fromhex(
        "03 01 01 05 50 6f 69 6e 74 01 ff 82 00 01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00"
    )
    assert point.definition() == expected


def test_GobDecoder_reads_definition_then_value() -> None:
    point = StructType(65, "Point", (("X", 2), ("Y", 2)))
    dec = GobDecoder()
    assert dec.feed(encode_int(-65) + point.definition()) is None
    # Point{22, 33} from the docs: 07 ff 82 01 2c 01 42 00 (length byte dropped).
    assert dec.feed(bytes.fromhex("ff82012c014200")) == (65, {"X": 22, "Y": 33})


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
