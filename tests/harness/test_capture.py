"""Capture tooling: golden pcap, synthetic TCP edge cases, corrupt streams, layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet
from scapy.utils import wrpcap

import wire
from harness.capture.layers import LAYERS, GometaFrame, layer_for
from harness.capture.pcap import decode_pcap
from harness.capture.reassembly import CaptureResult, message_fields
from tests.wire.strategies import messages_of

CAPTURES = Path(__file__).resolve().parents[1] / "testdata" / "captures"
GOLDEN_PCAP = CAPTURES / "gometa-3node.pcap"
GOLDEN_JSON = CAPTURES / "gometa-3node.frames.json"
MESSAGE_PORTS = (32010, 32020, 32030, 32011, 32021, 32031)


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = json.loads(GOLDEN_JSON.read_text())
    return frames


def _as_records(result: CaptureResult) -> list[dict[str, Any]]:
    return [
        {
            "pkt_index": f.pkt_index,
            "time": round(f.time, 6),
            "proto": f.proto,
            "stream": f.stream,
            "name": f.name,
            "fields": message_fields(f.message),
            "hex": wire.encode(f.message).hex(),
        }
        for f in result.frames
    ]


def _expected(golden: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = ("pkt_index", "time", "proto", "stream", "name", "fields", "hex")
    return [{k: (round(g[k], 6) if k == "time" else g[k]) for k in keys} for g in golden]


@pytest.mark.parametrize("ports", [None, MESSAGE_PORTS], ids=["detect", "ports"])
def test_golden_pcap_matches_frames_json(
    golden: list[dict[str, Any]], ports: tuple[int, ...] | None
) -> None:
    result = decode_pcap(GOLDEN_PCAP, ports)
    assert result.errors == []
    assert len(result.frames) == 504
    assert _as_records(result) == _expected(golden)
    times = [f.time for f in result.frames]
    assert times == sorted(times)
    if ports is None:  # the RPC streams are recognised as not gometa
        assert result.not_gometa
        rpc = (":32012", ":32022", ":32032")
        assert all(any(port in s for port in rpc) for s in result.not_gometa)
    else:
        assert result.not_gometa == []


# --- synthetic captures ---------------------------------------------------------

CLIENT, SERVER = ("10.0.0.1", 40000), ("10.0.0.2", 32011)


def _frames(n: int, tag: str) -> list[wire.Message]:
    return [
        wire.Proposal(txnid=wire.make_txid(1, i + 1), fid=f"{tag}-{i}", req_id=i, op_code=1,
                      key=f"k{i}", content=bytes([i]) * (i + 3))
        for i in range(n)
    ]  # fmt: skip


def _seg(src: tuple[str, int], dst: tuple[str, int], seq: int, data: bytes = b"",
         flags: str = "PA", t: float = 0.0) -> Packet:  # fmt: skip
    pkt = Ether() / IP(src=src[0], dst=dst[0]) / TCP(sport=src[1], dport=dst[1], seq=seq,
                                                      flags=flags) / data  # fmt: skip
    pkt.time = t
    return pkt


def _write(tmp_path: Path, pkts: list[Packet]) -> Path:
    for i, p in enumerate(pkts):
        p.time = 1000.0 + i * 0.001
    path = tmp_path / "synthetic.pcap"
    wrpcap(str(path), pkts)
    return path


def test_synthetic_out_of_order_retransmitted_coalesced(tmp_path: Path) -> None:
    msgs = _frames(6, "a")
    enc = [wire.encode(m) for m in msgs]
    stream = b"".join(enc)
    isn = 0xFFFFFF00  # wraps around 2**32 inside the stream
    base = isn + 1

    def at(off: int, data: bytes) -> Packet:
        return _seg(CLIENT, SERVER, (base + off) % (1 << 32), data)

    # One segment with frames 0 and 1 whole plus half of frame 2.
    cut1 = len(enc[0]) + len(enc[1]) + len(enc[2]) // 2
    cut2 = cut1 + 20
    pkts = [
        _seg(CLIENT, SERVER, isn, flags="S"),
        _seg(SERVER, CLIENT, 5000, flags="SA"),
        at(0, stream[:cut1]),
        at(cut2, stream[cut2:]),  # out of order: the tail before the middle
        at(0, stream[:cut1]),  # retransmission
        at(cut1 - 5, stream[cut1 - 5 : cut2]),  # overlapping retransmission fills the gap
        at(cut2, stream[cut2:]),  # late duplicate
        _seg(CLIENT, SERVER, (base + len(stream)) % (1 << 32), flags="FA"),
    ]
    # UDP election datagram alongside.
    vote = wire.Vote(round=1, status=1, epoch=0, cnd_id="10.0.0.1:32010",
                     cnd_logged_txn_id=0, cnd_committed_txn_id=0, solicit=False)  # fmt: skip
    pkts.append(Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
                / UDP(sport=32010, dport=32020) / wire.encode(vote))  # fmt: skip
    for ports in (None, MESSAGE_PORTS):
        result = decode_pcap(_write(tmp_path, pkts), ports)
        assert result.errors == []
        got = [f.message for f in result.frames]
        assert got == [*msgs, vote]
        tcp_pkts = [f.pkt_index for f in result.frames if f.proto == "tcp"]
        assert tcp_pkts == [2, 2, 5, 5, 5, 5]


def test_synthetic_random_cuts_every_frame_once(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    msgs = _frames(30, "r")
    stream = b"".join(wire.encode(m) for m in msgs)
    isn = 123456
    segs: list[tuple[int, bytes]] = []
    off = 0
    while off < len(stream):
        n = rng.randint(1, 200)
        segs.append((off, stream[off : off + n]))
        off += n
    # duplicates and swapped neighbours
    for i in range(0, len(segs) - 1, 3):
        segs[i], segs[i + 1] = segs[i + 1], segs[i]
    segs += rng.sample(segs, 5)
    pkts = [_seg(CLIENT, SERVER, isn, flags="S")]
    pkts += [_seg(CLIENT, SERVER, isn + 1 + o, d) for o, d in segs]
    result = decode_pcap(_write(tmp_path, pkts), MESSAGE_PORTS)
    assert result.errors == []
    assert [f.message for f in result.frames] == msgs


def test_corrupted_stream_reports_error_and_keeps_others(tmp_path: Path) -> None:
    good = _frames(3, "g")
    bad = _frames(3, "b")
    bad_bytes = bytearray(b"".join(wire.encode(m) for m in bad))
    second = len(wire.encode(bad[0]))
    bad_bytes[second + 8 : second + 16] = (99999).to_bytes(8, "big")  # absurd name_len
    other = ("10.0.0.3", 40001)
    pkts = [
        _seg(CLIENT, SERVER, 1, flags="S"),
        _seg(other, SERVER, 7, flags="S"),
        _seg(CLIENT, SERVER, 2, bytes(bad_bytes)),
        _seg(other, SERVER, 8, b"".join(wire.encode(m) for m in good)),
        _seg(CLIENT, SERVER, 2 + len(bad_bytes), b"\x00" * 40),  # after failure: ignored
        Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=32010, dport=32020)
        / b"\x00\x00\x00\x00\x00\x00\x00\x05junk",
    ]  # fmt: skip
    result = decode_pcap(_write(tmp_path, pkts), MESSAGE_PORTS)
    tcp_err = [e for e in result.errors if e.proto == "tcp"]
    assert len(tcp_err) == 1
    assert tcp_err[0].stream == "10.0.0.1:40000->10.0.0.2:32011"
    assert tcp_err[0].offset == second + 8  # the name_len field of frame 2
    assert [e.proto for e in result.errors].count("udp") == 1
    assert [f.message for f in result.frames] == [bad[0], *good]


def test_truncated_stream_reports_incomplete_frame(tmp_path: Path) -> None:
    enc = wire.encode(_frames(1, "t")[0])
    pkts = [_seg(CLIENT, SERVER, 1, flags="S"), _seg(CLIENT, SERVER, 2, enc + enc[:10])]
    result = decode_pcap(_write(tmp_path, pkts), MESSAGE_PORTS)
    assert len(result.frames) == 1
    assert [(e.offset, e.reason.split(":")[0]) for e in result.errors] == [
        (len(enc), "incomplete frame")
    ]


# --- layers ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LAYERS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_layer_round_trip(name: str, data: st.DataObject) -> None:
    cls = wire.MESSAGE_BY_NAME[name]
    msg = data.draw(messages_of(cls, valid_utf8=True))
    raw = wire.encode(msg)
    built = bytes(GometaFrame() / layer_for(msg))
    assert built == raw
    parsed = GometaFrame(raw)
    layer = parsed.getlayer(LAYERS[name])
    assert layer is not None
    assert layer.to_message() == msg
    assert bytes(parsed) == raw


def test_layers_bound_to_udp_election_ports() -> None:
    vote = wire.Vote(round=2, status=1, epoch=1, cnd_id="a", cnd_logged_txn_id=3,
                     cnd_committed_txn_id=2, solicit=True)  # fmt: skip
    pkt = IP(bytes(IP() / UDP(sport=32010, dport=32020) / wire.encode(vote)))
    assert pkt.haslayer(GometaFrame)
    assert pkt[LAYERS["Vote"]].to_message() == vote


def test_cli_capture_decode(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from harness.cli import main

    assert main(["capture", "decode", str(GOLDEN_PCAP), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 504
    assert json.loads(lines[-1])["hex"] == json.loads(GOLDEN_JSON.read_text())[-1]["hex"]
    assert main(["capture", "decode", str(GOLDEN_PCAP)]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[3] == "Vote"
