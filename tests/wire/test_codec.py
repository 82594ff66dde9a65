"""Unit tests for wire's decoders, encoder and strict mode (spec §1, §2).

Each bad input is built with ``wire.craft`` so the test says which field is
wrong and how, instead of hand-packing bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import wire
from wire import craft
from wire._fast import BODY_DECODERS, source_for
from wire._schema import SPEC_BY_CLASS, SPECS

T1 = wire.make_txid(1, 1)

SAMPLES: list[wire.Message] = [
    wire.Proposal(txnid=T1, fid="127.0.0.1:5002", req_id=7, op_code=2, key="k", content=b"v"),
    wire.Accept(txnid=T1, fid="127.0.0.1:6002"),
    wire.Commit(txnid=T1),
    wire.Vote(
        round=3,
        status=0,
        epoch=2,
        cnd_id="127.0.0.1:5001",
        cnd_logged_txn_id=wire.make_txid(2, 5),
        cnd_committed_txn_id=wire.make_txid(2, 4),
        solicit=False,
    ),
    wire.FollowerInfo(accepted_epoch=0, fid="127.0.0.1:6002", voting=True),
    wire.EpochAck(last_logged_txid=0, current_epoch=0),
    wire.LeaderInfo(accepted_epoch=1),
    wire.NewLeader(current_epoch=1),
    wire.NewLeaderAck(),
    wire.LogEntry(txnid=T1, op_code=2, key="k", content=b"v"),
    wire.Request(req_id=42, op_code=2, key="k", content=b"v"),
    wire.Abort(req_id=42, fid="127.0.0.1:6002", error="oops"),
    wire.Response(req_id=42, fid="127.0.0.1:6002", error="", content=b""),
]


def expect_error(reason: str, call: Callable[[], Any]) -> wire.DecodeError:
    with pytest.raises(wire.DecodeError) as info:
        call()
    assert info.value.reason == reason, info.value
    return info.value


def body_of(
    msg: wire.Message, edit: Callable[[list[craft.RawField]], list[craft.RawField]]
) -> bytes:
    return craft.frame(wire.message_name(msg), craft.body(edit(craft.fields_of(msg))))


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_roundtrip_every_message(msg: wire.Message) -> None:
    """encode → decode is the identity, and the frame is canonical."""
    data = wire.encode(msg)
    assert wire.decode(data) == msg
    assert wire.decode(data, strict=True) == msg
    assert wire.inspect(data).canonical


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_construct_declaration_agrees_with_compiled_path(msg: wire.Message) -> None:
    """The construct schema and the generated encoder/decoder are one format."""
    spec = SPEC_BY_CLASS[type(msg)]
    values = {f.attr: getattr(msg, f.attr) for f in spec.fields}
    built = spec.body.build(values)
    assert built == wire.encode_body(msg)
    parsed = spec.body.parse(built)
    assert {f.attr: parsed[f.attr] for f in spec.fields} == values
    assert BODY_DECODERS[spec.name](built) == msg
    assert f"def decode_{spec.name}" in source_for(spec.name)


def test_Response_content_absent_and_empty_differ() -> None:
    """Spec §2.3 rule 4: content omitted when nil, ``2a 00`` when empty."""
    absent = wire.encode_body(wire.Response(req_id=1, fid="f", error=""))
    empty = wire.encode_body(wire.Response(req_id=1, fid="f", error="", content=b""))
    assert empty == absent + b"\x2a\x00"
    assert absent.endswith(b"\x22\x00"), "Go always sends error, even empty"


def test_fields_in_any_order_and_last_wins() -> None:
    """protobuf-go accepts any order; a repeated scalar keeps the last value."""
    msg = wire.Accept(txnid=5, fid="a")
    data = body_of(msg, lambda fs: [fs[2], craft.RawField(2, 0, 99), fs[0], fs[1]])
    assert wire.decode(data) == msg
    found = wire.inspect(data)
    assert {f.kind for f in found.findings} == {"field_order", "duplicate_field"}
    with pytest.raises(wire.NonCanonicalError):
        wire.decode(data, strict=True)


@pytest.mark.parametrize(
    "extra",
    [
        craft.RawField(15, craft.WIRETYPE_VARINT, 1),
        craft.RawField(15, craft.WIRETYPE_FIXED64, b"\x00" * 8),
        craft.RawField(15, craft.WIRETYPE_FIXED32, b"\x00" * 4),
        craft.RawField(15, craft.WIRETYPE_LEN, b"junk"),
    ],
    ids=["varint", "fixed64", "fixed32", "len"],
)
def test_unknown_fields_are_skipped(extra: craft.RawField) -> None:
    """Spec §2.1: unknown field numbers are kept and ignored (FT-12)."""
    msg = wire.FollowerInfo(accepted_epoch=3, fid="x", voting=True)
    data = body_of(msg, lambda fs: [*fs, extra])
    assert wire.decode(data) == msg
    assert [f.kind for f in wire.inspect(data).findings] == ["unknown_field"]


def test_unknown_group_is_skipped_and_bad_groups_fail() -> None:
    """Deprecated groups are skipped up to their matching end key, as Go does."""
    msg = wire.Commit(txnid=1)
    group = [craft.RawField(9, 3, b""), craft.RawField(1, 0, 5), craft.RawField(9, 4, b"")]
    assert wire.decode(body_of(msg, lambda fs: [*fs, *group])) == msg
    mismatched = [craft.RawField(9, 3, b""), craft.RawField(8, 4, b"")]
    expect_error(
        "mismatched_end_group", lambda: wire.decode(body_of(msg, lambda fs: [*fs, *mismatched]))
    )
    expect_error("truncated_group", lambda: wire.decode(body_of(msg, lambda fs: [*fs, group[0]])))
    stray_end = craft.RawField(9, 4, b"")
    expect_error(
        "unexpected_end_group", lambda: wire.decode(body_of(msg, lambda fs: [*fs, stray_end]))
    )


@pytest.mark.parametrize("wire_type", [6, 7])
def test_reserved_wire_types_fail(wire_type: int) -> None:
    data = body_of(wire.Commit(txnid=1), lambda fs: [*fs, craft.RawField(3, wire_type, b"")])
    expect_error("invalid_wire_type", lambda: wire.decode(data))


def test_field_number_zero_fails() -> None:
    data = body_of(wire.Commit(txnid=1), lambda fs: [*fs, craft.RawField(0, 0, 1)])
    err = expect_error("invalid_field_number", lambda: wire.decode(data))
    assert err.path == "Commit.<key>"


def test_missing_required_field_reads_as_zero_like_go() -> None:
    """FT-10, settled on the live node: gometa does not enforce ``required``.

    The spec inferred a decode error; gometa's own UnMarshall accepts the
    frame and its getters return the zero value, so the default decoder does
    the same and strict mode names the missing field.
    """
    msg = wire.FollowerInfo(accepted_epoch=3, fid="f", voting=True)
    data = body_of(msg, lambda fs: fs[:3])
    assert wire.decode(data) == wire.FollowerInfo(accepted_epoch=3, fid="f", voting=False)
    err = expect_error("non_canonical", lambda: wire.decode(data, strict=True))
    assert isinstance(err, wire.NonCanonicalError)
    assert [(f.kind, f.path) for f in err.findings] == [("missing_required", "FollowerInfo.voting")]
    assert err.findings[0].offset == len(data)
    empty_ish = body_of(wire.LogEntry(txnid=1, op_code=2, key="k", content=b"v"), lambda fs: fs[:1])
    assert wire.decode(empty_ish) == wire.LogEntry(txnid=0, op_code=0, key="", content=b"")


def test_wrong_wire_type_counts_as_unknown() -> None:
    """FT-11: field 2 sent length-delimited is unknown, so field 2 reads as absent."""
    msg = wire.FollowerInfo(accepted_epoch=5, fid="f", voting=True)
    data = body_of(msg, lambda fs: [fs[0], craft.RawField(2, 2, b"\x00"), fs[2], fs[3]])
    assert wire.decode(data) == wire.FollowerInfo(accepted_epoch=0, fid="f", voting=True)
    kinds = [f.kind for f in wire.inspect(data).findings]
    assert kinds == ["wrong_wire_type", "missing_required"]
    both = body_of(msg, lambda fs: [*fs, craft.RawField(2, 2, b"\x07")])
    assert wire.decode(both) == msg
    assert [f.kind for f in wire.inspect(both).findings] == ["wrong_wire_type"]


def test_uint32_is_truncated_and_bool_is_nonzero() -> None:
    """Spec §2.1: uint32 keeps its low 32 bits; any non-zero varint is true."""
    msg = wire.FollowerInfo(accepted_epoch=0, fid="f", voting=True)
    data = body_of(
        msg,
        lambda fs: [fs[0], craft.RawField(2, 0, (1 << 40) | 7), fs[2], craft.RawField(4, 0, 300)],
    )
    assert wire.decode(data) == wire.FollowerInfo(accepted_epoch=7, fid="f", voting=True)
    kinds = [f.kind for f in wire.inspect(data).findings]
    assert kinds == ["uint32_truncated", "non_canonical_bool"]


def test_non_minimal_varints_up_to_ten_bytes_are_accepted() -> None:
    msg = wire.Commit(txnid=1)
    data = body_of(msg, lambda fs: [fs[0], craft.RawField(2, 0, 1, varint_width=10)])
    assert wire.decode(data) == msg
    assert [f.kind for f in wire.inspect(data).findings] == ["non_minimal_varint"]


def test_varint_longer_than_ten_bytes_fails() -> None:
    msg = wire.Commit(txnid=1)
    data = body_of(msg, lambda fs: [fs[0], craft.RawField(2, 0, 1, varint_width=11)])
    err = expect_error("varint_overflow", lambda: wire.decode(data))
    assert err.path == "Commit.txnid"


def test_varint_tenth_byte_above_one_overflows() -> None:
    """2**64 needs a 10th byte of 2: protobuf-go calls that an overflow."""
    msg = wire.Commit(txnid=1)
    data = body_of(msg, lambda fs: [fs[0], craft.RawField(2, 0, 1 << 64)])
    expect_error("varint_overflow", lambda: wire.decode(data))
    top = body_of(msg, lambda fs: [fs[0], craft.RawField(2, 0, (1 << 64) - 1)])
    assert wire.decode(top) == wire.Commit(txnid=(1 << 64) - 1)


def test_truncated_varint_and_lying_field_length() -> None:
    full = wire.encode(wire.Commit(txnid=wire.make_txid(1, 1)))
    err = expect_error("truncated_varint", lambda: wire.decode(craft.frame("Commit", full[24:-1])))
    assert err.path == "Commit.txnid"
    lying = craft.RawField(3, 2, b"ab", length=50)
    data = body_of(wire.Accept(txnid=1, fid="ab"), lambda fs: [fs[0], fs[1], lying])
    expect_error("truncated_field", lambda: wire.decode(data))


def test_invalid_utf8_is_kept_byte_for_byte() -> None:
    """FT-16: proto2 strings are not checked; the exact bytes echo back."""
    raw = b"\xff\xfe127.0.0.1\xc0"
    msg = wire.FollowerInfo(accepted_epoch=0, fid="x", voting=True)
    data = body_of(msg, lambda fs: [fs[0], fs[1], craft.RawField(3, 2, raw), fs[3]])
    decoded = wire.decode(data)
    assert isinstance(decoded, wire.FollowerInfo)
    assert decoded.fid.encode("utf-8", "surrogateescape") == raw
    assert wire.encode(decoded) == data
    assert [f.kind for f in wire.inspect(data).findings] == ["invalid_utf8"]


def test_version_is_ignored_but_flagged() -> None:
    """FT-13: version 99 is accepted; strict mode says Go never sends it."""
    data = wire.encode(wire.FollowerInfo(version=99, accepted_epoch=0, fid="f", voting=True))
    assert wire.decode(data).version == 99
    assert [f.kind for f in wire.inspect(data).findings] == ["unexpected_version"]


def test_Abort_without_error_is_valid_but_not_canonical() -> None:
    data = wire.encode(wire.Abort(req_id=1, fid="f", error=None))
    assert wire.decode(data) == wire.Abort(req_id=1, fid="f", error=None)
    assert [f.kind for f in wire.inspect(data).findings] == ["missing_optional_error"]


# --- frame header (spec §1.2, FT-02..FT-09) ---------------------------------


def test_total_len_limit_is_inclusive() -> None:
    """FT-02/FT-03: 20 971 520 is accepted, one more is not."""
    name = b"LogEntry"
    fixed = wire.encode_body(wire.LogEntry(txnid=1, op_code=2, key="k", content=b""))
    pad = wire.MAX_FRAME_TOTAL_LEN - 8 - len(name) - len(fixed) - 3  # 4-byte length prefix
    big = wire.LogEntry(txnid=1, op_code=2, key="k", content=b"x" * pad)
    data = wire.encode(big)
    assert int.from_bytes(data[:8], "big") == wire.MAX_FRAME_TOTAL_LEN
    assert wire.decode(data) == big
    over = craft.frame(name, b"", total_len=wire.MAX_FRAME_TOTAL_LEN + 1)
    expect_error("total_len_too_large", lambda: wire.decode(over))
    decoder = wire.FrameDecoder()
    err = expect_error("total_len_too_large", lambda: decoder.feed(over[:8]))
    assert err.offset == 0, "rejected as soon as the 8 length bytes arrive"


@pytest.mark.parametrize(
    ("name", "kwargs", "reason"),
    [
        (b"Commit", {"name_len": 2049}, "name_too_long"),
        (b"", {}, "empty_name"),
        (b"Bogus", {}, "unknown_name"),
        (b"commit", {}, "unknown_name"),
        (b"Vote", {"total_len": 4}, "length_underflow"),
    ],
    ids=["FT-04", "FT-05", "FT-06", "FT-07-case", "FT-08"],
)
def test_bad_headers(name: bytes, kwargs: dict[str, int], reason: str) -> None:
    data = craft.frame(name, b"\x08\x01" + b"\x00" * 2100, **kwargs)
    expect_error(reason, lambda: wire.decode(data))
    expect_error(reason, lambda: wire.FrameDecoder().feed(data))


def test_empty_body_is_rejected() -> None:
    """FT-09 / W5: a frame whose payload is empty closes the connection in Go."""
    data = craft.frame("NewLeaderAck", b"")
    expect_error("empty_body", lambda: wire.decode(data))
    expect_error("empty_body", lambda: wire.FrameDecoder().feed(data))


def test_truncations_and_trailing_bytes() -> None:
    data = wire.encode(wire.Commit(txnid=1))
    expect_error("truncated_header", lambda: wire.decode(data[:5]))
    expect_error("truncated_header", lambda: wire.decode(data[:12]))
    expect_error("truncated_name", lambda: wire.decode(data[:18]))
    expect_error("truncated_frame", lambda: wire.decode(data[:-1]))
    err = expect_error("trailing_bytes", lambda: wire.decode(data + b"\x00"))
    assert err.offset == len(data)


# --- TCP stream --------------------------------------------------------------


def test_stream_two_frames_in_one_chunk_and_byte_by_byte() -> None:
    """FT-17: both frames, in order; any chunking gives the same result."""
    msgs = SAMPLES[:4]
    stream = b"".join(wire.encode(m) for m in msgs)
    assert wire.FrameDecoder().feed(stream) == msgs
    decoder = wire.FrameDecoder()
    out: list[wire.Message] = []
    for i in range(len(stream)):
        out += decoder.feed(stream[i : i + 1])
        completed = sum(len(wire.encode(m)) for m in out)
        assert decoder.buffered == i + 1 - completed
    assert out == msgs
    assert decoder.buffered == 0


def test_stream_error_keeps_earlier_frames_and_spends_the_decoder() -> None:
    good = wire.encode(wire.Commit(txnid=1))
    bad = craft.frame("Bogus", b"\x08\x01")
    decoder = wire.FrameDecoder()
    err = expect_error("unknown_name", lambda: decoder.feed(good + bad))
    assert err.decoded_before == (wire.Commit(txnid=1),)
    assert err.offset == len(good) + 16
    assert decoder.failed is err
    expect_error("decoder_failed", lambda: decoder.feed(good))


def test_stream_reports_partial_frame() -> None:
    data = wire.encode(wire.Commit(txnid=1))
    decoder = wire.FrameDecoder()
    assert decoder.feed(data[:10]) == []
    assert decoder.buffered == 10


# --- UDP (spec §1.3) ---------------------------------------------------------


def test_datagram_ignores_total_len() -> None:
    vote = SAMPLES[3]
    data = wire.encode(vote)
    lying = craft.datagram("Vote", data[20:], total_len=7)
    assert wire.decode_datagram(lying) == vote
    assert [f.kind for f in wire.inspect_datagram(lying).findings] == [
        "datagram_total_len_mismatch"
    ]
    expect_error("length_underflow", lambda: wire.decode(lying))


def test_datagram_errors() -> None:
    """FU-02/FU-03/FU-05/FU-06 inputs: each is a DecodeError, nothing else."""
    expect_error("datagram_too_short", lambda: wire.decode_datagram(b"\x00" * 7))
    expect_error(
        "name_len_exceeds_datagram",
        lambda: wire.decode_datagram(craft.datagram("Vote", b"", name_len=9)),
    )
    expect_error("unknown_name", lambda: wire.decode_datagram(craft.datagram("Bogus", b"\x08\x01")))
    no_solicit = body_of(SAMPLES[3], lambda fs: fs[:-1])
    assert wire.decode_datagram(no_solicit) == SAMPLES[3], "absent solicit reads as false"
    long_vote = wire.encode(
        wire.Vote(
            round=1,
            status=0,
            epoch=0,
            cnd_id="x" * 1200,
            cnd_logged_txn_id=0,
            cnd_committed_txn_id=0,
            solicit=False,
        )
    )
    expect_error("truncated_field", lambda: wire.decode_datagram(long_vote))
    assert "datagram_truncated" in str(
        expect_error(
            "non_canonical",
            lambda: wire.decode_datagram(wire.encode(SAMPLES[3]) + b"\x78\x00" * 600, strict=True),
        )
    )


def test_datagram_may_carry_any_registered_message() -> None:
    """FU-04: a valid Commit decodes; rejecting non-Votes is the node's job (W2)."""
    assert wire.decode_datagram(wire.encode(wire.Commit(txnid=1))) == wire.Commit(txnid=1)


