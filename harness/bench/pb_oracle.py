"""Google's protobuf runtime as an independent oracle for the gometa messages.

The descriptors are written here from the spec's §2.2 tables, not derived from
``wire``, so that a mistake in ``wire``'s schema shows up as a disagreement
instead of being copied. They are built at runtime (``FileDescriptorProto``,
proto2, required/optional labels) because no generated code is checked in.
Both the differential tests and the codec benchmark import this module.

Conversion is by snake_case field name, the same names the ``wire``
dataclasses use. Strings cross over as the exact wire bytes: ``wire`` keeps
them as ``str`` decoded with ``surrogateescape``; protobuf's Python API
refuses to *set* invalid UTF-8, but upb hands it back as ``bytes`` when it
*parses* it (proto2 does not validate), and :func:`from_pb` maps both forms.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, Final, Literal

PACKAGE: Final = "gometa_oracle"

Kind = Literal["uint32", "uint64", "bool", "string", "bytes"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One row of a spec §2.2 table."""

    number: int
    proto_name: str
    name: str
    kind: Kind
    optional: bool = False


def _f(number: int, proto_name: str, name: str, kind: Kind, optional: bool = False) -> FieldSpec:
    return FieldSpec(number, proto_name, name, kind, optional)


_VERSION = _f(1, "version", "version", "uint32")

SCHEMA: Final[Mapping[str, tuple[FieldSpec, ...]]] = {
    "Proposal": (
        _VERSION,
        _f(2, "txnid", "txnid", "uint64"),
        _f(3, "fid", "fid", "string"),
        _f(4, "reqId", "req_id", "uint64"),
        _f(5, "opCode", "op_code", "uint32"),
        _f(6, "key", "key", "string"),
        _f(7, "content", "content", "bytes"),
    ),
    "Accept": (
        _VERSION,
        _f(2, "txnid", "txnid", "uint64"),
        _f(3, "fid", "fid", "string"),
    ),
    "Commit": (
        _VERSION,
        _f(2, "txnid", "txnid", "uint64"),
    ),
    "Vote": (
        _VERSION,
        _f(2, "round", "round", "uint64"),
        _f(3, "status", "status", "uint32"),
        _f(4, "epoch", "epoch", "uint32"),
        _f(5, "cndId", "cnd_id", "string"),
        _f(6, "cndLoggedTxnId", "cnd_logged_txn_id", "uint64"),
        _f(7, "cndCommittedTxnId", "cnd_committed_txn_id", "uint64"),
        _f(8, "solicit", "solicit", "bool"),
    ),
    "FollowerInfo": (
        _VERSION,
        _f(2, "acceptedEpoch", "accepted_epoch", "uint32"),
        _f(3, "fid", "fid", "string"),
        _f(4, "voting", "voting", "bool"),
    ),
    "EpochAck": (
        _VERSION,
        _f(2, "lastLoggedTxid", "last_logged_txid", "uint64"),
        _f(3, "currentEpoch", "current_epoch", "uint32"),
    ),
    "LeaderInfo": (
        _VERSION,
        _f(2, "acceptedEpoch", "accepted_epoch", "uint32"),
    ),
    "NewLeader": (
        _VERSION,
        _f(2, "currentEpoch", "current_epoch", "uint32"),
    ),
    "NewLeaderAck": (_VERSION,),
    "LogEntry": (
        _VERSION,
        _f(2, "txnid", "txnid", "uint64"),
        _f(3, "opCode", "op_code", "uint32"),
        _f(4, "key", "key", "string"),
        _f(5, "content", "content", "bytes"),
    ),
    "Request": (
        _VERSION,
        _f(2, "reqId", "req_id", "uint64"),
        _f(3, "opCode", "op_code", "uint32"),
        _f(4, "key", "key", "string"),
        _f(5, "content", "content", "bytes"),
    ),
    "Abort": (
        _VERSION,
        _f(2, "reqId", "req_id", "uint64"),
        _f(3, "fid", "fid", "string"),
        _f(4, "error", "error", "string", optional=True),
    ),
    "Response": (
        _VERSION,
        _f(2, "reqId", "req_id", "uint64"),
        _f(3, "fid", "fid", "string"),
        _f(4, "error", "error", "string", optional=True),
        _f(5, "content", "content", "bytes", optional=True),
    ),
}
"""Message name → fields, transcribed from spec §2.2 (gometa's registration order)."""


class ProtobufUnavailableError(RuntimeError):
    """The ``protobuf`` package is not installed."""


def _protobuf() -> tuple[ModuleType, ModuleType, ModuleType]:
    try:
        descriptor_pb2 = importlib.import_module("google.protobuf.descriptor_pb2")
        descriptor_pool = importlib.import_module("google.protobuf.descriptor_pool")
        message_factory = importlib.import_module("google.protobuf.message_factory")
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ProtobufUnavailableError(
            "Google's protobuf runtime is not installed (pip install protobuf)"
        ) from exc
    return descriptor_pb2, descriptor_pool, message_factory


