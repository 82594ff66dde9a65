"""A client for gometa's RPC front end: Go ``net/rpc`` over HTTP, gob encoded.

The standalone server serves ``RequestReceiver.NewRequest`` on its
RequestAddr (spec §9.2): argument ``{OpCode string, Key string, Value
[]byte}``, reply ``{Result []byte}``. Python has no gob library, so this
module carries the small part of gob that the exchange needs: struct type
definitions and values of strings, byte slices and integers on the way out,
and a generic decoder for whatever structs come back. The Go host's
``-client`` command is the reference this client is tested against.

Gob in brief (encoding/gob docs): a stream of messages, each ``uint length``
then ``int type id`` then data. A negative id defines type ``-id`` with a
``wireType`` value; a positive id carries a value. Structs are encoded as
(field-number delta, value) pairs ending in delta 0, zero values omitted.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

RPC_PATH = "/_goRPC_"
CONNECTED = b"200 Connected to Go RPC"
SERVICE_METHOD = "RequestReceiver.NewRequest"

# Predefined gob type ids (encoding/gob/type.go).
_BOOL, _INT, _UINT, _FLOAT, _BYTES, _STRING = 1, 2, 3, 4, 5, 6
_FIRST_USER_ID = 65


class GobError(ValueError):
    """The stream is not the gob this client understands."""


class RpcError(RuntimeError):
    """The server answered the call with an error string (rpc.ServerError)."""


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


def _encode_bytes(b: bytes) -> bytes:
    return encode_uint(len(b)) + b


def _encode_struct(fields: list[tuple[int, bytes]]) -> bytes:
    """``fields`` are (index, encoded value) in index order; zero values skipped."""
    out, prev = bytearray(), -1
    for index, value in fields:
        out += encode_uint(index - prev) + value
        prev = index
    out.append(0)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class StructType:
    """A struct type this side sends: gob id, name and (field, type id) list."""

    type_id: int
    name: str
    fields: tuple[tuple[str, int], ...]

    def definition(self) -> bytes:
        """The wireType value that defines this struct (StructT is field 2)."""
        common = _encode_struct(
            [(0, _encode_bytes(self.name.encode())), (1, encode_int(self.type_id))]
        )
        elems = b"".join(
            _encode_struct([(0, _encode_bytes(n.encode())), (1, encode_int(t))])
            for n, t in self.fields
        )
        field_list = encode_uint(len(self.fields)) + elems
        struct_type = _encode_struct([(0, common), (1, field_list)])
        return _encode_struct([(2, struct_type)])


RPC_REQUEST_HEADER = StructType(
    _FIRST_USER_ID, "Request", (("ServiceMethod", _STRING), ("Seq", _UINT))
)
NEW_REQUEST_ARGS = StructType(
    _FIRST_USER_ID + 1, "Request", (("OpCode", _STRING), ("Key", _STRING), ("Value", _BYTES))
)


def _message(type_id: int, data: bytes) -> bytes:
    payload = encode_int(type_id) + data
    return encode_uint(len(payload)) + payload


@dataclass(slots=True)
class GobEncoder:
    """One direction of a connection: sends each type definition once."""

    sent: set[int] = field(default_factory=set)

    def encode(self, st: StructType, values: list[tuple[int, bytes]]) -> bytes:
        out = b""
        if st.type_id not in self.sent:
            out += _message(-st.type_id, st.definition())
            self.sent.add(st.type_id)
        return out + _message(st.type_id, _encode_struct(values))


# ---------------------------------------------------------------- decoding


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise GobError("truncated gob message")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise GobError("truncated gob message")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self) -> int:
        b = self.byte()
        if b < 0x80:
            return b
        n = 256 - b
        if n > 8:
            raise GobError(f"uint of {n} bytes")
        return int.from_bytes(self.take(n), "big")

    def int(self) -> int:
        u = self.uint()
        return ~(u >> 1) if u & 1 else u >> 1

    def bytes_(self) -> bytes:
        return self.take(self.uint())


# Field layouts of the wire types gob uses to describe types (type.go).
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
_WIRE_FIELDS = tuple(_WIRE_LAYOUTS)


def _read_layout(r: _Reader, layout: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    index = -1
    while (delta := r.uint()) != 0:
        index += delta
        if index >= len(layout):
            raise GobError(f"field {index} beyond the known layout")
        name, kind = layout[index]
        if kind == "string":
            out[name] = r.bytes_().decode()
        elif kind == "int":
            out[name] = r.int()
        elif isinstance(kind, tuple) and kind and kind[0] == "list":
            out[name] = [_read_layout(r, kind[1]) for _ in range(r.uint())]
        else:
            out[name] = _read_layout(r, kind)
    return out


@dataclass(slots=True)
class GobDecoder:
    """One direction of a connection: remembers the peer's type definitions."""

    types: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def feed(self, payload: bytes) -> tuple[int, Any] | None:
        """Decode one message; a type definition is stored and yields None."""
        r = _Reader(payload)
        type_id = r.int()
        if type_id < 0:
            wire: dict[str, Any] = {}
            index = -1
            while (delta := r.uint()) != 0:
                index += delta
                if index >= len(_WIRE_FIELDS):
                    raise GobError(f"unknown wireType field {index}")
                kind = _WIRE_FIELDS[index]
                wire = {"kind": kind, **_read_layout(r, _WIRE_LAYOUTS[kind])}
            self.types[-type_id] = (str(wire.get("kind", "")), wire)
            return None
        # Non-struct top-level values carry a leading 0 delta.
        if self.types.get(type_id, ("",))[0] != "StructT" and r.uint() != 0:
            raise GobError("bad singleton prefix")
        return type_id, self._value(r, type_id)

    def _value(self, r: _Reader, type_id: int) -> Any:
        if type_id == _BOOL:
            return r.uint() != 0
        if type_id == _INT:
            return r.int()
        if type_id == _UINT:
            return r.uint()
        if type_id == _FLOAT:
            raw = r.uint().to_bytes(8, "big")[::-1]
            return float(struct.unpack(">d", raw)[0])
        if type_id == _BYTES:
            return r.bytes_()
        if type_id == _STRING:
            return r.bytes_().decode("utf-8", "surrogateescape")
        kind, wire = self.types.get(type_id, ("", {}))
        if kind == "StructT":
            fields = wire.get("Field", [])
            out: dict[str, Any] = {}
            index = -1
            while (delta := r.uint()) != 0:
                index += delta
                if index >= len(fields):
                    raise GobError(f"field {index} of type {type_id} undefined")
                out[fields[index]["Name"]] = self._value(r, fields[index]["Id"])
            return out
        if kind == "SliceT":
            return [self._value(r, wire["Elem"]) for _ in range(r.uint())]
        raise GobError(f"unsupported gob type {type_id} ({kind or 'undefined'})")


