"""gometa's config file: Go's key matching, canonical ids, errors naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refnode.config import ConfigError, GometaConfig, MemberAddrs, load_config, parse_config

DOC = {
    "Host": {
        "ElectionAddr": "127.0.0.1:5001",
        "MessageAddr": "127.0.0.1:5002",
        "RequestAddr": "127.0.0.1:5003",
    },
    "Peer": [
        {"ElectionAddr": "127.0.0.1:5011", "MessageAddr": "127.0.0.1:5012"},
        {"ElectionAddr": "127.0.0.1:5021", "MessageAddr": "127.0.0.1:5022"},
    ],
}


def test_GometaConfig_parses_and_pairs_peers_by_index() -> None:
    config = parse_config(DOC)
    assert config.host.request == "127.0.0.1:5003"
    node = config.to_node_config()
    assert node.ensemble_size == 3
    assert node.message_addr_of("127.0.0.1:5021") == "127.0.0.1:5022"
    assert node.message_addr_of("127.0.0.1:9999") is None


def test_GometaConfig_keys_match_case_insensitively_like_go() -> None:
    doc = {"host": {"electionaddr": "127.0.0.1:1", "MESSAGEADDR": "127.0.0.1:2"}, "peer": []}
    assert parse_config(doc).host == MemberAddrs(election="127.0.0.1:1", message="127.0.0.1:2")


def test_GometaConfig_resolves_names_to_the_id_go_compares() -> None:
    doc = {"Host": {"ElectionAddr": "localhost:7", "MessageAddr": "[::1]:8"}}
    host = parse_config(doc).host
    assert host.election in ("127.0.0.1:7", "[::1]:7")
    assert host.message == "[::1]:8"


def test_GometaConfig_roundtrips_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    parse_config(DOC).write(path)
    assert load_config(path) == parse_config(DOC)
    assert json.loads(path.read_text())["Peer"][0]["MessageAddr"] == "127.0.0.1:5012"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([], "<root>"),
        ({"Peer": []}, "Host"),
        ({"Host": {"MessageAddr": "127.0.0.1:1"}}, "Host.ElectionAddr"),
        (
            {"Host": {"ElectionAddr": "127.0.0.1", "MessageAddr": "127.0.0.1:1"}},
            "Host.ElectionAddr",
        ),
        (
            {"Host": {"ElectionAddr": "127.0.0.1:x", "MessageAddr": "127.0.0.1:1"}},
            "Host.ElectionAddr",
        ),
        ({"Host": DOC["Host"], "Peer": [{"ElectionAddr": "127.0.0.1:5"}]}, "Peer[0].MessageAddr"),
        ({"Host": DOC["Host"], "Peer": {"a": 1}}, "Peer"),
        (
            {
                "Host": DOC["Host"],
                "Peer": [{"ElectionAddr": "127.0.0.1:5001", "MessageAddr": "127.0.0.1:9"}],
            },
            "Peer[0].ElectionAddr",
        ),
        (
            {"Host": {"ElectionAddr": "127.0.0.1:70000", "MessageAddr": "127.0.0.1:1"}},
            "Host.ElectionAddr",
        ),
    ],
    ids=[
        "not-object",
        "no-host",
        "no-election",
        "no-port",
        "bad-port",
        "peer-no-message",
        "peer-not-list",
        "duplicate",
        "port-range",
    ],
)
def test_GometaConfig_bad_input_names_the_field(doc: object, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(doc)
    assert info.value.field == field


def test_load_config_reports_json_errors_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"Host": {,}')
    with pytest.raises(ConfigError, match="line 1"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")


def test_GometaConfig_is_frozen() -> None:
    config = GometaConfig(host=MemberAddrs(election="a", message="b"), peers=())
    with pytest.raises(AttributeError):
        config.host = config.host  # type: ignore[misc]
