"""``gmc kv``: one call per invocation against a member's RPC address."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from harness.cli import main
from harness.netalloc import allocate_member, next_host
from harness.targets import MemberConfig, ProcessMember, RefnodeTarget, Role
from tests.harness.fakes import one_shot_server


@pytest.fixture(scope="module")
def rpc_addr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The RPC address of one embedded reference node (always LEADING, commits alone)."""
    member = RefnodeTarget(embedded=True, durable=False).member(
        "e1", MemberConfig(host=allocate_member()), tmp_path_factory.mktemp("kv")
    )
    assert isinstance(member, ProcessMember)
    member.start()
    try:
        member.wait_role(Role.LEADING, timeout=15)
        member.wait_event(lambda ev: ev.get("event") == "current_epoch", timeout=15)
        yield member.config.host.request
    finally:
        member.stop()


def gmc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_kv_set_get_add_delete(rpc_addr: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert gmc(capsys, "kv", "set", "k1", "v1", "--addr", rpc_addr) == (0, "ok\n", "")
    assert gmc(capsys, "kv", "get", "k1", "--addr", rpc_addr) == (0, "v1\n", "")
    assert gmc(capsys, "kv", "add", "k2", "two words", "--addr", rpc_addr) == (0, "ok\n", "")
    assert gmc(capsys, "kv", "get", "k2", "--addr", rpc_addr) == (0, "two words\n", "")
    assert gmc(capsys, "kv", "delete", "k1", "--addr", rpc_addr) == (0, "ok\n", "")
    code, out, err = gmc(capsys, "kv", "get", "k1", "--addr", rpc_addr)
    assert (code, out) == (1, "")
    assert err.startswith(f"gmc kv: {rpc_addr} answered: ") and err.count("\n") == 1


def test_kv_value_from_stdin_as_a_subprocess(rpc_addr: str) -> None:
    """The real console path: ``python -m harness.cli kv set KEY - < data``, bytes kept."""
    value = b"line one\nline two\x00\xff"
    cmd = [sys.executable, "-m", "harness.cli", "kv"]
    done = subprocess.run(
        [*cmd, "set", "bin", "-", "--addr", rpc_addr], input=value, capture_output=True, timeout=30
    )
    assert (done.returncode, done.stdout) == (0, b"ok\n"), done.stderr
    done = subprocess.run([*cmd, "get", "bin", "--addr", rpc_addr], capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, value + b"\n"), done.stderr


def test_kv_connection_refused_names_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind((next_host(), 0))
        addr = "{}:{}".format(*s.getsockname())
    code, out, err = gmc(capsys, "kv", "get", "k", "--addr", addr, "--timeout", "2")
    assert (code, out) == (1, "")
    assert err == f"gmc kv: {addr}: cannot connect: Connection refused\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["set", "k"], "gmc kv: set needs a VALUE\n"),
        (["get", "k", "extra"], "gmc kv: get takes no VALUE\n"),
        (["get", "k"], "gmc kv: --addr: expected HOST:PORT, got 'nowhere'\n"),
    ],
)
def test_kv_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gmc(capsys, "kv", *argv, "--addr", "nowhere") == (2, "", message)


def test_kv_not_an_rpc_server(capsys: pytest.CaptureFixture[str]) -> None:
    """A listener that answers plain HTTP: one clear line, exit 1."""
    addr, thread = one_shot_server(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    code, _, err = gmc(capsys, "kv", "get", "k", "--addr", addr)
    thread.join(2)
    assert code == 1
    assert err.startswith(f"gmc kv: {addr} is not a gometa RPC server: ")
    assert err.count("\n") == 1
