"""Protobuf base-128 varints with Go's limits.

protobuf-go reads at most 10 bytes and refuses a 10th byte above 1 (the
value would not fit 64 bits); we match that exactly so a frame Go rejects is
rejected here too.
"""

from __future__ import annotations

MAX_VARINT_BYTES = 10
UINT64_MAX = (1 << 64) - 1
UINT32_MAX = (1 << 32) - 1

_SMALL = tuple(bytes((i,)) for i in range(128))


class VarintError(Exception):
    """Internal: a varint is truncated or overflows. Callers wrap it in DecodeError."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def encode_varint(value: int) -> bytes:
    """Minimal encoding of a non-negative integer below 2**64."""
    if value < 128:
        return _SMALL[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_varint_width(value: int, width: int) -> bytes:
    """Encode ``value`` padded to exactly ``width`` bytes (non-minimal on purpose)."""
    out = bytearray()
    for i in range(width):
        group = value & 0x7F
        value >>= 7
        out.append(group | (0x80 if i < width - 1 else 0))
    if value:
        raise ValueError(f"value does not fit in {width} varint bytes")
    return bytes(out)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read one varint at ``pos``; return (value, position after it)."""
    end = len(data)
    result = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise VarintError("truncated_varint", start)
        byte = data[pos]
        pos += 1
        if pos - start == MAX_VARINT_BYTES:
            if byte > 1:
                raise VarintError("varint_overflow", start)
            return result | (byte << shift), pos
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def is_minimal(value: int, length: int) -> bool:
    """Whether ``length`` bytes is the shortest encoding of ``value``."""
    return length == len(encode_varint(value))
