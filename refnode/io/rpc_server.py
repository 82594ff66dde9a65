"""gometa's client front end on RequestAddr: Go net/rpc over HTTP (spec §9.2).

``RequestReceiver.NewRequest`` with ``{OpCode, Key, Value}``: ``Get`` reads
this node's store (not through consensus, as in gometa); ``Add``, ``Set``
and ``Delete`` go through the core and answer once committed or failed; any
other op string is refused with gometa's own error text. Calls on one
connection are answered as they complete, like net/rpc's server does.
"""

from __future__ import annotations

import asyncio
import contextlib

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
    def __init__(self, driver: NodeDriver, tasks: set[asyncio.Task[None]]) -> None:
        self.driver = driver
        self.tasks = tasks
        self.conn = ServerConnection()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

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
            task = asyncio.get_running_loop().create_task(self._answer(call))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _answer(self, call: Call) -> None:
        error = _service_error(call) if call.service_method != SERVICE_METHOD else ""
        result = b""
        if not error:
            op = _OPS.get(call.op_code)
            if op is None:
                error = f"Undefined Error : Invalid Op code {call.op_code}"
            else:
                reply = await self.driver.submit(op, call.key, call.value)
                error, result = reply.error or "", reply.result
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(self.conn.reply(call, result=result, error=error))


async def serve_rpc(driver: NodeDriver, addr: str, stopped: asyncio.Event) -> None:
    """Serve the RPC front end on ``addr`` until ``stopped`` is set."""
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    host, port = split_addr(addr)
    try:
        server = await loop.create_server(
            lambda: _RpcProtocol(driver, tasks), host, port, reuse_address=True
        )
    except OSError as exc:
        driver.stop()
        raise BindError("Host.RequestAddr", addr, exc) from exc
    try:
        await stopped.wait()
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        for task in list(tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
