"""Tools for building frames Go would never send, on purpose.

The conformance suite crafts invalid input (fields out of order, wrong wire
types, lengths that lie, unknown names) with these, so no test hand-packs
bytes. Start from :func:`fields_of` (the canonical field list of a message),
edit the list, then wrap it with :func:`body` and :func:`frame`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from wire._combinators import (
    WIRETYPE_FIXED32,
    WIRETYPE_FIXED64,
    WIRETYPE_LEN,
    WIRETYPE_VARINT,
)
from wire._messages import Message
from wire._schema import SPEC_BY_CLASS, Frame, Kind, RawFrame
from wire._varint import encode_varint, encode_varint_width

__all__ = [
    "WIRETYPE_FIXED32",
    "WIRETYPE_FIXED64",
    "WIRETYPE_LEN",
    "WIRETYPE_VARINT",
    "RawField",
    "body",
    "datagram",
    "fields_of",
    "frame",
    "varint",
]


def varint(value: int, *, width: int | None = None) -> bytes:
    """A varint, minimal or padded to ``width`` bytes (up to any length)."""
    return encode_varint(value) if width is None else encode_varint_width(value, width)


@dataclass(frozen=True, slots=True)
class RawField:
    """One field exactly as it goes on the wire, with no type checking.

    ``value`` is an int for wire type 0 (and for a forced key), bytes for
    every other wire type. ``varint_width`` pads the value's varint (or, for
    wire type 2, the length prefix); ``length`` makes a length prefix lie.
    """

    number: int
    wire_type: int
    value: int | bytes
    varint_width: int | None = None
    length: int | None = None

    def to_bytes(self) -> bytes:
        """Key then value."""
        key = varint((self.number << 3) | self.wire_type)
        if isinstance(self.value, int):
            return key + varint(self.value, width=self.varint_width)
        if self.wire_type == WIRETYPE_LEN:
            size = len(self.value) if self.length is None else self.length
            return key + varint(size, width=self.varint_width) + self.value
        return key + self.value

    def with_value(self, value: int | bytes) -> RawField:
        """A copy with another value."""
        return replace(self, value=value)


def fields_of(msg: Message) -> list[RawField]:
    """The canonical field list of ``msg``, in the order Go emits it."""
    spec = SPEC_BY_CLASS[type(msg)]
    out: list[RawField] = []
    for field in spec.fields:
        value = getattr(msg, field.attr)
        if value is None:
            continue
        if field.kind is Kind.STRING:
            value = value.encode("utf-8", "surrogateescape")
        elif field.kind is Kind.BOOL:
            value = int(value)
        out.append(RawField(field.number, field.kind.wire_type, value))
    return out


def body(fields: Iterable[RawField]) -> bytes:
    """Concatenate raw fields into a protobuf payload."""
    return b"".join(f.to_bytes() for f in fields)


def frame(
    name: str | bytes,
    payload: bytes,
    *,
    total_len: int | None = None,
    name_len: int | None = None,
) -> bytes:
    """A frame around ``payload``; ``total_len``/``name_len`` may lie."""
    raw_name = name.encode("ascii") if isinstance(name, str) else name
    if total_len is None and name_len is None:
        built: bytes = Frame.build({"name": raw_name, "body": payload})
        return built
    honest_total = 8 + len(raw_name) + len(payload)
    lie: bytes = RawFrame.build(
        {
            "total_len": honest_total if total_len is None else total_len,
            "name_len": len(raw_name) if name_len is None else name_len,
            "rest": raw_name + payload,
        }
    )
    return lie


datagram = frame
"""A UDP datagram is framed exactly like a TCP frame (spec §1.3)."""
