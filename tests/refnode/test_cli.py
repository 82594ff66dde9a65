"""``gmc node``: a bad config file is one stderr line naming the field, exit 2.

Spec §9.3: the config is gometa's own JSON (Host and Peer, each with
ElectionAddr, MessageAddr, RequestAddr). ``refnode.config.ConfigError``
carries the field; the CLI must print it and nothing else, never a traceback.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.netalloc import allocate_member

GOOD_HOST = {"ElectionAddr": "127.0.0.1:9001", "MessageAddr": "127.0.0.1:9002"}


@pytest.mark.parametrize(
    ("document", "field", "problem"),
    [
        (
            {"Host": {**GOOD_HOST, "ElectionAddr": "127.0.0.1:x"}},
            "Host.ElectionAddr",
            "port 'x' is not a number",
        ),
        ({"Host": {**GOOD_HOST, "MessageAddr": "127.0.0.1"}}, "Host.MessageAddr", "missing port"),
        (
            {"Host": {**GOOD_HOST, "RequestAddr": "127.0.0.1:70000"}},
            "Host.RequestAddr",
            "port 70000 out of range",
        ),
        (
            {"Host": {**GOOD_HOST, "ElectionAddr": 9001}},
            "Host.ElectionAddr",
            "expected a 'host:port' string, got 9001",
        ),
        ({"Peer": []}, "Host", "missing"),
        ({"Host": GOOD_HOST, "Peer": {"ElectionAddr": "x"}}, "Peer", "expected an array"),
        ({"Host": GOOD_HOST, "Peer": [GOOD_HOST]}, "Peer[0].ElectionAddr", "repeats"),
        (
            {"Host": GOOD_HOST, "Peer": [{"ElectionAddr": "127.0.0.1:1"}, 5]},
            "Peer[0].MessageAddr",
            "expected a 'host:port' string, got None",
        ),
        (
            {"Host": GOOD_HOST, "Peer": [{**GOOD_HOST, "ElectionAddr": "127.0.0.1:1"}, 5]},
            "Peer[1]",
            "expected an object, got int",
        ),
        ([GOOD_HOST], "<root>", "expected a JSON object"),
    ],
)
def test_node_bad_config_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Any, field: str, problem: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    assert main(["node", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"gmc node: {field}: ") and problem in err, err
    assert err.count("\n") == 1


def test_node_unreadable_or_invalid_json_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["node", "--config", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"gmc node: {missing}: cannot read: No such file or directory\n"
    )
    broken = tmp_path / "broken.json"
    broken.write_text('{"Host": {\n')
    assert main(["node", "--config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gmc node: {broken}: invalid JSON at line 2") and err.count("\n") == 1


def test_node_bad_config_as_a_subprocess(tmp_path: Path) -> None:
    """The console path: one line on stderr, nothing on stdout, exit status 2."""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"Host": {**GOOD_HOST, "MessageAddr": "127.0.0.1:port"}}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "node",
            "--config",
            str(path),
            "--data",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "gmc node: Host.MessageAddr: port 'port' is not a number\n"


@pytest.mark.parametrize(
    ("field", "kind"),
    [("Host.MessageAddr", "tcp"), ("Host.ElectionAddr", "udp"), ("Host.RequestAddr", "tcp")],
)
def test_node_busy_address_names_the_field(tmp_path: Path, field: str, kind: str) -> None:
    """A port already in use is one line naming the config field, exit 2."""
    addrs = allocate_member()
    busy = {
        "Host.MessageAddr": addrs.message,
        "Host.ElectionAddr": addrs.election,
        "Host.RequestAddr": addrs.request,
    }[field]
    host, _, port = busy.rpartition(":")
    blocker = socket.socket(
        socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    )
    blocker.bind((host, int(port)))
    if kind == "tcp":
        blocker.listen()
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "Host": {
                    "ElectionAddr": addrs.election,
                    "MessageAddr": addrs.message,
                    "RequestAddr": addrs.request,
                },
                "Peer": [],
            }
        )
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", "node", "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        blocker.close()
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gmc node: cannot bind {field} {busy}:"), lines
