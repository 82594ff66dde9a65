"""Wire-level probes: a TCP peer and a UDP voter that speak only ``wire`` frames.

A case observes a node through these alone: whether a connection is closed
(EOF or reset) or stays open within a timeout, which complete frames come
back, and whether the election port still answers a solicit.
"""

from __future__ import annotations

import enum
import socket
import struct
import time
from dataclasses import dataclass

import wire
from harness.netalloc import next_host
from harness.targets.ensemble import solicit_winner

CLOSE_TIMEOUT = 2.0
"""How long "the node must close the connection" may take."""

REPLY_TIMEOUT = 3.0
"""How long a reply the node must send may take."""

_U64 = struct.Struct(">Q")


class Fate(enum.Enum):
    """What a connection did after the case sent its bytes."""

    CLOSED = "closed"  # EOF or reset, nothing received first
    OPEN = "open"  # still open, silent, when the timeout ran out
    REPLIED = "replied"  # the node sent bytes


@dataclass(frozen=True, slots=True)
class RawReply:
    """One complete frame the node sent, undecoded and decoded."""

    raw: bytes
    message: wire.Message


def _host_port(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host, int(port)


class Peer:
    """One TCP connection to a node's message port."""

    def __init__(self, addr: str, timeout: float = 5.0) -> None:
        self.addr = addr
        self.sock = socket.create_connection(_host_port(addr), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self.eof = False

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_msg(self, *msgs: wire.Message) -> None:
        """Encode ``msgs`` and send them in one write (one segment when small)."""
        self.sock.sendall(b"".join(wire.encode(m) for m in msgs))

    def _fill(self, deadline: float) -> bool:
        """Read more bytes; False on EOF/reset; TimeoutError at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            self.eof = True
            return False
        if not chunk:
            self.eof = True
            return False
        self._buf += chunk
        return True

    def fate(self, timeout: float = CLOSE_TIMEOUT) -> Fate:
        """Closed, open and silent, or replied, within ``timeout``."""
        if self._buf:
            return Fate.REPLIED
        deadline = time.monotonic() + timeout
        try:
            if self._fill(deadline):
                return Fate.REPLIED
        except TimeoutError:
            return Fate.OPEN
        return Fate.CLOSED

    def read_frame(self, timeout: float = REPLY_TIMEOUT) -> RawReply | None:
        """The next complete frame, or None on EOF/timeout."""
        deadline = time.monotonic() + timeout
        try:
            while len(self._buf) < 8:
                if not self._fill(deadline):
                    return None
            total = _U64.unpack_from(self._buf)[0]
            if total > wire.MAX_FRAME_TOTAL_LEN:
                raise wire.DecodeError("total_len_too_large", offset=0, path="frame")
            while len(self._buf) < 8 + total:
                if not self._fill(deadline):
                    return None
        except TimeoutError:
            return None
        raw, self._buf = self._buf[: 8 + total], self._buf[8 + total :]
        return RawReply(raw, wire.decode(raw))

    def expect(self, kind: type[wire.Message], timeout: float = REPLY_TIMEOUT) -> RawReply | None:
        """The next frame if it is a ``kind``; None otherwise (EOF, timeout, other type)."""
        reply = self.read_frame(timeout)
        if reply is None or not isinstance(reply.message, kind):
            return None
        return reply


def watcher_info(fid: str = "conformance-watcher", **overrides: object) -> wire.FollowerInfo:
    """A FollowerInfo that joins as a watcher (voting=false): it never moves the
    leader's quorum, and a ready leader answers it at once (spec §5.7)."""
    fields: dict[str, object] = {"accepted_epoch": 0, "fid": fid, "voting": False}
    fields.update(overrides)
    return wire.FollowerInfo(**fields)  # type: ignore[arg-type]


def serves_new_connection(addr: str, fid: str = "conformance-check") -> bool:
    """Whether a fresh, valid watcher connection gets its LeaderInfo."""
    with Peer(addr) as peer:
        peer.send_msg(watcher_info(fid))
        return peer.expect(wire.LeaderInfo) is not None


class Voter:
    """A UDP socket on a fresh loopback address (or a given one)."""

    def __init__(self, bind: str | None = None) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if bind is None:
            self.sock.bind((next_host(), 0))
        else:
            self.sock.bind(_host_port(bind))
        self.addr = "{}:{}".format(*self.sock.getsockname())

    def __enter__(self) -> Voter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes, to: str) -> None:
        self.sock.sendto(data, _host_port(to))

    def replies(self, timeout: float) -> list[bytes]:
        """Every datagram that arrives within ``timeout``."""
        out: list[bytes] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65536)
            except TimeoutError:
                break
            out.append(data)
        return out


def solicit(cnd_id: str, *, round_: int = 1, solicit_flag: bool = True) -> wire.Vote:
    """An ELECTING vote for ``cnd_id``; with ``solicit_flag`` it asks who won."""
    return wire.Vote(
        round=round_,
        status=int(wire.PeerStatus.ELECTING),
        epoch=0,
        cnd_id=cnd_id,
        cnd_logged_txn_id=0,
        cnd_committed_txn_id=0,
        solicit=solicit_flag,
    )


def answers_solicit(election_addr: str, timeout: float = 1.5) -> bool:
    """The W41-style liveness probe: does the election port still name a winner?"""
    return solicit_winner(election_addr, timeout) is not None


def u64(value: int) -> bytes:
    """A big-endian 8-byte header field, for frames cut short on purpose."""
    return _U64.pack(value)
