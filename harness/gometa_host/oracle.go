package main

// -oracle: a decode/encode oracle for differential tests of the Python codec.
// Each stdin line is the hex of one whole TCP frame; each stdout line is the
// verdict of gometa's own code on it. The header checks replay the TCP
// receive path (PeerPipe.validateHeader and readBytes) on a buffer that is
// already complete; the body goes through common.UnMarshall, and the decoded
// packet is re-marshalled with common.Marshall.

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"reflect"
	"strings"

	"github.com/couchbase/gometa/common"
)

const (
	maxFrameSize = 20 * 1024 * 1024
	maxNameLen   = 2048
)

// snakeNames maps the generated Go field names to the names Python uses.
var snakeNames = map[string]string{
	"Version": "version", "Txnid": "txnid", "Fid": "fid", "ReqId": "req_id",
	"OpCode": "op_code", "Key": "key", "Content": "content", "Round": "round",
	"Status": "status", "Epoch": "epoch", "CndId": "cnd_id",
	"CndLoggedTxnId": "cnd_logged_txn_id", "CndCommittedTxnId": "cnd_committed_txn_id",
	"Solicit": "solicit", "AcceptedEpoch": "accepted_epoch", "Voting": "voting",
	"LastLoggedTxid": "last_logged_txid", "CurrentEpoch": "current_epoch", "Error": "error",
}

type oracleResult struct {
	OK        bool           `json:"ok"`
	Name      string         `json:"name,omitempty"`
	Fields    map[string]any `json:"fields,omitempty"`
	Reencoded *string        `json:"reencoded,omitempty"`
	Error     string         `json:"error,omitempty"`
}

func fail(format string, a ...any) oracleResult {
	return oracleResult{OK: false, Error: fmt.Sprintf(format, a...)}
}

// checkHeader applies the TCP path's checks in its order and returns the
// bytes UnMarshall receives (everything after total_len).
func checkHeader(frame []byte) ([]byte, *oracleResult) {
	if len(frame) < 8 {
		r := fail("incomplete frame: %d bytes, total_len needs 8", len(frame))
		return nil, &r
	}
	size := binary.BigEndian.Uint64(frame[:8])
	if size > maxFrameSize {
		r := fail("Validate packet header: Invalid size %v", size)
		return nil, &r
	}
	if len(frame) < 16 {
		r := fail("incomplete frame: %d bytes, name_len needs 16", len(frame))
		return nil, &r
	}
	tyLen := binary.BigEndian.Uint64(frame[8:16])
	if tyLen > maxNameLen {
		r := fail("Validate packet header: Invalid type length %v", tyLen)
		return nil, &r
	}
	if tyLen == 0 {
		// HEAD's text; the pinned version would spin on this read (README).
		r := fail("PeerPipe.readBytes() : Invalid remaining size 0")
		return nil, &r
	}
	if uint64(len(frame)) < 16+tyLen {
		r := fail("incomplete frame: %d bytes, name needs %d", len(frame), 16+tyLen)
		return nil, &r
	}
	if !common.IsValidType(string(frame[16 : 16+tyLen])) {
		r := fail("Validate packet header: Unrecognize packet type")
		return nil, &r
	}
	if size < 8+tyLen {
		// total_len - 8 - name_len wraps around; Go's make() then panics.
		r := fail("runtime error: makeslice: len out of range")
		return nil, &r
	}
	if size == 8+tyLen {
		r := fail("PeerPipe.readBytes() : Invalid remaining size 0")
		return nil, &r
	}
	if uint64(len(frame)-8) < size {
		r := fail("incomplete frame: %d bytes, total_len says %d", len(frame), size+8)
		return nil, &r
	}
	if uint64(len(frame)-8) > size {
		r := fail("trailing bytes: %d bytes after the frame", uint64(len(frame)-8)-size)
		return nil, &r
	}
	return frame[8:], nil
}

func fieldsOf(p common.Packet) map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(p).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || strings.HasPrefix(f.Name, "XXX_") {
			continue
		}
		name, ok := snakeNames[f.Name]
		if !ok {
			name = f.Name
		}
		out[name] = fieldValue(v.Field(i))
	}
	return out
}

// fieldValue renders a proto2 field: absent (nil) as null, integers as
// numbers, bools as bools, strings and bytes as lowercase hex.
func fieldValue(fv reflect.Value) any {
	if fv.Kind() == reflect.Ptr {
		if fv.IsNil() {
			return nil
		}
		fv = fv.Elem()
	}
	switch fv.Kind() {
	case reflect.Uint32, reflect.Uint64:
		return fv.Uint()
	case reflect.Int32, reflect.Int64:
		return fv.Int()
	case reflect.Bool:
		return fv.Bool()
	case reflect.String:
		return hex.EncodeToString([]byte(fv.String()))
	case reflect.Slice:
		if fv.IsNil() {
			return nil
		}
		return hex.EncodeToString(fv.Bytes())
	}
	return fmt.Sprint(fv.Interface())
}

func oracleDecode(line string) (res oracleResult) {
	defer func() {
		if r := recover(); r != nil {
			res = fail("panic: %s", panicText(r))
		}
	}()
	frame, err := hex.DecodeString(strings.TrimSpace(line))
	if err != nil {
		return fail("hex: %v", err)
	}
	buf, bad := checkHeader(frame)
	if bad != nil {
		return *bad
	}
	packet, err := common.UnMarshall(buf)
	if err != nil {
		return fail("%s", err.Error())
	}
	res = oracleResult{OK: true, Name: packet.Name(), Fields: fieldsOf(packet)}
	enc, err := common.Marshall(packet)
	if err != nil {
		res.Error = "re-encode: " + err.Error()
		return res
	}
	h := hex.EncodeToString(enc)
	res.Reencoded = &h
	return res
}

// runOracle answers line by line; output is flushed whenever no more input
// is already buffered, so both batch and lock-step callers are fast.
func runOracle(in io.Reader, out io.Writer) error {
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for {
		line, err := r.ReadString('\n')
		if len(strings.TrimSpace(line)) > 0 {
			if e := enc.Encode(oracleDecode(line)); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if r.Buffered() == 0 {
			if e := w.Flush(); e != nil {
				return e
			}
		}
	}
}

func panicText(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	return fmt.Sprint(r)
}
