"""Per-direction TCP reassembly and UDP datagram decoding, feeding ``wire``.

Pure: it takes :class:`ParsedPacket` records (see ``pcap`` for the scapy side)
in capture order and yields :class:`DecodedFrame` records in completion order
(the order of the packet that completes each frame). TCP bytes are placed by
sequence number modulo 2**32 relative to the ISN from the SYN (or the first
segment seen); bytes already delivered are trimmed, so retransmissions and
overlaps count once, and segments after a gap are held until it fills. We do
this ourselves instead of scapy's ``TCPSession``, which loses frames when one
buffer holds two or more whole frames plus a partial one (style §6).

Malformed input never raises: it becomes a :class:`StreamError` and only that
stream direction stops. With no port filter, a direction whose very first
frame does not decode is reported as not gometa (e.g. Go net/rpc traffic).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import wire

Proto = Literal["tcp", "udp"]
_MOD = 1 << 32
_HALF = 1 << 31


@dataclass(frozen=True, slots=True)
class ParsedPacket:
    """One TCP segment or UDP datagram, already parsed from the link layer."""

    index: int
    time: float
    proto: Proto
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    seq: int = 0
    syn: bool = False
    fin: bool = False
    rst: bool = False

    @property
    def stream(self) -> str:
        """``src_ip:port->dst_ip:port`` of this direction."""
        return f"{self.src}:{self.sport}->{self.dst}:{self.dport}"


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """One gometa message, stamped with the packet that completed it."""

    time: float
    proto: Proto
    src: str
    dst: str
    message: wire.Message
    pkt_index: int = -1

    @property
    def stream(self) -> str:
        """``src->dst``."""
        return f"{self.src}->{self.dst}"

    @property
    def name(self) -> str:
        """The gometa type name."""
        return wire.message_name(self.message)


@dataclass(frozen=True, slots=True)
class StreamError:
    """A malformed frame or an unfinished stream: where and why."""

    stream: str
    proto: Proto
    offset: int
    reason: str
    pkt_index: int = -1

    def __str__(self) -> str:
        return f"{self.proto} {self.stream} offset {self.offset}: {self.reason}"


@dataclass(slots=True)
class CaptureResult:
    """Everything decoded from a capture."""

    frames: list[DecodedFrame] = field(default_factory=list)
    errors: list[StreamError] = field(default_factory=list)
    not_gometa: list[str] = field(default_factory=list)
    """Stream directions (``proto src->dst``) whose traffic is not gometa."""


@dataclass(slots=True)
class _Direction:
    src: str
    dst: str
    base: int
    decoder: wire.FrameDecoder = field(default_factory=wire.FrameDecoder)
    delivered: int = 0
    pending: dict[int, bytes] = field(default_factory=dict)
    frames: int = 0
    dead: bool = False


class Reassembler:
    """Feed :meth:`add` packets in capture order, then call :meth:`finish`.

    ``ports``: only traffic with a source or destination port in this set is
    decoded, and every failure there is an error. ``None`` detects gometa
    streams by trying to decode them.
    """

    def __init__(self, ports: Iterable[int] | None = None) -> None:
        self._ports = None if ports is None else frozenset(ports)
        self._dirs: dict[str, _Direction] = {}
        self.result = CaptureResult()
        self._not_gometa: set[str] = set()

    def _wanted(self, pkt: ParsedPacket) -> bool:
        return self._ports is None or pkt.sport in self._ports or pkt.dport in self._ports

    def add(self, pkt: ParsedPacket) -> list[DecodedFrame]:
        """Process one packet; return the frames it completes."""
        if not self._wanted(pkt):
            return []
        out = self._add_udp(pkt) if pkt.proto == "udp" else self._add_tcp(pkt)
        self.result.frames.extend(out)
        return out

    def _skip(self, key: str) -> None:
        if key not in self._not_gometa:
            self._not_gometa.add(key)
            self.result.not_gometa.append(key)

    def _add_udp(self, pkt: ParsedPacket) -> list[DecodedFrame]:
        if not pkt.payload:
            return []
        key = f"udp {pkt.stream}"
        try:
            msg = wire.decode_datagram(pkt.payload)
        except wire.DecodeError as exc:
            if self._ports is None:
                self._skip(key)
            else:
                self.result.errors.append(
                    StreamError(pkt.stream, "udp", exc.offset, str(exc), pkt.index)
                )
            return []
        src, dst = f"{pkt.src}:{pkt.sport}", f"{pkt.dst}:{pkt.dport}"
        return [DecodedFrame(pkt.time, "udp", src, dst, msg, pkt.index)]

    def _add_tcp(self, pkt: ParsedPacket) -> list[DecodedFrame]:
        key = pkt.stream
        d = self._dirs.get(key)
        if pkt.syn:
            if d is not None and (d.base - 1) % _MOD != pkt.seq:
                self._close(key, d)  # a new connection on the same 4-tuple
                d = None
            if d is None:
                d = _Direction(f"{pkt.src}:{pkt.sport}", f"{pkt.dst}:{pkt.dport}", pkt.seq + 1)
                self._dirs[key] = d
            seq = pkt.seq + 1
        else:
            seq = pkt.seq
            if d is None:
                if not pkt.payload:
                    return []
                d = _Direction(f"{pkt.src}:{pkt.sport}", f"{pkt.dst}:{pkt.dport}", pkt.seq)
                self._dirs[key] = d
        if d.dead or not pkt.payload:
            return []
        # Place by sequence number relative to what we delivered (handles wrap).
        delta = (seq - (d.base + d.delivered)) % _MOD
        if delta >= _HALF:
            delta -= _MOD
        start = d.delivered + delta
        data = pkt.payload
        if start + len(data) <= d.delivered:
            return []  # retransmission of delivered bytes
        if start < d.delivered:
            data = data[d.delivered - start :]
            start = d.delivered
        held = d.pending.get(start)
        if held is None or len(held) < len(data):
            d.pending[start] = data
        return self._drain(key, d, pkt)

    def _drain(self, key: str, d: _Direction, pkt: ParsedPacket) -> list[DecodedFrame]:
        chunks: list[bytes] = []
        while d.pending:
            start = min(d.pending)
            if start > d.delivered:
                break
            data = d.pending.pop(start)
            if start + len(data) <= d.delivered:
                continue
            data = data[d.delivered - start :]
            chunks.append(data)
            d.delivered += len(data)
        if not chunks:
            return []
        try:
            msgs = d.decoder.feed(b"".join(chunks))
        except wire.DecodeError as exc:
            msgs = list(exc.decoded_before)
            d.dead = True
            d.pending.clear()
            if self._ports is None and d.frames == 0 and not msgs and exc.offset == 0:
                self._skip(f"tcp {key}")
            else:
                self.result.errors.append(StreamError(key, "tcp", exc.offset, str(exc), pkt.index))
        d.frames += len(msgs)
        return [DecodedFrame(pkt.time, "tcp", d.src, d.dst, m, pkt.index) for m in msgs]

    def _close(self, key: str, d: _Direction) -> None:
        if d.dead:
            return
        if d.pending:
            gap = min(d.pending)
            self.result.errors.append(
                StreamError(key, "tcp", d.delivered, f"gap: bytes missing before {gap}")
            )
        elif d.decoder.buffered:
            off = d.delivered - d.decoder.buffered
            self.result.errors.append(
                StreamError(key, "tcp", off, f"incomplete frame: {d.decoder.buffered} bytes")
            )
        d.dead = True

    def finish(self) -> CaptureResult:
        """Report held segments and partial frames; return the result."""
        for key, d in self._dirs.items():
            if self._ports is None and d.frames == 0:
                if d.delivered or d.pending:
                    self._skip(f"tcp {key}")
                continue
            self._close(key, d)
        return self.result


def reassemble(
    packets: Iterable[ParsedPacket], ports: Iterable[int] | None = None
) -> CaptureResult:
    """Decode every gometa frame in ``packets`` (capture order)."""
    r = Reassembler(ports)
    for pkt in packets:
        r.add(pkt)
    return r.finish()


def message_fields(msg: wire.Message) -> dict[str, object]:
    """Every schema field by attribute name; bytes as lowercase hex (as frames.json)."""
    from wire._schema import SPEC_BY_CLASS

    out: dict[str, object] = {}
    for spec in SPEC_BY_CLASS[type(msg)].fields:
        value = getattr(msg, spec.attr)
        out[spec.attr] = value.hex() if isinstance(value, bytes) else value
    return out
