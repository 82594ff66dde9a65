"""Read a pcap with scapy and decode its gometa frames (via ``reassembly``).

Only outer TCP/UDP over IPv4/IPv6 is looked at: ICMP errors quoting a Vote,
IP fragments and non-IP packets are skipped. Malformed frames come back as
:class:`~harness.capture.reassembly.StreamError` records, never exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet
from scapy.utils import PcapReader

from harness.capture.reassembly import (
    CaptureResult,
    DecodedFrame,
    ParsedPacket,
    StreamError,
    reassemble,
)

__all__ = [
    "CaptureResult",
    "DecodedFrame",
    "ParsedPacket",
    "StreamError",
    "decode_packets",
    "decode_pcap",
    "parse_packet",
    "read_packets",
]

_FIN, _SYN, _RST = 0x01, 0x02, 0x04


def parse_packet(index: int, pkt: Packet) -> ParsedPacket | None:
    """The TCP segment or UDP datagram carried directly by ``pkt``'s IP layer."""
    ip = pkt.getlayer(IP)
    if ip is not None:
        if int(ip.frag) or int(ip.flags) & 0x1:  # fragment: not reassembled
            return None
    else:
        ip = pkt.getlayer(IPv6)
        if ip is None:
            return None
    l4 = ip.payload
    time = float(pkt.time)
    if type(l4) is TCP:
        flags = int(l4.flags)
        return ParsedPacket(
            index, time, "tcp", str(ip.src), int(l4.sport), str(ip.dst), int(l4.dport),
            bytes(l4.payload), seq=int(l4.seq), syn=bool(flags & _SYN),
            fin=bool(flags & _FIN), rst=bool(flags & _RST),
        )  # fmt: skip
    if type(l4) is UDP:
        return ParsedPacket(
            index, time, "udp", str(ip.src), int(l4.sport), str(ip.dst), int(l4.dport),
            bytes(l4.payload),
        )  # fmt: skip
    return None


def read_packets(path: str | Path) -> Iterator[ParsedPacket]:
    """Every TCP/UDP packet of the capture, in capture order."""
    with PcapReader(str(path)) as reader:
        for index, pkt in enumerate(reader):
            parsed = parse_packet(index, pkt)
            if parsed is not None:
                yield parsed


def decode_packets(packets: Iterable[Packet], ports: Iterable[int] | None = None) -> CaptureResult:
    """Decode scapy packets given in capture order."""
    parsed = (parse_packet(i, p) for i, p in enumerate(packets))
    return reassemble((p for p in parsed if p is not None), ports)


def decode_pcap(path: str | Path, ports: Iterable[int] | None = None) -> CaptureResult:
    """Decode every gometa frame of a pcap file; see ``reassembly.Reassembler``."""
    return reassemble(read_packets(path), ports)
