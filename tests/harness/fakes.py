"""Fake servers shared by the harness tests."""

from __future__ import annotations

import socket
import threading

from harness.netalloc import next_host


def one_shot_server(answer: bytes, *, then_read: bool = False) -> tuple[str, threading.Thread]:
    """A TCP server that reads the CONNECT, writes ``answer`` and closes.

    With ``then_read`` it first reads the next request, so the close is a clean
    FIN rather than a reset over unread bytes.
    """
    listener = socket.socket()
    listener.bind((next_host(), 0))
    listener.listen(1)
    addr = "{}:{}".format(*listener.getsockname())

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(answer)
                if then_read:
                    conn.recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return addr, thread
