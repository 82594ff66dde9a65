"""The asyncio driver: moves bytes and time between the OS and the pure core.

One cycle, as aioquic's protocol does it (style §11): an input arrives →
``node.step(input, now=loop.time())`` → schedule one flush for this loop
turn. The flush drains the core's effects and performs them in order. Persist
effects go to SQLite in a worker thread, one transaction at a time, while the
loop keeps stepping the core; a send that follows a persist waits until that
persist is durable (pipelined group commit: everything persisted while one
fsync runs shares the next). Then the single timer is re-armed from
``node.next_deadline()``.

No decision is made here: identities, limits, timeouts and protocol errors
all live in the core. The driver enforces only what it alone can see, the
size of a connection's unsent bytes (W8).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import socket
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import wire
from refnode.core import effects as fx
from refnode.core.config import NodeConfig
from refnode.core.errors import ProtocolError
from refnode.core.inputs import (
    BytesReceived,
    ClientRequest,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEstablished,
    DatagramReceived,
    Input,
    Stop,
)
from refnode.core.node import Node
from refnode.core.store import PersistEffect, PersistentState
from refnode.io.events import EventSink, EventTranslator, state_dump
from refnode.io.storage import SqliteStore

MAX_SEND_BACKLOG = 64 * 1024 * 1024
"""Unsent bytes a peer may owe us before it is dropped instead of freezing us (W8)."""
KEEPALIVE_IDLE_SECONDS = 1
"""gometa's dialling side asks for a 100 ms keepalive period, which Go rounds to 1 s."""


class BindError(OSError):
    """A configured address cannot be bound; names the config field (e.g. Host.MessageAddr)."""

    def __init__(self, field: str, addr: str, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror)
        self.field = field
        self.addr = addr
        self.cause = cause

    def __str__(self) -> str:
        return f"cannot bind {self.field} {self.addr}: {self.cause.strerror or self.cause}"


def split_addr(addr: str) -> tuple[str, int]:
    """``ip:port`` or ``[ipv6]:port`` → (host, port)."""
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def format_addr(sockaddr: tuple[Any, ...]) -> str:
    """A socket address as gometa writes it: ``ip:port``, IPv6 in brackets."""
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class _PeerProtocol(asyncio.Protocol):
    """One TCP connection; reports to the driver by connection id."""

    def __init__(self, driver: NodeDriver, conn: int | None) -> None:
        self.driver = driver
        self.conn = conn
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop transports do not subclass asyncio.Transport; the API is the same.
        self.transport = cast(asyncio.Transport, transport)
        self.driver._connection_made(self, self.transport)

    def data_received(self, data: bytes) -> None:
        if self.conn is not None:
            self.driver._input(BytesReceived(conn=self.conn, data=data))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.driver._connection_lost(self.conn, "eof" if exc is None else str(exc))


class _ElectionProtocol(asyncio.DatagramProtocol):
    def __init__(self, driver: NodeDriver) -> None:
        self.driver = driver

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.driver._input(DatagramReceived(src=format_addr(addr), data=data))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable for a vote to a dead peer: gometa only logs it.
        pass


ReplyCallback = Callable[[fx.ClientReply], None]
TERMINATED_REPLY = "Server Error : Server is terminated. Cannot process new request."
"""gometa's text for a request that meets a stopping server (spec §9.2)."""


