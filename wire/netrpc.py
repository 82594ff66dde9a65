"""Go ``net/rpc`` over HTTP, as gometa's RequestAddr speaks it (spec §9.2), sans-I/O.

The client sends ``CONNECT /_goRPC_ HTTP/1.0`` and a blank line; the server
answers ``HTTP/1.0 200 Connected to Go RPC`` and a blank line; then each
call is a gob ``rpc.Request`` header plus the argument struct, and each
answer a gob ``rpc.Response`` header plus the reply struct (an empty struct
when the header carries an error, as net/rpc does). Both connection classes
only turn bytes into calls and calls into bytes; sockets are the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wire.gob import (
    BYTES,
    FIRST_USER_ID,
    STRING,
    UINT,
    GobDecoder,
    GobEncoder,
    GobError,
    StructType,
)

RPC_PATH = "/_goRPC_"
CONNECTED = "200 Connected to Go RPC"
SERVICE_METHOD = "RequestReceiver.NewRequest"
MAX_HTTP_HEAD = 8192

REQUEST_HEADER = StructType(FIRST_USER_ID, "Request", (("ServiceMethod", STRING), ("Seq", UINT)))
RESPONSE_HEADER = StructType(
    FIRST_USER_ID, "Response", (("ServiceMethod", STRING), ("Seq", UINT), ("Error", STRING))
)
NEW_REQUEST_ARGS = StructType(
    FIRST_USER_ID + 1, "RequestMsg", (("OpCode", STRING), ("Key", STRING), ("Value", BYTES))
)
NEW_REQUEST_REPLY = StructType(FIRST_USER_ID + 1, "ReplyMsg", (("Result", BYTES),))
INVALID_REQUEST = StructType(FIRST_USER_ID + 2, "struct {}", ())
"""What net/rpc sends as the body of an error response."""


class RpcProtocolError(ValueError):
    """The peer broke the net/rpc exchange; the connection should be closed."""


@dataclass(frozen=True, slots=True)
class Call:
    """One ``NewRequest`` call as the server receives it."""

    seq: int
    service_method: str
    op_code: str
    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer as the client receives it; ``error`` empty means success."""

    seq: int
    error: str
    result: bytes


def _split_head(buffer: bytearray) -> bytes | None:
    """The HTTP head up to its first blank line, removed from ``buffer``.

    Lines end in LF with an optional CR before it, as Go's textproto reads
    them, so ``\n\n``, ``\r\n\r\n`` and mixtures all end the head. The first
    blank line counts: gob bytes pipelined behind the head may hold either
    marker too.
    """
    start = 0
    while (end := buffer.find(b"\n", start, MAX_HTTP_HEAD + 1)) >= 0:
        if bytes(buffer[start:end]) in (b"", b"\r"):
            head = bytes(buffer[:start])
            del buffer[: end + 1]
            return head
        start = end + 1
    if len(buffer) > MAX_HTTP_HEAD:
        raise RpcProtocolError(f"HTTP head longer than {MAX_HTTP_HEAD} bytes")
    return None


def _typed(value: dict[str, Any], name: str, kind: type[Any], default: Any) -> Any:
    """Field ``name`` of a decoded struct, which the peer's own type made ``kind``."""
    got = value.get(name, default)
    if not isinstance(got, kind) or isinstance(got, bool) is not (kind is bool):
        raise RpcProtocolError(f"field {name} is {type(got).__name__}, expected {kind.__name__}")
    return got


