"""Clients for gometa's RPC front end: Go ``net/rpc`` over HTTP, gob encoded.

The standalone server serves ``RequestReceiver.NewRequest`` on its
RequestAddr (spec §9.2): argument ``{OpCode string, Key string, Value
[]byte}``, reply ``{Result []byte}``. The protocol lives in ``wire.netrpc``
(and gob in ``wire.gob``); this module only moves its bytes over a socket:

- ``GometaRpcClient``: blocking, one call at a time, for tests and ``gmc kv``;
- ``AsyncGometaRpcClient``: asyncio, many calls in flight on one connection
  (net/rpc answers them as they complete, matched by sequence number), for
  load generation.

Both raise ``RpcError`` when the server answers with an error string,
``RpcProtocolError`` when it breaks the exchange, and ``OSError`` (with the
address in the message) when the connection fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from types import TracebackType

from wire.gob import GobError
from wire.netrpc import ClientConnection, Reply, RpcProtocolError

__all__ = [
    "AsyncGometaRpcClient",
    "GobError",
    "GometaRpcClient",
    "RpcConnectionError",
    "RpcError",
    "RpcProtocolError",
    "split_addr",
]


class RpcError(RuntimeError):
    """The server answered the call with an error string (``rpc.ServerError``)."""


class RpcConnectionError(ConnectionError):
    """The connection to ``addr`` failed or closed; the message names the address."""

    def __init__(self, addr: str, problem: str) -> None:
        super().__init__(f"{addr}: {problem}")
        self.addr = addr
        self.problem = problem


def split_addr(addr: str) -> tuple[str, int]:
    """``host:port`` (IPv6 in brackets) as a (host, port) pair; ValueError if malformed."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {addr!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _describe(exc: OSError) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return exc.strerror or str(exc) or type(exc).__name__


def _result(reply: Reply) -> bytes:
    if reply.error:
        raise RpcError(reply.error)
    return reply.result


class GometaRpcClient:
    """One HTTP-upgraded net/rpc connection, blocking; calls are sequential.

    The constructor connects and completes the ``CONNECT /_goRPC_`` exchange,
    so a wrong address or a server that is not net/rpc fails right here.
    """

    def __init__(self, addr: str, *, timeout: float = 10.0) -> None:
        self.addr = addr
        self._conn = ClientConnection()
        self._replies: dict[int, Reply] = {}
        try:
            self._sock = socket.create_connection(split_addr(addr), timeout=timeout)
        except OSError as exc:
            raise RpcConnectionError(addr, f"cannot connect: {_describe(exc)}") from exc
        try:
            self._send(self._conn.connect_request())
            while not self._conn.connected:
                self._receive()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> GometaRpcClient:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise RpcConnectionError(self.addr, f"send failed: {_describe(exc)}") from exc

    def _receive(self) -> None:
        try:
            chunk = self._sock.recv(65536)
        except OSError as exc:
            raise RpcConnectionError(self.addr, f"receive failed: {_describe(exc)}") from exc
        if not chunk:
            raise RpcConnectionError(self.addr, "server closed the connection")
        for reply in self._conn.feed(chunk):
            self._replies[reply.seq] = reply

    def call(self, op_code: str, key: str, value: bytes | None = None) -> bytes:
        """One ``NewRequest``; returns ``Reply.Result`` or raises RpcError."""
        seq, data = self._conn.call(op_code, key, value or b"")
        self._send(data)
        while seq not in self._replies:
            self._receive()
        reply = self._replies.pop(seq)
        # Replies to calls that timed out earlier arrive late; nobody waits for them now.
        self._replies.clear()
        return _result(reply)

    def set(self, key: str, value: bytes) -> None:
        self.call("Set", key, value)

    def add(self, key: str, value: bytes) -> None:
        self.call("Add", key, value)

    def delete(self, key: str) -> None:
        self.call("Delete", key)

    def get(self, key: str) -> bytes:
        """A local read on that member (not through consensus, spec §9.2)."""
        return self.call("Get", key)


class AsyncGometaRpcClient:
    """One net/rpc connection on asyncio; concurrent ``call``s are pipelined.

    Use ``await AsyncGometaRpcClient.connect(addr)`` or ``async with``. A
    reader task matches replies to waiting calls by sequence number; when the
    connection fails, every waiting call gets the error.
    """

    def __init__(
        self, addr: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.addr = addr
        self._reader = reader
        self._writer = writer
        self._conn = ClientConnection()
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._failure: BaseException | None = None
        self._connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, addr: str, *, timeout: float = 10.0) -> AsyncGometaRpcClient:
        """Open the connection and complete the HTTP CONNECT exchange."""
        host, port = split_addr(addr)
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            raise RpcConnectionError(addr, f"cannot connect: {_describe(exc)}") from exc
        client = cls(addr, reader, writer)
        try:
            writer.write(client._conn.connect_request())
            async with asyncio.timeout(timeout):
                await asyncio.shield(client._connected)
        except BaseException:
            await client.close()
            raise
        return client

    async def __aenter__(self) -> AsyncGometaRpcClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        futures: list[asyncio.Future[None] | asyncio.Future[Reply]]
        futures = [self._connected, *self._waiting.values()]
        self._waiting.clear()
        for fut in futures:
            if not fut.done():
                fut.set_exception(exc)
                fut.exception()  # mark retrieved: nobody may be waiting on it

    async def _read_loop(self) -> None:
        try:
            while True:
                chunk = await self._reader.read(65536)
                if not chunk:
                    raise RpcConnectionError(self.addr, "server closed the connection")
                replies = self._conn.feed(chunk)
                if self._conn.connected and not self._connected.done():
                    self._connected.set_result(None)
                for reply in replies:
                    fut = self._waiting.pop(reply.seq, None)
                    if fut is not None and not fut.done():
                        fut.set_result(reply)
        except OSError as exc:
            self._fail(
                exc
                if isinstance(exc, RpcConnectionError)
                else RpcConnectionError(self.addr, f"receive failed: {_describe(exc)}")
            )
        except RpcProtocolError as exc:
            self._fail(exc)
            self._writer.close()
        except asyncio.CancelledError:
            self._fail(RpcConnectionError(self.addr, "client closed"))
            raise

    async def call(self, op_code: str, key: str, value: bytes | None = None) -> bytes:
        """One ``NewRequest``; returns ``Reply.Result`` or raises RpcError."""
        if self._failure is not None:
            raise self._failure
        seq, data = self._conn.call(op_code, key, value or b"")
        fut: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[seq] = fut
        self._writer.write(data)
        return _result(await fut)

    async def set(self, key: str, value: bytes) -> None:
        await self.call("Set", key, value)

    async def add(self, key: str, value: bytes) -> None:
        await self.call("Add", key, value)

    async def delete(self, key: str) -> None:
        await self.call("Delete", key)

    async def get(self, key: str) -> bytes:
        """A local read on that member (not through consensus, spec §9.2)."""
        return await self.call("Get", key)
