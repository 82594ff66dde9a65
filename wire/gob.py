"""The part of Go's encoding/gob that gometa's client path needs.

gometa's RequestAddr speaks Go ``net/rpc`` over HTTP, gob encoded (spec
§9.2). Python has no gob library, so this module carries gob's wire rules
for what that exchange uses: struct type definitions, and struct values of
strings, byte slices, ints, uints and bools; a generic decoder reads any
struct of those (and slices of them) that a peer defines.

Gob in brief (encoding/gob docs): a stream of messages, each ``uint length``
then ``int type id`` then data. A negative id defines type ``-id`` with a
``wireType`` value; a positive id carries a value. Structs are (field-number
delta, value) pairs ending in delta 0; zero values are omitted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

BOOL, INT, UINT, FLOAT, BYTES, STRING = 1, 2, 3, 4, 5, 6
"""Predefined gob type ids (encoding/gob/type.go)."""
FIRST_USER_ID = 65
MAX_MESSAGE = 64 * 1024 * 1024
"""Largest gob message accepted: well above gometa's 20 MiB values, far below memory trouble."""
MAX_DEPTH = 64
"""Deepest nesting of structs and slices decoded; a self-referencing type ends here, not in
Python's recursion limit."""


class GobError(ValueError):
    """The bytes are not gob this module understands; says what and where."""


# ---------------------------------------------------------------- encoding