class NodeDriver:
    """Runs one :class:`refnode.core.node.Node` on real sockets and a real disk."""

    def __init__(
        self,
        config: NodeConfig,
        store: SqliteStore | None,
        *,
        events: EventSink,
        seed: int | None = None,
        on_effect: Callable[[fx.Effect], None] | None = None,
        initial_state: PersistentState | None = None,
    ) -> None:
        self.config = config
        self.initial_state = initial_state
        self.store = store
        self.events = events
        self.seed = seed
        self.on_effect = on_effect
        self.node: Node | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._conns: dict[int, _PeerProtocol] = {}
        self._closed_by_us: set[int] = set()
        self._accept_ids = itertools.count()
        self._requests: dict[int, ReplyCallback] = {}
        self._request_ids = itertools.count(1)
        self._flush_scheduled = False
        self._backlog: deque[tuple[int, fx.Effect]] = deque()
        """Effects not performed yet, each with the persist sequence number it needs durable."""
        self._unsynced: list[PersistEffect] = []
        self._persist_seq = 0
        self._durable_seq = 0
        self._writing: asyncio.Future[None] | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refnode-store")
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._stopped = asyncio.Event()
        self._tasks: asyncio.TaskGroup | None = None
        self._translate = EventTranslator(sink=events, message_addr_of=config.message_addr_of)

    # ---- lifecycle -------------------------------------------------------------

    async def run(self, ready: Callable[[], None] | None = None) -> None:
        """Bind, run until :meth:`stop`, then close everything."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self.store is not None:
            state = self.store.load()
        else:
            state = self.initial_state.copy() if self.initial_state else PersistentState()
        self._translate.accepted_epoch = state.accepted_epoch
        self._translate.current_epoch = state.current_epoch
        host = self.config.host
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            try:
                server = await loop.create_server(
                    lambda: _PeerProtocol(self, None),
                    *split_addr(host.message_addr),
                    reuse_address=True,
                )
            except OSError as exc:
                raise BindError("Host.MessageAddr", host.message_addr, exc) from exc
            if self.config.mode.value != "embedded":
                try:
                    self._udp, _ = await loop.create_datagram_endpoint(
                        lambda: _ElectionProtocol(self), local_addr=split_addr(host.election_addr)
                    )
                except OSError as exc:
                    server.close()
                    raise BindError("Host.ElectionAddr", host.election_addr, exc) from exc
            self.events(
                "start",
                {
                    "impl": "refnode",
                    "election_addr": host.election_addr,
                    "message_addr": host.message_addr,
                    "request_addr": host.request_addr,
                    "mode": self.config.mode.value,
                },
            )
            rng = random.Random(self.seed)
            self.node = Node(self.config, state, rng, loop.time())
            self._flush()
            if ready is not None:
                ready()
            try:
                await self._stopped.wait()
            finally:
                self.node.step(Stop(), loop.time())
                self._flush()
                if self._timer is not None:
                    self._timer.cancel()
                server.close()
                if self._udp is not None:
                    self._udp.close()
                for proto in list(self._conns.values()):
                    if proto.transport is not None:
                        proto.transport.abort()
                self._conns.clear()
                waiting, self._requests = self._requests, {}
                for request_id, reply in waiting.items():
                    reply(fx.ClientReply(request_id=request_id, error=TERMINATED_REPLY))
                await self._write_everything()
        self._writer.shutdown(wait=True)
        if self.store is not None:
            self.store.close()

    def stop(self) -> None:
        """Ask :meth:`run` to finish (safe from signal handlers)."""
        self._stopped.set()

    @property
    def stopped(self) -> asyncio.Event:
        """Set once :meth:`stop` was called; companion servers wait on it."""
        return self._stopped

    def dump_state(self) -> dict[str, Any]:
        """The core's persistent state in the contract's ``state`` shape."""
        assert self.node is not None
        dump = state_dump(self.node.state)
        dump.update(
            status=self.node.role.value,
            run=self.node.run,
            election_addr=self.config.host.election_addr,
            message_addr=self.config.host.message_addr,
            request_addr=self.config.host.request_addr,
            embedded=self.config.mode.value == "embedded",
        )
        return dump

    # ---- clients ---------------------------------------------------------------

    async def submit(self, op_code: int, key: str, value: bytes) -> fx.ClientReply:
        """A client request through consensus (or a local Get); waits for its reply."""
        future: asyncio.Future[fx.ClientReply] = asyncio.get_running_loop().create_future()

        def reply(answer: fx.ClientReply) -> None:
            if not future.done():
                future.set_result(answer)

        request_id = self.submit_with_callback(op_code, key, value, reply)
        try:
            return await future
        finally:
            self._requests.pop(request_id, None)

    def submit_with_callback(
        self, op_code: int, key: str, value: bytes, reply: ReplyCallback
    ) -> int:
        """Like :meth:`submit`, but ``reply`` is called with the answer (no task per call)."""
        request_id = next(self._request_ids)
        if self._stopped.is_set():
            reply(fx.ClientReply(request_id=request_id, error=TERMINATED_REPLY))
            return request_id
        self._requests[request_id] = reply
        self._input(ClientRequest(request_id=request_id, op_code=op_code, key=key, value=value))
        return request_id

    # ---- inputs ----------------------------------------------------------------

    def _input(self, inp: Input) -> None:
        node, loop = self.node, self._loop
        if node is None or loop is None:
            return
        try:
            node.step(inp, loop.time())
        except ProtocolError as exc:
            # The core queued the consequence (close, drop) before raising.
            self.events("protocol_error", {"reason": exc.reason, "detail": str(exc)})
        self._schedule_flush()

    def _connection_made(self, proto: _PeerProtocol, transport: asyncio.Transport) -> None:
        if proto.conn is None:
            proto.conn = next(self._accept_ids)
            self._conns[proto.conn] = proto
            peer = transport.get_extra_info("peername")
            self._input(ConnectionAccepted(conn=proto.conn, peer=format_addr(peer)))
            return
        if proto.conn in self._closed_by_us:
            # The core gave up on this dial (a timeout) before it connected.
            self._closed_by_us.discard(proto.conn)
            proto.conn = None
            transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS)
        self._input(ConnectionEstablished(conn=proto.conn))

    def _connection_lost(self, conn: int, reason: str) -> None:
        self._conns.pop(conn, None)
        if conn in self._closed_by_us:
            self._closed_by_us.discard(conn)
            return
        self._input(ConnectionClosed(conn=conn, reason=reason))

    async def _dial(self, conn: int, addr: str) -> None:
        assert self._loop is not None
        proto = _PeerProtocol(self, conn)
        self._conns[conn] = proto
        try:
            host, port = split_addr(addr)
            await self._loop.create_connection(lambda: proto, host, port)
        except (OSError, ValueError) as exc:
            self._conns.pop(conn, None)
            if conn in self._closed_by_us:
                self._closed_by_us.discard(conn)
                return
            self._input(ConnectionClosed(conn=conn, reason=f"dial failed: {exc}"))

    # ---- effects ---------------------------------------------------------------

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        node = self.node
        if node is None:
            return
        for effect in node.drain():
            if self.on_effect is not None:
                self.on_effect(effect)
            if isinstance(effect, fx.PERSIST_TYPES):
                if self.store is None:
                    self._translate(effect)
                else:
                    # Reported (e.g. the "committed" line) once durable, not before.
                    self._persist_seq += 1
                    self._unsynced.append(effect)
                continue
            self._translate(effect)
            self._backlog.append((self._persist_seq, effect))
        self._pump()
        self._arm_timer()

    def _pump(self) -> None:
        """Perform queued effects in order, each once the persists before it are durable.

        Pipelined group commit: persists never wait. They go to SQLite in a
        worker thread, one transaction at a time, and everything persisted
        while one transaction runs shares the next, so the loop keeps taking
        input during fsync. Every other effect keeps its place in the queue
        and leaves only when every persist that came before it is durable
        (refnode.core.effects: persist before send). Writing a persist early
        is always safe: to a peer it looks like the sends before it were
        lost in transit. Frames for one connection leave in one write.
        """
        outgoing: dict[int, list[bytes]] = {}
        backlog = self._backlog
        while backlog and backlog[0][0] <= self._durable_seq:
            effect = backlog.popleft()[1]
            if isinstance(effect, fx.SendMessage):
                frames = outgoing.get(effect.conn)
                if frames is None:
                    outgoing[effect.conn] = [wire.encode(effect.msg)]
                else:
                    frames.append(wire.encode(effect.msg))
                continue
            if isinstance(effect, fx.CloseConnection) and effect.conn in outgoing:
                self._write(effect.conn, outgoing.pop(effect.conn))
            self._perform(effect)
        for conn, frames in outgoing.items():
            self._write(conn, frames)
        if self._unsynced and self._writing is None:
            self._start_write()

    def _start_write(self) -> None:
        assert self.store is not None and self._loop is not None
        batch, self._unsynced = self._unsynced, []
        upto = self._persist_seq
        self._writing = self._loop.run_in_executor(self._writer, self.store.apply, batch)
        self._writing.add_done_callback(lambda done: self._write_done(done, upto, batch))

    def _write_done(
        self, done: asyncio.Future[None], upto: int, batch: list[PersistEffect]
    ) -> None:
        if self._writing is done:
            self._writing = None
        failure = "cancelled" if done.cancelled() else done.exception()
        if failure is not None:
            # Durability can no longer be promised: say so and stop serving.
            self.events("error", {"level": "fatal", "msg": f"storage: {failure!r}"})
            self._backlog.clear()
            self._unsynced.clear()
            self.stop()
            return
        self._durable_seq = upto
        for effect in batch:
            self._translate(effect)
        self._pump()

    async def _write_everything(self) -> None:
        """At shutdown: let the in-flight transaction finish, then write the rest.

        Each transaction's done-callback (``_write_done``) runs before this
        coroutine resumes, so it alone clears ``_writing`` and reports.
        """
        while self._writing is not None or self._unsynced:
            if self._writing is None:
                self._start_write()
            assert self._writing is not None
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writing)

    def _write(self, conn: int, frames: list[bytes]) -> None:
        proto = self._conns.get(conn)
        if proto is None or proto.transport is None or proto.transport.is_closing():
            return
        proto.transport.write(frames[0] if len(frames) == 1 else b"".join(frames))
        if proto.transport.get_write_buffer_size() > MAX_SEND_BACKLOG:
            self._close(conn)
            self._input(ConnectionClosed(conn=conn, reason="send-backlog"))

    def _perform(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.SendMessage):
            self._write(effect.conn, [wire.encode(effect.msg)])
        elif isinstance(effect, fx.SendDatagram):
            if self._udp is not None:
                self._udp.sendto(wire.encode(effect.msg), split_addr(effect.to))
        elif isinstance(effect, fx.Dial):
            assert self._tasks is not None
            self._tasks.create_task(self._dial(effect.conn, effect.addr))
        elif isinstance(effect, fx.CloseConnection):
            self._close(effect.conn)
        elif isinstance(effect, fx.ClientReply):
            reply = self._requests.pop(effect.request_id, None)
            if reply is not None:
                reply(effect)

    def _close(self, conn: int) -> None:
        self._closed_by_us.add(conn)
        proto = self._conns.pop(conn, None)
        if proto is not None and proto.transport is not None:
            proto.transport.abort()

    def _arm_timer(self) -> None:
        node, loop = self.node, self._loop
        if node is None or loop is None:
            return
        deadline = node.next_deadline()
        if deadline == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = None if deadline is None else loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self.node is not None and self._loop is not None:
            self.node.handle_timer(self._loop.time())
        self._flush()
