"""Spec §12.1: framing on the TCP message port of a ready leader.

Every case talks to the leader of a stable 3-member ensemble as a watcher
(voting=false): a ready leader has its quorum, so it answers a FollowerInfo
with LeaderInfo at once (spec §5.3 step 2, §5.7), and a watcher never moves
that quorum. "Must close" is seen as EOF or reset within CLOSE_TIMEOUT;
"must continue" as the next message of discovery.

FT-05 and FT-09 come last: on the pinned gometa (05cb6b2) they leave a reader
goroutine spinning for the rest of the run.
"""

from __future__ import annotations

import pytest

import wire
from conformance.plugin import Judge, Sut, case
from conformance.probe import (
    REPLY_TIMEOUT,
    Fate,
    Peer,
    serves_new_connection,
    u64,
    watcher_info,
)
from conformance.verdicts import Outcome, Verdict
from wire import craft

pytestmark = pytest.mark.framing

SPIN_NOTE = (
    "gometa 05cb6b2: a zero-byte read makes the TCP reader spin instead of closing "
    "(fixed upstream by 1eeb3d5; harness/gometa_host/README.md)"
)


def _must_close(judge: Judge, peer: Peer, what: str) -> None:
    fate = peer.fate()
    judge.observe(fate=fate.value)
    if fate is Fate.CLOSED:
        judge.conclude(Outcome.STRICT, f"closed the connection after {what}")
    else:
        judge.conclude(Outcome.OTHER, f"connection {fate.value} after {what}, expected close")


def _accepts(judge: Judge, peer: Peer, what: str) -> None:
    reply = peer.expect(wire.LeaderInfo)
    judge.observe(leader_info=reply is not None, eof=peer.eof)
    if reply is not None:
        judge.conclude(Outcome.STRICT, f"answered {what} with LeaderInfo")
    else:
        judge.conclude(Outcome.OTHER, f"no LeaderInfo after {what} (eof={peer.eof})")


@case("FT-01")
def test_ft_01_valid_follower_info(leader_sut: Sut, judge: Judge) -> None:
    """FT-01: send a valid FollowerInfo frame on a new connection; the node must
    continue discovery, and its LeaderInfo frame must match the 1.1 layout byte
    for byte."""
    with Peer(leader_sut.message) as peer:
        peer.send_msg(watcher_info("ft-01"))
        reply = peer.expect(wire.LeaderInfo)
        if reply is None:
            judge.conclude(Outcome.OTHER, f"no LeaderInfo (eof={peer.eof})")
            return
        name = b"LeaderInfo"
        header_ok = (
            int.from_bytes(reply.raw[:8], "big") == len(reply.raw) - 8
            and int.from_bytes(reply.raw[8:16], "big") == len(name)
            and reply.raw[16 : 16 + len(name)] == name
        )
        canonical = wire.encode(reply.message) == reply.raw
        judge.observe(frame_hex=reply.raw.hex(), header_ok=header_ok, canonical=canonical)
        if header_ok and canonical:
            judge.conclude(Outcome.STRICT, "LeaderInfo frame matches the 1.1 layout byte for byte")
        else:
            judge.conclude(Outcome.OTHER, f"LeaderInfo {reply.raw.hex()} is not canonical")


@case("FT-02")
def test_ft_02_total_len_over_limit(leader_sut: Sut, judge: Judge) -> None:
    """FT-02: send a header with total_len = 20 971 521; the node must close the
    connection without replying."""
    with Peer(leader_sut.message) as peer:
        # Only the 8-byte total_len: a node that does not check it waits for more.
        peer.send(u64(wire.MAX_FRAME_TOTAL_LEN + 1))
        _must_close(judge, peer, "total_len 20 971 521")


@case("FT-03")
def test_ft_03_total_len_at_limit(leader_sut: Sut, judge: Judge) -> None:
    """FT-03: send total_len = 20 971 520, a valid name, then the full payload;
    the node must accept it (size limit is inclusive)."""
    name = b"FollowerInfo"
    fields = craft.fields_of(watcher_info("ft-03"))
    head = craft.body(fields)
    # An unknown length-delimited field 15 pads the body to the exact limit.
    pad_room = wire.MAX_FRAME_TOTAL_LEN - 8 - len(name) - len(head)
    key_and_len = len(craft.RawField(15, craft.WIRETYPE_LEN, b"", length=pad_room).to_bytes())
    pad = craft.RawField(15, craft.WIRETYPE_LEN, bytes(pad_room - key_and_len))
    frame = craft.frame(name, head + pad.to_bytes())
    assert len(frame) - 8 == wire.MAX_FRAME_TOTAL_LEN
    with Peer(leader_sut.message, timeout=30) as peer:
        peer.send(frame)
        reply = peer.expect(wire.LeaderInfo, timeout=20)
        judge.observe(leader_info=reply is not None, eof=peer.eof)
        if reply is not None:
            judge.conclude(Outcome.STRICT, "accepted a 20 971 520-byte frame")
        else:
            judge.conclude(Outcome.OTHER, f"no LeaderInfo at the limit (eof={peer.eof})")