@dataclass(slots=True)
class ServerConnection:
    """The server side of one connection.

    ``feed`` returns calls to answer and, once, the bytes of the HTTP answer
    to send first (``take_output``). A request other than ``CONNECT
    /_goRPC_`` gets Go's "405 must CONNECT" answer and the connection is done.
    """

    _buffer: bytearray = field(default_factory=bytearray)
    _connected: bool = False
    _closed: bool = False
    _output: bytearray = field(default_factory=bytearray)
    _decoder: GobDecoder = field(default_factory=GobDecoder)
    _encoder: GobEncoder = field(default_factory=GobEncoder)
    _header: dict[str, Any] | None = None

    @property
    def closed(self) -> bool:
        """True once the server must close (after a rejected HTTP request)."""
        return self._closed

    def take_output(self) -> bytes:
        """Bytes to write now."""
        out = bytes(self._output)
        self._output.clear()
        return out

    def feed(self, data: bytes) -> list[Call]:
        """Add received bytes; return the calls they complete."""
        if self._closed:
            return []
        if not self._connected:
            self._buffer += data
            head = _split_head(self._buffer)
            if head is None:
                return []
            request_line = head.split(b"\n", 1)[0].strip().split(b" ")
            if request_line[:2] != [b"CONNECT", RPC_PATH.encode()]:
                self._output += (
                    b"HTTP/1.0 405 Method Not Allowed\r\n"
                    b"Content-Type: text/plain; charset=utf-8\r\n\r\n405 must CONNECT\n"
                )
                self._closed = True
                return []
            self._connected = True
            self._output += f"HTTP/1.0 {CONNECTED}\n\n".encode()
            data, self._buffer = bytes(self._buffer), bytearray()
        calls: list[Call] = []
        try:
            values = self._decoder.feed(data)
        except GobError as exc:
            raise RpcProtocolError(f"bad gob from client: {exc}") from exc
        for _, value in values:
            if not isinstance(value, dict):
                raise RpcProtocolError(f"expected a struct, got {value!r}")
            if self._header is None:
                self._header = value
                continue
            header, self._header = self._header, None
            calls.append(
                Call(
                    seq=_typed(header, "Seq", int, 0),
                    service_method=_typed(header, "ServiceMethod", str, ""),
                    op_code=_typed(value, "OpCode", str, ""),
                    key=_typed(value, "Key", str, ""),
                    value=_typed(value, "Value", bytes, b""),
                )
            )
        return calls

    def reply(self, call: Call, *, result: bytes = b"", error: str = "") -> bytes:
        """The bytes that answer ``call``."""
        header = self._encoder.encode(
            RESPONSE_HEADER,
            {"ServiceMethod": call.service_method, "Seq": call.seq, "Error": error},
        )
        if error:
            return header + self._encoder.encode(INVALID_REQUEST, {})
        return header + self._encoder.encode(NEW_REQUEST_REPLY, {"Result": result})


@dataclass(slots=True)
class ClientConnection:
    """The client side of one connection; calls may be pipelined."""

    _buffer: bytearray = field(default_factory=bytearray)
    _connected: bool = False
    _seq: int = 0
    _decoder: GobDecoder = field(default_factory=GobDecoder)
    _encoder: GobEncoder = field(default_factory=GobEncoder)
    _header: dict[str, Any] | None = None

    @property
    def connected(self) -> bool:
        """True once the server's ``200 Connected to Go RPC`` has been read."""
        return self._connected

    def connect_request(self) -> bytes:
        """The HTTP CONNECT that opens the exchange."""
        return f"CONNECT {RPC_PATH} HTTP/1.0\n\n".encode()

    def call(self, op_code: str, key: str, value: bytes = b"") -> tuple[int, bytes]:
        """A ``NewRequest`` call: (its sequence number, the bytes to send)."""
        seq = self._seq
        self._seq += 1
        header = self._encoder.encode(REQUEST_HEADER, {"ServiceMethod": SERVICE_METHOD, "Seq": seq})
        args = self._encoder.encode(
            NEW_REQUEST_ARGS, {"OpCode": op_code, "Key": key, "Value": value}
        )
        return seq, header + args

    def feed(self, data: bytes) -> list[Reply]:
        """Add received bytes; return the replies they complete."""
        if not self._connected:
            self._buffer += data
            head = _split_head(self._buffer)
            if head is None:
                return []
            status = head.split(b"\n", 1)[0].strip().decode("latin-1")
            if status.split(" ", 1)[-1] != CONNECTED:
                raise RpcProtocolError(f"unexpected HTTP response {status!r}")
            self._connected = True
            data, self._buffer = bytes(self._buffer), bytearray()
        replies: list[Reply] = []
        try:
            values = self._decoder.feed(data)
        except GobError as exc:
            raise RpcProtocolError(f"bad gob from server: {exc}") from exc
        for _, value in values:
            if self._header is None:
                if not isinstance(value, dict):
                    raise RpcProtocolError(f"expected a response header, got {value!r}")
                self._header = value
                continue
            header, self._header = self._header, None
            if not isinstance(value, dict):
                raise RpcProtocolError(f"expected a reply struct, got {value!r}")
            replies.append(
                Reply(
                    seq=_typed(header, "Seq", int, 0),
                    error=_typed(header, "Error", str, ""),
                    result=_typed(value, "Result", bytes, b""),
                )
            )
        return replies
