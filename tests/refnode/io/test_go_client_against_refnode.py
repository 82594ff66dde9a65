"""The Go host module's standard-library client against a reference ensemble (issue 5).

``gometa-host -client ADDR OP KEY [VALUE]`` is Go's own ``net/rpc``
(``rpc.DialHTTP``, gob) calling ``RequestReceiver.NewRequest``, exactly as a
gometa client does (spec §9.2). Sets, Gets and Deletes through it work on
every member of a 3-member reference ensemble; an unknown op string gets
gometa's error text. (The Python client against the Go host is
tests/harness/test_gohost_ensemble.py and the mixed ensembles.)
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.targets import Ensemble, ProcessMember, RefnodeTarget, start_stable_ensemble
from harness.workload import check_members

pytestmark = pytest.mark.gometa


def go_client(binary: Path, member: ProcessMember, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-client", member.config.host.request, *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def go_get(binary: Path, member: ProcessMember, key: str, want: str, timeout: float = 5.0) -> None:
    """A Get is local (spec §9.2): a follower may apply the commit a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        got = go_client(binary, member, "get", key)
        if got.returncode == 0 and got.stdout == want + "\n":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{member.name}: get {key} → {got}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def refnode3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ensemble]:
    ens = start_stable_ensemble(RefnodeTarget(), 3, tmp_path_factory.mktemp("ref3"))
    try:
        yield ens
    finally:
        ens.stop()


def test_GoClient_set_get_delete_through_every_refnode_member(
    refnode3: Ensemble, gohost_binary: Path
) -> None:
    """Spec §9.2, §10.2: Set/Get/Delete from Go's net/rpc client."""
    leader = refnode3.wait_stable()
    for i, m in enumerate(refnode3.members):
        role = "leader" if m is leader else "follower"
        done = go_client(gohost_binary, m, "set", f"go-{i}", f"from-go-via-{role}")
        assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
    for m in refnode3.members:
        for i, other in enumerate(refnode3.members):
            role = "leader" if other is leader else "follower"
            go_get(gohost_binary, m, f"go-{i}", f"from-go-via-{role}")
    follower = next(m for m in refnode3.members if m is not leader)
    done = go_client(gohost_binary, follower, "delete", "go-0")
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
    states = check_members(refnode3.members)
    for st in states.values():
        assert sorted(st["data_hex"]) == ["go-1", "go-2"]
        assert bytes.fromhex(st["data_hex"]["go-2"]).startswith(b"from-go-via-")


def test_GoClient_add_and_unknown_op_on_refnode(refnode3: Ensemble, gohost_binary: Path) -> None:
    """Spec §9.2: Add commits like Set; an unknown op string is refused
    with gometa's own text, which Go's client prints as the call's error."""
    m = refnode3.members[0]
    done = go_client(gohost_binary, m, "add", "go-add", "a")
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
    go_get(gohost_binary, m, "go-add", "a")
    bad = go_client(gohost_binary, m, "Frobnicate", "k")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "Undefined Error : Invalid Op code Frobnicate"
