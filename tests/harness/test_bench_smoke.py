"""``gmc bench codec --smoke --json`` runs end to end through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wire
from harness import cli
from harness.bench import pb_oracle, registry


def test_bench_codec_smoke_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """One JSON object on stdout, a row with a ratio per message type, and the report file."""
    rc = cli.main(["bench", "codec", "--smoke", "--json", "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out)  # exactly one JSON document: json.loads rejects trailing data
    assert doc["name"] == "codec"
    assert doc["smoke"] is True
    rows = {row["type"]: row for row in doc["rows"]}
    assert set(rows) == {cls.__name__ for cls in wire.MESSAGE_CLASSES}
    for name, row in rows.items():
        assert row["wire_us"] > 0, name
        assert row["strict_us"] > 0, name
        if pb_oracle.available():
            assert isinstance(row["ratio"], float) and row["ratio"] > 0, name
            assert isinstance(row["ratio_strict"], float) and row["ratio_strict"] > 0, name
            assert row["same_bytes"] is True, name
    assert json.loads((tmp_path / "codec.json").read_text(encoding="utf-8")) == doc


def test_bench_codec_smoke_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Without ``--json`` the report is a table naming every message type."""
    rc = cli.main(["bench", "codec", "--smoke", "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0
    for cls in wire.MESSAGE_CLASSES:
        assert cls.__name__ in out
    assert (tmp_path / "codec.json").exists()


def test_bench_list_and_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    """``--list`` names the registered benchmarks; an unknown name is a usage error."""
    assert cli.main(["bench", "--list"]) == 0
    assert "codec" in capsys.readouterr().out
    assert cli.main(["bench", "no-such-benchmark"]) == 2
    assert "codec" in registry.names()


def test_bench_codec_without_protobuf(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the protobuf runtime the wire columns still run and the report says why
    the comparison is empty."""
    monkeypatch.setattr(pb_oracle, "available", lambda: False)
    rc = cli.main(["bench", "codec", "--smoke", "--json", "--report-dir", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["environment"]["protobuf"] == "not installed"
    assert any("NOT installed" in note for note in doc["notes"])
    for row in doc["rows"]:
        assert row["wire_us"] > 0
        assert row["ratio"] is None and row["pb_us"] is None
