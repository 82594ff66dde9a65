"""Errors raised by the core.

Style §9: the core raises :class:`RemoteProtocolError` when a peer misbehaves
and :class:`LocalProtocolError` when its caller (a driver) misuses it. Both carry
a machine-readable ``reason``. Before raising, the core has already queued the
consequence (a closed connection, a dropped datagram, an ended run), so a
driver may log the error and carry on draining effects.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of every error the core raises on purpose."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class RemoteProtocolError(ProtocolError):
    """A peer sent something the protocol does not allow."""


class LocalProtocolError(ProtocolError):
    """The driver called the core in a way its API does not allow."""
