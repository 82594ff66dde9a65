"""Loopback addresses and ports that parallel test workers never share.

Every pytest-xdist worker (``PYTEST_XDIST_WORKER=gwN``) gets its own second
octet, 127.(20+N).x.y, and every process its own third octet derived from
its pid, so two workers, or two test sessions on one machine, bind different
IPs. Within a process a counter hands out the last octet, and each port is
proven free by binding it (TCP and UDP) before it is returned.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading

from refnode.config import MemberAddrs

__all__ = ["MemberAddrs", "allocate_member", "free_port", "next_host", "port_free", "worker_subnet"]

_lock = threading.Lock()
_host_counter = itertools.count(1)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isdigit() else 200


def worker_subnet() -> tuple[int, int]:
    """The (second, third) octets reserved for this worker and process."""
    second = 20 + _worker_index() % 230
    third = os.getpid() % 250 + 1
    return second, third


def next_host() -> str:
    """A fresh 127.x.y.z address for one member of this process."""
    second, third = worker_subnet()
    with _lock:
        n = next(_host_counter)
    third = (third + (n - 1) // 250) % 250 + 1
    return f"127.{second}.{third}.{(n - 1) % 250 + 1}"


def port_free(host: str, port: int) -> bool:
    """Whether ``port`` can be bound on ``host`` for both TCP and UDP right now."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port(host: str) -> int:
    """A port free for both TCP and UDP on ``host`` right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if port_free(host, port):
            return port
    raise RuntimeError(f"no free port on {host}")


def allocate_member() -> MemberAddrs:
    """A new loopback IP with an election, a message and a request port."""
    host = next_host()
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port(host))
    e, m, r = sorted(ports)
    return MemberAddrs(election=f"{host}:{e}", message=f"{host}:{m}", request=f"{host}:{r}")