@case("FT-04")
def test_ft_04_name_len_over_limit(leader_sut: Sut, judge: Judge) -> None:
    """FT-04: send name_len = 2049; the node must close the connection."""
    with Peer(leader_sut.message) as peer:
        # Header only: a node that does not check name_len waits for the name.
        peer.send(u64(8 + 2049 + 10) + u64(2049))
        _must_close(judge, peer, "name_len 2049")


@case("FT-06")
def test_ft_06_unregistered_name(leader_sut: Sut, judge: Judge) -> None:
    """FT-06: send the unregistered name `Bogus`; the node must close only that
    connection and serve a new valid connection normally."""
    payload = craft.body(craft.fields_of(watcher_info("ft-06")))
    with Peer(leader_sut.message) as bystander, Peer(leader_sut.message) as peer:
        peer.send(craft.frame("Bogus", payload))
        fate = peer.fate()
        bystander.send_msg(watcher_info("ft-06-bystander"))
        other_ok = bystander.expect(wire.LeaderInfo) is not None
        new_ok = serves_new_connection(leader_sut.message, "ft-06-after")
        judge.observe(fate=fate.value, open_connection_served=other_ok, new_connection=new_ok)
        if fate is Fate.CLOSED and other_ok and new_ok:
            judge.conclude(Outcome.STRICT, "closed only the Bogus connection; others served")
        else:
            judge.conclude(
                Outcome.OTHER,
                f"Bogus connection {fate.value}; other connection served={other_ok}, "
                f"new connection served={new_ok}",
            )


@case("FT-07")
def test_ft_07_wrong_case_name(leader_sut: Sut, judge: Judge) -> None:
    """FT-07: send name `vote` (wrong case) with a valid Vote payload; the node
    must close the connection."""
    vote = wire.Vote(
        round=1, status=1, epoch=0, cnd_id="x", cnd_logged_txn_id=0,
        cnd_committed_txn_id=0, solicit=False,
    )  # fmt: skip
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("vote", wire.encode_body(vote)))
        _must_close(judge, peer, "the name 'vote'")


@case("FT-08")
def test_ft_08_total_len_below_header(leader_sut: Sut, judge: Judge) -> None:
    """FT-08: send total_len = 4 with name_len = 4 and name `Vote` (total_len
    below 8+name_len); the node must close the connection. [Go: closes after a
    recovered panic]"""
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("Vote", b"", total_len=4, name_len=4))
        _must_close(judge, peer, "total_len 4 < 8 + name_len")


@case(
    "FT-10",
    go=Verdict.NON_STRICT,
    lenient_allowed=True,
    go_note="docs/spec-findings.md: gometa accepts a missing required field",
)
def test_ft_10_missing_required_field(leader_sut: Sut, judge: Judge) -> None:
    """FT-10: send FollowerInfo without field 4 (voting); the node must close the
    connection."""
    fields = [f for f in craft.fields_of(watcher_info("ft-10")) if f.number != 4]
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("FollowerInfo", craft.body(fields)))
        _strict_or_lenient(judge, peer, "FollowerInfo without field 4")


@case(
    "FT-11",
    go=Verdict.NON_STRICT,
    lenient_allowed=True,
    go_note="docs/spec-findings.md: a wrong wire type becomes unknown; the field reads as 0",
)
def test_ft_11_wrong_wire_type(leader_sut: Sut, judge: Judge) -> None:
    """FT-11: send FollowerInfo with field 2 encoded as length-delimited; the
    node must close the connection (wrong wire type becomes unknown, so a
    required field is missing)."""
    fields = [
        craft.RawField(2, craft.WIRETYPE_LEN, b"\x00") if f.number == 2 else f
        for f in craft.fields_of(watcher_info("ft-11"))
    ]
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("FollowerInfo", craft.body(fields)))
        _strict_or_lenient(judge, peer, "FollowerInfo with field 2 length-delimited")


def _strict_or_lenient(judge: Judge, peer: Peer, what: str) -> None:
    fate = peer.fate(REPLY_TIMEOUT)
    judge.observe(fate=fate.value)
    if fate is Fate.CLOSED:
        judge.conclude(Outcome.STRICT, f"closed the connection after {what}")
        return
    reply = peer.expect(wire.LeaderInfo) if fate is Fate.REPLIED else None
    if reply is not None:
        judge.conclude(Outcome.LENIENT, f"accepted {what} (LeaderInfo), as Go does")
    else:
        judge.conclude(Outcome.OTHER, f"neither closed nor answered {what} ({fate.value})")


@case("FT-12")
def test_ft_12_unknown_field(leader_sut: Sut, judge: Judge) -> None:
    """FT-12: send FollowerInfo with an extra unknown field 15 (varint); the node
    must accept it and carry on."""
    fields = [*craft.fields_of(watcher_info("ft-12")), craft.RawField(15, craft.WIRETYPE_VARINT, 7)]
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("FollowerInfo", craft.body(fields)))
        _accepts(judge, peer, "FollowerInfo with unknown field 15")


