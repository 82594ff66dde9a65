"""construct building blocks for proto2 fields, used by ``_schema``.

construct's own ``VarInt`` accepts varints of any length; gometa's peers use
protobuf-go, which stops at 10 bytes, so ``ProtoVarInt`` enforces that. A
field is its tag (a constant) followed by its value, so a canonical message
body is simply a ``Struct`` of ``Field``s in field-number order.
"""

from __future__ import annotations

from typing import Any

import construct as cs

from wire._varint import VarintError, encode_varint, read_varint

WIRETYPE_VARINT = 0
WIRETYPE_FIXED64 = 1
WIRETYPE_LEN = 2
WIRETYPE_START_GROUP = 3
WIRETYPE_END_GROUP = 4
WIRETYPE_FIXED32 = 5


class ProtoVarIntConstruct(cs.Construct):  # type: ignore[misc]
    """Unsigned protobuf varint: minimal on build, at most 10 bytes on parse."""

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        buf = bytearray()
        while True:
            chunk = cs.stream_read(stream, 1, path)
            buf += chunk
            if chunk[0] < 0x80 or len(buf) == 10:
                break
        try:
            value, _ = read_varint(bytes(buf), 0)
        except VarintError as exc:
            raise cs.ExplicitError(exc.reason, path=path) from exc
        return value

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> int:
        if not isinstance(obj, int) or isinstance(obj, bool) or not 0 <= obj < 1 << 64:
            raise cs.IntegerError(f"varint out of range: {obj!r}", path=path)
        data = encode_varint(obj)
        cs.stream_write(stream, data, len(data), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise cs.SizeofError("varint has no fixed size", path=path)


ProtoVarInt = ProtoVarIntConstruct()
"""A protobuf varint (uint32, uint64 and bool values)."""


class Uint32Adapter(cs.Adapter):  # type: ignore[misc]
    """uint32 field: Go keeps the low 32 bits of whatever varint arrives."""

    def _decode(self, obj: int, context: Any, path: str) -> int:
        return obj & 0xFFFFFFFF

    def _encode(self, obj: int, context: Any, path: str) -> int:
        if not isinstance(obj, int) or not 0 <= obj <= 0xFFFFFFFF:
            raise cs.IntegerError(f"uint32 out of range: {obj!r}", path=path)
        return obj


class BoolAdapter(cs.Adapter):  # type: ignore[misc]
    """bool field: any non-zero varint is true; built as 00 or 01."""

    def _decode(self, obj: int, context: Any, path: str) -> bool:
        return obj != 0

    def _encode(self, obj: bool, context: Any, path: str) -> int:
        return 1 if obj else 0


class StringAdapter(cs.Adapter):  # type: ignore[misc]
    """proto2 string: bytes kept exactly (surrogateescape), never UTF-8 checked."""

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        return obj.decode("utf-8", "surrogateescape")

    def _encode(self, obj: str, context: Any, path: str) -> bytes:
        return obj.encode("utf-8", "surrogateescape")


LengthDelimited = cs.Prefixed(ProtoVarInt, cs.GreedyBytes)
"""Length-prefixed bytes (wire type 2)."""

UInt32 = Uint32Adapter(ProtoVarInt)
UInt64 = ProtoVarInt
Bool = BoolAdapter(ProtoVarInt)
String = StringAdapter(LengthDelimited)
Bytes = LengthDelimited


def tag_bytes(number: int, wire_type: int) -> bytes:
    """The encoded key of a field: varint of ``number << 3 | wire_type``."""
    return encode_varint((number << 3) | wire_type)


def Field(number: int, wire_type: int, value: cs.Construct) -> cs.Construct:  # noqa: N802
    """One proto field as it appears in a canonical body: constant tag, then value."""
    return cs.FocusedSeq("value", cs.Const(tag_bytes(number, wire_type)), "value" / value)


def OptionalField(number: int, wire_type: int, value: cs.Construct) -> cs.Construct:  # noqa: N802
    """An optional field: absent (``None``) or present once."""
    return cs.Optional(Field(number, wire_type, value))
