"""gometa's client front end on RequestAddr: Go net/rpc over HTTP (spec §9.2).

``RequestReceiver.NewRequest`` with ``{OpCode, Key, Value}``: ``Get`` reads
this node's store (not through consensus, as in gometa); ``Add``, ``Set``
and ``Delete`` go through the core and answer once committed or failed; any
other op string is refused with gometa's own error text. Calls on one
connection are answered as they complete, like net/rpc's server does; the
answers of one event-loop turn leave in one write.
"""

from __future__ import annotations

import asyncio
from typing import cast

from refnode.io.driver import BindError, NodeDriver, split_addr
from wire import OpCode
from wire.netrpc import SERVICE_METHOD, Call, RpcProtocolError, ServerConnection

_OPS = {"Add": OpCode.ADD, "Set": OpCode.SET, "Delete": OpCode.DELETE, "Get": OpCode.GET}


def _service_error(call: Call) -> str:
    """net/rpc's own text for a ServiceMethod other than ours (server.go readRequestHeader)."""
    service, dot, _method = call.service_method.rpartition(".")
    if not dot:
        return f"rpc: service/method request ill-formed: {call.service_method}"
    if service != SERVICE_METHOD.split(".")[0]:
        return f"rpc: can't find service {call.service_method}"
    return f"rpc: can't find method {call.service_method}"


class _RpcProtocol(asyncio.Protocol):
    """One client connection. Replies of one loop turn leave in one write."""

    def __init__(self, driver: NodeDriver) -> None:
        self.driver = driver
        self.conn = ServerConnection()
        self.transport: asyncio.Transport | None = None
        self._out: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop transports do not subclass asyncio.Transport; the API is the same.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            calls = self.conn.feed(data)
        except RpcProtocolError:
            self.transport.abort()
            return
        if out := self.conn.take_output():
            self.transport.write(out)
        if self.conn.closed:
            self.transport.close()
            return
        for call in calls:
            self._answer(call)

    def _answer(self, call: Call) -> None:
        error = _service_error(call) if call.service_method != SERVICE_METHOD else ""
        op = _OPS.get(call.op_code)
        if not error and op is None:
            error = f"Undefined Error : Invalid Op code {call.op_code}"
        if error or op is None:
            self._send(self.conn.reply(call, error=error))
            return
        self.driver.submit_with_callback(
            op,
            call.key,
            call.value,
            lambda reply: self._send(
                self.conn.reply(call, result=reply.result, error=reply.error or "")
            ),
        )

    def _send(self, data: bytes) -> None:
        if not self._out:
            asyncio.get_running_loop().call_soon(self._flush)
        self._out.append(data)

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))


async def serve_rpc(driver: NodeDriver, addr: str, stopped: asyncio.Event) -> None:
    """Serve the RPC front end on ``addr`` until ``stopped`` is set."""
    loop = asyncio.get_running_loop()
    host, port = split_addr(addr)
    try:
        server = await loop.create_server(
            lambda: _RpcProtocol(driver), host, port, reuse_address=True
        )
    except OSError as exc:
        driver.stop()
        raise BindError("Host.RequestAddr", addr, exc) from exc
    try:
        await stopped.wait()
    finally:
        server.close()