def encode_uint(x: int) -> bytes:
    """Gob unsigned int: one byte below 128, else negated byte count + BE bytes."""
    if x < 0:
        raise GobError(f"negative uint {x}")
    if x < 0x80:
        return bytes([x])
    body = x.to_bytes((x.bit_length() + 7) // 8, "big")
    return bytes([256 - len(body)]) + body


def encode_int(i: int) -> bytes:
    """Gob signed int: zig-zag folded into an unsigned int."""
    return encode_uint((~i << 1) | 1 if i < 0 else i << 1)


def encode_bytes(b: bytes) -> bytes:
    """A string or []byte value: length then bytes."""
    return encode_uint(len(b)) + b


def encode_struct(fields: list[tuple[int, bytes]]) -> bytes:
    """``fields`` are (index, encoded value) in index order; zero values left out."""
    out, prev = bytearray(), -1
    for index, value in fields:
        out += encode_uint(index - prev) + value
        prev = index
    out.append(0)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class StructType:
    """A struct type one side sends: its gob id, name and (field, type id) list."""

    type_id: int
    name: str
    fields: tuple[tuple[str, int], ...]

    def definition(self) -> bytes:
        """The wireType value that defines this struct (StructT is field 2)."""
        common = encode_struct(
            [(0, encode_bytes(self.name.encode())), (1, encode_int(self.type_id))]
        )
        elems = b"".join(
            encode_struct([(0, encode_bytes(n.encode())), (1, encode_int(t))])
            for n, t in self.fields
        )
        field_list = encode_uint(len(self.fields)) + elems
        struct_type = encode_struct([(0, common), (1, field_list)])
        return encode_struct([(2, struct_type)])

    def value(self, values: dict[str, Any]) -> bytes:
        """Encode a struct value from ``{field name: python value}``; zeros omitted."""
        out: list[tuple[int, bytes]] = []
        for index, (name, type_id) in enumerate(self.fields):
            value = values.get(name)
            if not value:
                continue
            if type_id == STRING:
                out.append((index, encode_bytes(str(value).encode("utf-8", "surrogateescape"))))
            elif type_id == BYTES:
                out.append((index, encode_bytes(bytes(value))))
            elif type_id == UINT:
                out.append((index, encode_uint(int(value))))
            elif type_id == INT:
                out.append((index, encode_int(int(value))))
            elif type_id == BOOL:
                out.append((index, b"\x01"))
            else:
                raise GobError(f"cannot encode field {name} of type {type_id}")
        return encode_struct(out)


def _message(type_id: int, data: bytes) -> bytes:
    payload = encode_int(type_id) + data
    return encode_uint(len(payload)) + payload


@dataclass(slots=True)
class GobEncoder:
    """One direction of a connection: sends each type definition once."""

    sent: set[int] = field(default_factory=set)

    def encode(self, st: StructType, values: dict[str, Any]) -> bytes:
        """The messages that carry one struct value (its definition first, once)."""
        out = b""
        if st.type_id not in self.sent:
            out += _message(-st.type_id, st.definition())
            self.sent.add(st.type_id)
        return out + _message(st.type_id, st.value(values))


# ---------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise GobError(f"truncated gob message at byte {self.pos}")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise GobError(f"truncated gob message: {n} bytes wanted at byte {self.pos}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self) -> int:
        b = self.byte()
        if b < 0x80:
            return b
        n = 256 - b
        if n > 8:
            raise GobError(f"uint of {n} bytes at byte {self.pos}")
        return int.from_bytes(self.take(n), "big")

    def int(self) -> int:
        u = self.uint()
        return ~(u >> 1) if u & 1 else u >> 1

    def bytes_(self) -> bytes:
        return self.take(self.uint())


_COMMON = (("Name", "string"), ("Id", "int"))
_WIRE_LAYOUTS: dict[str, tuple[tuple[str, Any], ...]] = {
    "ArrayT": (("CommonType", _COMMON), ("Elem", "int"), ("Len", "int")),
    "SliceT": (("CommonType", _COMMON), ("Elem", "int")),
    "StructT": (("CommonType", _COMMON), ("Field", ("list", (("Name", "string"), ("Id", "int"))))),
    "MapT": (("CommonType", _COMMON), ("Key", "int"), ("Elem", "int")),
    "GobEncoderT": (("CommonType", _COMMON),),
    "BinaryMarshalerT": (("CommonType", _COMMON),),
    "TextMarshalerT": (("CommonType", _COMMON),),
}
"""Field layouts of the types gob uses to describe types (encoding/gob/type.go)."""
_WIRE_FIELDS = tuple(_WIRE_LAYOUTS)


def _read_layout(r: _Reader, layout: tuple[tuple[str, Any], ...], depth: int = 0) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise GobError(f"type definition nested deeper than {MAX_DEPTH} at byte {r.pos}")
    out: dict[str, Any] = {}
    index = -1
    while (delta := r.uint()) != 0:
        index += delta
        if index >= len(layout):
            raise GobError(f"field {index} beyond the known layout")
        name, kind = layout[index]
        if kind == "string":
            out[name] = r.bytes_().decode("utf-8", "surrogateescape")
        elif kind == "int":
            out[name] = r.int()
        elif isinstance(kind, tuple) and kind and kind[0] == "list":
            out[name] = [_read_layout(r, kind[1], depth + 1) for _ in range(r.uint())]
        else:
            out[name] = _read_layout(r, kind, depth + 1)
    return out


@dataclass(slots=True)
class GobDecoder:
    """One direction of a connection: splits the stream, remembers type definitions."""

    types: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[tuple[int, Any]]:
        """Add stream bytes; return every complete value as (type id, value)."""
        self.buffer += data
        out: list[tuple[int, Any]] = []
        while True:
            payload = self._next_message()
            if payload is None:
                return out
            value = self.decode_message(payload)
            if value is not None:
                out.append(value)

    def _next_message(self) -> bytes | None:
        if self.buffer and self.buffer[0] >= 0x80 and 256 - self.buffer[0] > 8:
            raise GobError(f"message length of {256 - self.buffer[0]} bytes")
        r = _Reader(bytes(self.buffer[:9]))
        try:
            size = r.uint()
        except GobError:
            return None
        if size > MAX_MESSAGE:
            raise GobError(f"gob message of {size} bytes is over the {MAX_MESSAGE} limit")
        if len(self.buffer) < r.pos + size:
            return None
        payload = bytes(self.buffer[r.pos : r.pos + size])
        del self.buffer[: r.pos + size]
        return payload

    def decode_message(self, payload: bytes) -> tuple[int, Any] | None:
        """Decode one message; a type definition is stored and yields None."""
        r = _Reader(payload)
        type_id = r.int()
        if type_id < 0:
            wire_type: dict[str, Any] = {}
            index = -1
            while (delta := r.uint()) != 0:
                index += delta
                if index >= len(_WIRE_FIELDS):
                    raise GobError(f"unknown wireType field {index}")
                kind = _WIRE_FIELDS[index]
                wire_type = {"kind": kind, **_read_layout(r, _WIRE_LAYOUTS[kind])}
            self.types[-type_id] = (str(wire_type.get("kind", "")), wire_type)
            return None
        if self.types.get(type_id, ("",))[0] != "StructT" and r.uint() != 0:
            raise GobError("bad singleton prefix")  # non-struct values carry a 0 delta
        return type_id, self._value(r, type_id)

    def _value(self, r: _Reader, type_id: int, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise GobError(f"value nested deeper than {MAX_DEPTH} at byte {r.pos}")
        if type_id == BOOL:
            return r.uint() != 0
        if type_id == INT:
            return r.int()
        if type_id == UINT:
            return r.uint()
        if type_id == FLOAT:
            raw = r.uint().to_bytes(8, "big")[::-1]
            return float(struct.unpack(">d", raw)[0])
        if type_id == BYTES:
            return r.bytes_()
        if type_id == STRING:
            return r.bytes_().decode("utf-8", "surrogateescape")
        kind, wire_type = self.types.get(type_id, ("", {}))
        if kind == "StructT":
            fields = wire_type.get("Field", [])
            out: dict[str, Any] = {}
            index = -1
            while (delta := r.uint()) != 0:
                index += delta
                if index >= len(fields):
                    raise GobError(f"field {index} of type {type_id} undefined")
                # A definition may leave Name or Id out (zero values are omitted):
                # an unnamed field still decodes, an id of 0 is refused below.
                name, field_type = fields[index].get("Name", ""), fields[index].get("Id", 0)
                out[name] = self._value(r, field_type, depth + 1)
            return out
        if kind == "SliceT":
            elem = wire_type.get("Elem", 0)
            return [self._value(r, elem, depth + 1) for _ in range(r.uint())]
        raise GobError(f"unsupported gob type {type_id} ({kind or 'undefined'})")