def available() -> bool:
    """Whether the protobuf runtime can be imported."""
    try:
        _protobuf()
    except ProtobufUnavailableError:
        return False
    return True


def runtime_description() -> str:
    """Protobuf version and backend (upb, cpp or python), for reports."""
    _protobuf()
    protobuf = importlib.import_module("google.protobuf")
    api = importlib.import_module("google.protobuf.internal.api_implementation")
    return f"protobuf {protobuf.__version__} ({api.Type()})"


def file_descriptor_proto() -> Any:
    """The ``FileDescriptorProto`` for all 13 messages (proto2)."""
    descriptor_pb2, _, _ = _protobuf()
    fdp = descriptor_pb2.FileDescriptorProto(
        name="gometa_oracle.proto", package=PACKAGE, syntax="proto2"
    )
    fd = descriptor_pb2.FieldDescriptorProto
    types = {
        "uint32": fd.TYPE_UINT32,
        "uint64": fd.TYPE_UINT64,
        "bool": fd.TYPE_BOOL,
        "string": fd.TYPE_STRING,
        "bytes": fd.TYPE_BYTES,
    }
    for name, fields in SCHEMA.items():
        message = fdp.message_type.add(name=name)
        for spec in fields:
            message.field.add(
                name=spec.proto_name,
                number=spec.number,
                type=types[spec.kind],
                label=fd.LABEL_OPTIONAL if spec.optional else fd.LABEL_REQUIRED,
            )
    return fdp


@cache
def message_classes() -> Mapping[str, Any]:
    """Message name → protobuf message class, built once per process."""
    _, descriptor_pool, message_factory = _protobuf()
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor_proto())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in SCHEMA
    }


Value = int | bool | str | bytes | None


def to_pb(name: str, values: Mapping[str, Value]) -> Any:
    """Build a protobuf message from snake_case ``values`` (``None`` = unset).

    Raises ``UnicodeEncodeError`` for a string that is not valid UTF-8: the
    protobuf Python API cannot hold one (it can only parse one).
    """
    message = message_classes()[name]()
    for spec in SCHEMA[name]:
        value = values.get(spec.name)
        if value is None:
            continue
        if spec.kind == "string":
            assert isinstance(value, str)
            value.encode("utf-8")  # surrogates (invalid UTF-8 on the wire) raise here
        setattr(message, spec.proto_name, value)
    return message


def from_pb(name: str, message: Any) -> dict[str, Value]:
    """Snake_case values of a parsed message; unset fields become ``None``.

    A string that upb returns as ``bytes`` (invalid UTF-8) is turned into the
    ``surrogateescape`` form ``wire`` uses.
    """
    out: dict[str, Value] = {}
    for spec in SCHEMA[name]:
        if not message.HasField(spec.proto_name):
            out[spec.name] = None
            continue
        value = getattr(message, spec.proto_name)
        if spec.kind == "string" and isinstance(value, bytes):
            value = value.decode("utf-8", "surrogateescape")
        out[spec.name] = value
    return out


class OracleRejectedError(ValueError):
    """The protobuf runtime refused the body (a parse error, or a required field if checked)."""


ZERO: Final[Mapping[Kind, Value]] = {
    "uint32": 0,
    "uint64": 0,
    "bool": False,
    "string": "",
    "bytes": b"",
}
"""What a Go getter returns for an absent field of each kind."""


def parse(name: str, body: bytes, *, check_required: bool = False) -> Any:
    """Parse ``body``; a parse error raises :class:`OracleRejectedError`.

    upb's ``ParseFromString`` does not check required fields, and neither
    does gometa's Go runtime (checked against the live node, see
    ``docs/spec-findings.md``); ``check_required`` adds the proto2 check
    (``IsInitialized``) for callers that want textbook proto2.
    """
    message = message_classes()[name]()
    try:
        message.ParseFromString(body)
    except Exception as exc:  # protobuf's DecodeError; its class differs by backend
        raise OracleRejectedError(str(exc)) from exc
    if check_required and not message.IsInitialized():
        raise OracleRejectedError(f"missing required field(s) in {name}")
    return message


def decode_values(name: str, body: bytes) -> dict[str, Value]:
    """The oracle's reading of a body, as gometa's Go code sees it.

    An absent required field reads as its zero value (Go's getter); an absent
    optional field stays ``None`` (the Go pointer is nil).
    """
    values = from_pb(name, parse(name, body))
    for spec in SCHEMA[name]:
        if values[spec.name] is None and not spec.optional:
            values[spec.name] = ZERO[spec.kind]
    return values


def encode_values(name: str, values: Mapping[str, Value]) -> bytes:
    """The oracle's encoding of ``values`` (protobuf serialises in field-number order)."""
    data: bytes = to_pb(name, values).SerializeToString()
    return data
