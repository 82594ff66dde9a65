"""Pure, deterministic protocol core: no sockets, no clocks, no global randomness.

Entry point: :class:`Node` (``step(input, now)``, ``handle_timer(now)``,
``next_deadline()``, ``drain()``). Inputs are in :mod:`.inputs`, effects and
events (with the persist-before-send rule) in :mod:`.effects`; an optional
trace hook (``Node(..., trace=hook)``) receives a :class:`Transition` for
every state-machine move (:mod:`.trace`, tables in :mod:`.tables`).
"""

from .config import Limits, Mode, NodeConfig, PeerAddr
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .node import Node, Role
from .store import LogRecord, PersistentState
from .trace import TraceHook, Transition

__all__ = [
    "Limits",
    "LocalProtocolError",
    "LogRecord",
    "Mode",
    "Node",
    "NodeConfig",
    "PeerAddr",
    "PersistentState",
    "ProtocolError",
    "RemoteProtocolError",
    "Role",
    "TraceHook",
    "Transition",
]
