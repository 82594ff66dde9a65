"""The probes the cases observe nodes with can tell every outcome apart.

A case that cannot fail is worthless, so each fate a case maps to a verdict
is produced here by a fake node on loopback: one that closes, one that stays
silent, one that answers, and an election port that never replies.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import wire
from conformance.probe import Fate, Peer, answers_solicit, watcher_info
from harness.netalloc import next_host

Behaviour = Callable[[socket.socket], None]


@contextmanager
def fake_node(behaviour: Behaviour) -> Iterator[str]:
    server = socket.create_server((next_host(), 0))
    done = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            behaviour(conn)
            done.wait(5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield "{}:{}".format(*server.getsockname())
    finally:
        done.set()
        thread.join(5)
        server.close()


def test_Peer_fate_closed() -> None:
    def close_at_once(conn: socket.socket) -> None:
        conn.recv(100)
        conn.shutdown(socket.SHUT_RDWR)

    with fake_node(close_at_once) as addr, Peer(addr) as peer:
        peer.send(b"\x00" * 8)
        assert peer.fate(1.0) is Fate.CLOSED


def test_Peer_fate_open_when_silent() -> None:
    with fake_node(lambda conn: None) as addr, Peer(addr) as peer:
        peer.send(b"\x00" * 8)
        assert peer.fate(0.3) is Fate.OPEN


def test_Peer_reads_a_reply_and_rejects_another_type() -> None:
    def answer(conn: socket.socket) -> None:
        conn.recv(100)
        conn.sendall(
            wire.encode(wire.LeaderInfo(accepted_epoch=3)) + wire.encode(wire.Commit(txnid=1))
        )

    with fake_node(answer) as addr, Peer(addr) as peer:
        peer.send_msg(watcher_info())
        assert peer.fate(1.0) is Fate.REPLIED
        reply = peer.expect(wire.LeaderInfo)
        assert reply is not None and reply.raw == wire.encode(wire.LeaderInfo(accepted_epoch=3))
        assert peer.expect(wire.LeaderInfo) is None  # a Commit is not a LeaderInfo


def test_answers_solicit_false_for_a_silent_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind((next_host(), 0))
        assert answers_solicit("{}:{}".format(*silent.getsockname()), timeout=0.3) is False