# ---------------------------------------------------------------- client


class GometaRpcClient:
    """One HTTP-upgraded net/rpc connection; calls are sequential."""

    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        host, _, port = addr.rpartition(":")
        self._sock = socket.create_connection((host, int(port)), timeout=timeout)
        self._buf = b""
        self._enc, self._dec = GobEncoder(), GobDecoder()
        self._seq = 0
        self._sock.sendall(f"CONNECT {RPC_PATH} HTTP/1.0\n\n".encode())
        head = self._read_until(b"\n\n")
        if CONNECTED not in head.split(b"\n", 1)[0]:
            self.close()
            raise GobError(f"unexpected HTTP response {head!r}")

    def __enter__(self) -> GometaRpcClient:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _fill(self) -> None:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("RPC server closed the connection")
        self._buf += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buf:
            self._fill()
        head, _, self._buf = self._buf.partition(marker)
        return head

    def _read_message(self) -> bytes:
        while True:
            r = _Reader(self._buf)
            try:
                n = r.uint()
                if r.pos + n <= len(self._buf):
                    msg = self._buf[r.pos : r.pos + n]
                    self._buf = self._buf[r.pos + n :]
                    return msg
            except GobError:
                pass
            self._fill()

    def _read_value(self) -> Any:
        while (got := self._dec.feed(self._read_message())) is None:
            pass
        return got[1]

    def call(self, op_code: str, key: str, value: bytes | None = None) -> bytes | None:
        """One ``NewRequest``; returns ``Reply.Result`` or raises RpcError."""
        self._seq += 1
        header = self._enc.encode(
            RPC_REQUEST_HEADER,
            [(0, _encode_bytes(SERVICE_METHOD.encode()))]
            + ([(1, encode_uint(self._seq))] if self._seq else []),
        )
        args: list[tuple[int, bytes]] = []
        if op_code:
            args.append((0, _encode_bytes(op_code.encode())))
        if key:
            args.append((1, _encode_bytes(key.encode())))
        if value:
            args.append((2, _encode_bytes(value)))
        self._sock.sendall(header + self._enc.encode(NEW_REQUEST_ARGS, args))
        response = self._read_value()
        body = self._read_value()
        if not isinstance(response, dict) or response.get("Seq", 0) != self._seq:
            raise GobError(f"unexpected response header {response!r}")
        error = response.get("Error", "")
        if error:
            raise RpcError(error)
        result = body.get("Result") if isinstance(body, dict) else None
        return result if isinstance(result, bytes) else None

    def set(self, key: str, value: bytes) -> None:
        self.call("Set", key, value)

    def add(self, key: str, value: bytes) -> None:
        self.call("Add", key, value)

    def delete(self, key: str) -> None:
        self.call("Delete", key)

    def get(self, key: str) -> bytes:
        """A local read on that member (not through consensus, spec §9.2)."""
        return self.call("Get", key) or b""