@case("FT-13")
def test_ft_13_version_ignored(leader_sut: Sut, judge: Judge) -> None:
    """FT-13: send FollowerInfo with version = 99; the node must accept it
    (version is ignored)."""
    with Peer(leader_sut.message) as peer:
        peer.send_msg(watcher_info("ft-13", version=99))
        _accepts(judge, peer, "FollowerInfo version 99")


@case("FT-16")
def test_ft_16_invalid_utf8_fid(leader_sut: Sut, judge: Judge) -> None:
    """FT-16: send FollowerInfo with an invalid-UTF-8 fid; the node must accept it
    and echo the bytes unchanged in later Proposals.

    Checked here: acceptance, and that discovery carries on past LeaderInfo
    (EpochAck → StreamBegin). The Proposal echo is not checked yet."""
    fields = [
        craft.RawField(3, craft.WIRETYPE_LEN, b"ft-16-\xff\xfe\xc3") if f.number == 3 else f
        for f in craft.fields_of(watcher_info("x"))
    ]
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("FollowerInfo", craft.body(fields)))
        info = peer.expect(wire.LeaderInfo)
        begin = None
        if info is not None:
            assert isinstance(info.message, wire.LeaderInfo)
            peer.send_msg(wire.EpochAck(last_logged_txid=0, current_epoch=0))
            begin = peer.expect(wire.LogEntry)
        judge.observe(leader_info=info is not None, stream_begin=begin is not None)
        if info is not None and begin is not None:
            judge.conclude(Outcome.STRICT, "accepted the fid and carried on to the sync stream")
        else:
            judge.conclude(
                Outcome.OTHER,
                f"LeaderInfo={info is not None}, StreamBegin={begin is not None}, eof={peer.eof}",
            )


@case("FT-17")
def test_ft_17_two_frames_one_segment(leader_sut: Sut, judge: Judge) -> None:
    """FT-17: send two complete frames in one TCP segment; the node must process
    both, in order."""
    with Peer(leader_sut.message) as peer:
        peer.send_msg(watcher_info("ft-17"), wire.EpochAck(last_logged_txid=0, current_epoch=0))
        info = peer.expect(wire.LeaderInfo)
        begin = peer.expect(wire.LogEntry) if info is not None else None
        judge.observe(leader_info=info is not None, stream_begin=begin is not None)
        if info is not None and begin is not None:
            judge.conclude(Outcome.STRICT, "FollowerInfo and EpochAck both processed, in order")
        else:
            judge.conclude(
                Outcome.OTHER,
                f"LeaderInfo={info is not None}, StreamBegin={begin is not None}, eof={peer.eof}",
            )


@case("FT-19")
def test_ft_19_close_mid_frame(leader_sut: Sut, judge: Judge) -> None:
    """FT-19: close the connection 10 bytes into a frame; the node must drop that
    connection and leave the others unaffected."""
    with Peer(leader_sut.message) as other:
        other.send_msg(watcher_info("ft-19-other"))
        before = other.expect(wire.LeaderInfo) is not None
        with Peer(leader_sut.message) as cut:
            cut.send(wire.encode(watcher_info("ft-19-cut"))[:10])
        other.send_msg(wire.EpochAck(last_logged_txid=0, current_epoch=0))
        after = other.expect(wire.LogEntry) is not None
        new_ok = serves_new_connection(leader_sut.message, "ft-19-new")
        judge.observe(other_before=before, other_after=after, new_connection=new_ok)
        if before and after and new_ok:
            judge.conclude(Outcome.STRICT, "other connections unaffected by the cut one")
        else:
            judge.conclude(
                Outcome.OTHER, f"before={before}, after={after}, new connection={new_ok}"
            )


def _must_close_or_spin(judge: Judge, peer: Peer, what: str) -> None:
    fate = peer.fate()
    judge.observe(fate=fate.value)
    if fate is Fate.CLOSED:
        judge.conclude(Outcome.STRICT, f"closed the connection after {what}")
    elif fate is Fate.OPEN:
        judge.conclude(Outcome.GO_DEVIATION, f"connection left open after {what} (reader spins)")
    else:
        judge.conclude(Outcome.OTHER, f"replied to {what}")


@case("FT-05", go=Verdict.KNOWN_GO_DEVIATION, go_note=SPIN_NOTE)
def test_ft_05_zero_name_len(leader_sut: Sut, judge: Judge) -> None:
    """FT-05: send name_len = 0; the node must close the connection."""
    payload = craft.body(craft.fields_of(watcher_info("ft-05")))
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame(b"", payload))
        _must_close_or_spin(judge, peer, "name_len 0")


@case("FT-09", go=Verdict.KNOWN_GO_DEVIATION, go_note=SPIN_NOTE)
def test_ft_09_empty_payload(leader_sut: Sut, judge: Judge) -> None:
    """FT-09: send a frame whose total_len is exactly 8+name_len (empty payload);
    the node must close the connection."""
    with Peer(leader_sut.message) as peer:
        peer.send(craft.frame("FollowerInfo", b""))
        _must_close_or_spin(judge, peer, "an empty payload")
