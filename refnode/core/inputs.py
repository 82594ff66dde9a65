"""Inputs: everything that can happen to a node, as messages (style §3).

A driver turns each socket event into one of these and calls
``Node.step(input, now)``. Timer firings go through ``Node.handle_timer(now)``.

Connection ids: the driver numbers the connections it *accepts* with
non-negative ints; the core numbers the connections it asks to *dial*
(:class:`refnode.core.effects.Dial`) with negative ints, so the two never
collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from wire import Message


@dataclass(frozen=True, slots=True, kw_only=True)
class DatagramReceived:
    """RECV_DATAGRAM: raw bytes on the election socket from ``src`` ("ip:port")."""

    src: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class VoteReceived:
    """RECV_VOTE: an already-decoded datagram (simulator and tests)."""

    src: str
    vote: Message


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionAccepted:
    """RECV_ACCEPT: the listener accepted connection ``conn`` from ``peer``."""

    conn: int
    peer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionEstablished:
    """RECV_CONNECTED: a :class:`~refnode.core.effects.Dial` succeeded."""

    conn: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BytesReceived:
    """RECV_BYTES: a chunk of the TCP stream of ``conn``."""

    conn: int
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameReceived:
    """RECV_FRAME: one already-decoded frame on ``conn`` (simulator and tests)."""

    conn: int
    msg: Message


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionClosed:
    """RECV_CLOSED: ``conn`` closed, failed to dial, or broke (EOF, error, reset)."""

    conn: int
    reason: str = "closed"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRequest:
    """RECV_CLIENT: a client asks for ``op_code`` on ``key`` (spec §9.2).

    ``request_id`` is the driver's handle, echoed in the one
    :class:`~refnode.core.effects.ClientReply` that answers it.
    """

    request_id: int
    op_code: int
    key: str
    value: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """SEND_STOP: the node is being shut down; end the run, start no other."""


Input = Union[  # noqa: UP007
    DatagramReceived,
    VoteReceived,
    ConnectionAccepted,
    ConnectionEstablished,
    BytesReceived,
    FrameReceived,
    ConnectionClosed,
    ClientRequest,
    Stop,
]
