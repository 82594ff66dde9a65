"""Public encode/decode entry points: whole frames, datagrams and TCP streams.

Header checks follow gometa's order (spec §1.2): total_len cap, name_len cap,
empty name, registered name, length underflow, empty body, then the body. A
stream decoder reports each fault as soon as the bytes that prove it arrive,
never after waiting for a frame that a lying header says is coming.
"""

from __future__ import annotations

from dataclasses import dataclass

from wire import _findings as fk
from wire._errors import DecodeError, EncodeError, NonCanonicalError
from wire._fast import BODY_DECODERS, BODY_ENCODERS, FRAME_ENCODERS, HEADER
from wire._findings import Finding
from wire._general import decode_body_general
from wire._messages import Message
from wire._schema import (
    HEADER_SIZE,
    MAX_DATAGRAM_SIZE,
    MAX_FRAME_TOTAL_LEN,
    MAX_NAME_LEN,
    SPEC_BY_CLASS,
    SPECS,
    MessageSpec,
)

_SPEC_BY_NAME_BYTES: dict[bytes, MessageSpec] = {
    name.encode("ascii"): spec for name, spec in SPECS.items()
}
_UNPACK_U64 = HEADER.unpack_from


def _as_bytes(data: object, path: str) -> bytes:
    """Bytes-like input as bytes; anything else is a DecodeError, never a TypeError."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise DecodeError("not_bytes", offset=0, path=path, detail=f"got {type(data).__name__}")


def message_name(msg: Message | type[Message]) -> str:
    """The registered wire name of a message or message class."""
    cls = msg if isinstance(msg, type) else type(msg)
    try:
        return SPEC_BY_CLASS[cls].name
    except KeyError:
        raise EncodeError(
            "unknown_message", "frame.name", f"{cls!r} is not a gometa message"
        ) from None


def encode(msg: Message) -> bytes:
    """The whole frame for ``msg``, byte-identical to what a Go node sends."""
    encoder = FRAME_ENCODERS.get(type(msg))
    if encoder is None:
        raise EncodeError("unknown_message", "frame.name", f"{type(msg)!r} is not a gometa message")
    return encoder(msg)


def encode_body(msg: Message) -> bytes:
    """Only the protobuf payload of ``msg``."""
    encoder = BODY_ENCODERS.get(type(msg))
    if encoder is None:
        raise EncodeError("unknown_message", "body", f"{type(msg)!r} is not a gometa message")
    return encoder(msg)


def _decode_body(spec: MessageSpec, body: bytes, base: int, strict: bool, raw: bytes) -> Message:
    if not strict:
        msg = BODY_DECODERS[spec.name](body)
        if msg is not None:
            return msg
        return decode_body_general(spec, body, base)[0]
    msg, findings = decode_body_general(spec, body, base, collect=True)
    if findings:
        raise NonCanonicalError(findings, raw=raw)
    return msg


def decode_body(name: str, body: bytes, *, strict: bool = False) -> Message:
    """Decode a protobuf payload registered under ``name``."""
    spec = SPECS.get(name)
    if spec is None:
        raise DecodeError("unknown_name", offset=0, path="frame.name", detail=repr(name))
    raw = _as_bytes(body, "body")
    return _decode_body(spec, raw, 0, strict, raw)


def _lookup(name: bytes, offset: int, raw: bytes) -> MessageSpec:
    spec = _SPEC_BY_NAME_BYTES.get(name)
    if spec is None:
        raise DecodeError(
            "unknown_name", offset=offset, path="frame.name", detail=repr(name), raw=raw
        )
    return spec


def _check_total_len(total_len: int, offset: int, limit: int, raw: bytes) -> None:
    if total_len > limit:
        raise DecodeError(
            "total_len_too_large",
            offset=offset,
            path="frame.total_len",
            detail=f"{total_len} > {limit}",
            raw=raw,
        )


def _check_name_len(name_len: int, offset: int, raw: bytes) -> None:
    if name_len > MAX_NAME_LEN:
        raise DecodeError(
            "name_too_long",
            offset=offset + 8,
            path="frame.name_len",
            detail=f"{name_len} > {MAX_NAME_LEN}",
            raw=raw,
        )
    if name_len == 0:
        raise DecodeError("empty_name", offset=offset + 8, path="frame.name_len", raw=raw)


def _check_body_len(total_len: int, name_len: int, offset: int, raw: bytes) -> None:
    if total_len < 8 + name_len:
        raise DecodeError(
            "length_underflow",
            offset=offset,
            path="frame.total_len",
            detail=f"total_len {total_len} < 8 + name_len {name_len}",
            raw=raw,
        )
    if total_len == 8 + name_len:
        raise DecodeError("empty_body", offset=offset, path="frame.body", raw=raw)


def decode(data: bytes, *, strict: bool = False) -> Message:
    """Decode exactly one whole frame; anything malformed is a DecodeError.

    ``strict`` also rejects input Go accepts but never sends (see ``inspect``).
    """
    data = _as_bytes(data, "frame")
    size = len(data)
    if size < 8:
        raise DecodeError("truncated_header", offset=size, path="frame.total_len", raw=data)
    _check_total_len(int.from_bytes(data[:8], "big"), 0, MAX_FRAME_TOTAL_LEN, data)
    if size < HEADER_SIZE:
        raise DecodeError("truncated_header", offset=size, path="frame.name_len", raw=data)
    total_len, name_len = _UNPACK_U64(data)
    _check_name_len(name_len, 0, data)
    if size < HEADER_SIZE + name_len:
        raise DecodeError("truncated_name", offset=size, path="frame.name", raw=data)
    spec = _lookup(data[HEADER_SIZE : HEADER_SIZE + name_len], HEADER_SIZE, data)
    _check_body_len(total_len, name_len, 0, data)
    frame_end = 8 + total_len
    if size < frame_end:
        raise DecodeError(
            "truncated_frame",
            offset=size,
            path="frame.body",
            detail=f"{frame_end - size} bytes missing",
            raw=data,
        )
    if size > frame_end:
        raise DecodeError(
            "trailing_bytes",
            offset=frame_end,
            path="frame",
            detail=f"{size - frame_end} bytes after the frame",
            raw=data,
        )
    start = HEADER_SIZE + name_len
    return _decode_body(spec, data[start:], start, strict, data)


@dataclass(frozen=True, slots=True)
class Inspection:
    """A leniently decoded message and everything non-canonical about it."""

    message: Message
    findings: tuple[Finding, ...]

    @property
    def canonical(self) -> bool:
        """True when Go would have sent exactly these bytes."""
        return not self.findings


def _datagram_parts(data: bytes) -> tuple[MessageSpec, bytes, int, list[Finding]]:
    findings: list[Finding] = []
    if len(data) > MAX_DATAGRAM_SIZE:
        findings.append(
            Finding(
                kind=fk.DATAGRAM_TRUNCATED,
                offset=MAX_DATAGRAM_SIZE,
                path="datagram",
                detail=f"{len(data)} bytes cut to {MAX_DATAGRAM_SIZE}",
            )
        )
        data = data[:MAX_DATAGRAM_SIZE]
    if len(data) < HEADER_SIZE:
        raise DecodeError(
            "datagram_too_short", offset=len(data), path="datagram", detail=f"{len(data)} bytes"
        )
    total_len, name_len = _UNPACK_U64(data)
    if name_len > len(data) - HEADER_SIZE:
        raise DecodeError(
            "name_len_exceeds_datagram",
            offset=8,
            path="frame.name_len",
            detail=f"{name_len} > {len(data) - HEADER_SIZE}",
        )
    spec = _lookup(data[HEADER_SIZE : HEADER_SIZE + name_len], HEADER_SIZE, data)
    if total_len != len(data) - 8:
        findings.append(
            Finding(
                kind=fk.DATAGRAM_TOTAL_LEN_MISMATCH,
                offset=0,
                path="frame.total_len",
                detail=f"total_len {total_len}, datagram carries {len(data) - 8}",
            )
        )
    return spec, data[HEADER_SIZE + name_len :], HEADER_SIZE + name_len, findings


def decode_datagram(data: bytes, *, strict: bool = False) -> Message:
    """Decode a UDP datagram as gometa reads it (spec §1.3).

    Only the first 1000 bytes are read; total_len is ignored (strict mode
    flags a wrong one); the body is everything after the name.
    """
    data = _as_bytes(data, "frame")
    if strict:
        found = inspect_datagram(data)
        if found.findings:
            raise NonCanonicalError(found.findings, raw=data)
        return found.message
    spec, body, base, _ = _datagram_parts(data)
    return _decode_body(spec, body, base, False, data)


def inspect(data: bytes) -> Inspection:
    """Decode one frame leniently and list every non-canonical feature."""
    data = _as_bytes(data, "frame")
    try:
        return Inspection(decode(data, strict=True), ())
    except NonCanonicalError as exc:
        msg = decode(data)
        return Inspection(msg, exc.findings)


def inspect_datagram(data: bytes) -> Inspection:
    """``inspect`` for a UDP datagram."""
    data = _as_bytes(data, "frame")
    spec, body, base, findings = _datagram_parts(data)
    msg, body_findings = decode_body_general(spec, body, base, collect=True)
    return Inspection(msg, tuple(findings + body_findings))


class FrameDecoder:
    """Incremental TCP frame decoder with gometa's limits (spec §1.2).

    ``feed`` returns the messages completed by a chunk. A malformed frame
    raises DecodeError (offsets count from the start of the stream) carrying
    the messages decoded before it in ``decoded_before``; the decoder is then
    spent and every later ``feed`` raises. ``buffered`` tells a driver that a
    partial frame is pending, so it can put a deadline on it (W4).
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        max_total_len: int = MAX_FRAME_TOTAL_LEN,
    ) -> None:
        self._strict = strict
        self._max_total_len = max_total_len
        self._buf = bytearray()
        self._stream_offset = 0
        self._error: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held so far."""
        return len(self._buf)

    @property
    def failed(self) -> DecodeError | None:
        """The error that spent this decoder, if any."""
        return self._error

    def feed(self, chunk: bytes) -> list[Message]:
        """Add bytes; return every message they complete, in order."""
        if self._error is not None:
            raise DecodeError(
                "decoder_failed",
                offset=self._error.offset,
                path=self._error.path,
                detail=f"stream already failed: {self._error.reason}",
            )
        buf = self._buf
        buf += _as_bytes(chunk, "stream")
        out: list[Message] = []
        pos = 0
        try:
            while True:
                avail = len(buf) - pos
                if avail < 8:
                    break
                base = self._stream_offset + pos
                total_len = int.from_bytes(buf[pos : pos + 8], "big")
                _check_total_len(total_len, base, self._max_total_len, b"")
                if avail < HEADER_SIZE:
                    break
                name_len = int.from_bytes(buf[pos + 8 : pos + HEADER_SIZE], "big")
                _check_name_len(name_len, base, b"")
                if avail < HEADER_SIZE + name_len:
                    break
                name = bytes(buf[pos + HEADER_SIZE : pos + HEADER_SIZE + name_len])
                spec = _lookup(name, base + HEADER_SIZE, b"")
                _check_body_len(total_len, name_len, base, b"")
                if avail < 8 + total_len:
                    break
                end = pos + 8 + total_len
                raw = bytes(buf[pos:end])
                body_start = HEADER_SIZE + name_len
                out.append(
                    _decode_body(spec, raw[body_start:], base + body_start, self._strict, raw)
                )
                pos = end
        except DecodeError as exc:
            exc.decoded_before = tuple(out)
            self._error = exc
            self._buf = bytearray()
            raise
        if pos:
            del buf[:pos]
            self._stream_offset += pos
        return out