# --- encoder -----------------------------------------------------------------


@pytest.mark.parametrize(
    "msg",
    [
        wire.Commit(txnid=-1),
        wire.Commit(txnid=1 << 64),
        wire.LeaderInfo(accepted_epoch=1 << 32),
        wire.FollowerInfo(accepted_epoch=0, fid="f", voting=1),  # type: ignore[arg-type]
        wire.Accept(txnid=1, fid=None),  # type: ignore[arg-type]
        wire.LogEntry(txnid=1, op_code=2, key="k", content=None),  # type: ignore[arg-type]
        wire.Accept(txnid=1, fid="\ud800"),
        wire.Commit(txnid=True),
    ],
    ids=[
        "negative",
        "u64-over",
        "u32-over",
        "bool-int",
        "str-none",
        "bytes-none",
        "surrogate",
        "bool-as-int",
    ],
)
def test_encoder_refuses_what_go_cannot_send(msg: wire.Message) -> None:
    """W34: Go cannot encode a nil required field; we refuse before sending."""
    with pytest.raises(wire.EncodeError):
        wire.encode(msg)


def test_encoder_refuses_foreign_objects() -> None:
    with pytest.raises(wire.EncodeError):
        wire.encode(object())  # type: ignore[arg-type]


def test_every_spec_is_exported() -> None:
    assert set(wire.MESSAGE_BY_NAME) == set(SPECS) and len(SPECS) == 13
    assert all(wire.message_name(cls) == name for name, cls in wire.MESSAGE_BY_NAME.items())


_FRAME = wire.encode(wire.Commit(txnid=1))


@pytest.mark.parametrize(
    ("call", "good"),
    [
        (wire.decode, _FRAME),
        (wire.decode_datagram, _FRAME),
        (wire.inspect, _FRAME),
        (wire.inspect_datagram, _FRAME),
        (lambda data: wire.FrameDecoder().feed(data), _FRAME),
        (lambda data: wire.decode_body("Commit", data), _FRAME[22:]),
    ],
    ids=["decode", "datagram", "inspect", "inspect_datagram", "stream", "body"],
)
def test_non_bytes_input_is_a_DecodeError(call: Callable[[Any], object], good: bytes) -> None:
    """No other exception type escapes a decoder, whatever it is given."""
    expect_error("not_bytes", lambda: call("abc"))
    assert call(bytearray(good)) and call(memoryview(good))
