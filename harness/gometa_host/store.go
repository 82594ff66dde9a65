package main

// The member's persistent state: epochs, the two txid watermarks, the commit
// log and the key/value data. It outlives election runs, as the real
// server's repository does. With -data DIR every mutation is appended to a
// journal file before the call returns (one write(2) per record, so a
// kill -9 keeps it), and the journal is replayed at start.

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/couchbase/gometa/common"
)

type logRecord struct {
	Op        uint32
	Key       string
	Content   []byte
	Committed bool
}

type store struct {
	mu                sync.Mutex
	acceptedEpoch     uint32
	currentEpoch      uint32
	lastLoggedTxid    uint64
	lastCommittedTxid uint64
	log               map[uint64]*logRecord
	data              map[string][]byte
	journal           *os.File
}

// journalRecord is one line of the journal; K names the mutation.
type journalRecord struct {
	K       string `json:"k"`
	V       uint64 `json:"v,omitempty"`
	Op      uint32 `json:"op,omitempty"`
	Key     string `json:"key,omitempty"`
	Content string `json:"content,omitempty"`
}

var errKeyNotFound = errors.New("key not found")

func newStore() *store {
	return &store{log: map[uint64]*logRecord{}, data: map[string][]byte{}}
}

// openStore loads DIR/journal.jsonl if it exists and keeps appending to it.
// It reports whether the journal already held state.
func openStore(dir string) (*store, bool, error) {
	s := newStore()
	if dir == "" {
		return s, false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	path := filepath.Join(dir, "journal.jsonl")
	existed := false
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var r journalRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				// A torn final line from a kill mid-write: stop replaying there.
				break
			}
			s.apply(r)
			existed = true
		}
		f.Close()
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, false, err
	}
	s.journal = f
	return s, existed, nil
}

func (s *store) apply(r journalRecord) {
	switch r.K {
	case "accepted_epoch":
		s.acceptedEpoch = uint32(r.V)
	case "current_epoch":
		s.currentEpoch = uint32(r.V)
	case "last_logged":
		s.lastLoggedTxid = r.V
	case "last_committed":
		s.lastCommittedTxid = r.V
	case "log":
		c, _ := hex.DecodeString(r.Content)
		s.log[r.V] = &logRecord{Op: r.Op, Key: r.Key, Content: c}
	case "mark_committed":
		if rec, ok := s.log[r.V]; ok {
			rec.Committed = true
		}
	case "put":
		c, _ := hex.DecodeString(r.Content)
		s.data[r.Key] = c
	case "delete":
		delete(s.data, r.Key)
	}
}

// mutate applies r in memory and appends it to the journal; callers hold mu.
func (s *store) mutate(r journalRecord) error {
	s.apply(r)
	if s.journal == nil {
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.journal.Write(append(line, '\n'))
	return err
}

func (s *store) seed(st *initialState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.mutate(journalRecord{K: "accepted_epoch", V: uint64(st.AcceptedEpoch)}); err != nil {
		return err
	}
	if err := s.mutate(journalRecord{K: "current_epoch", V: uint64(st.CurrentEpoch)}); err != nil {
		return err
	}
	var logged, committed uint64
	for _, e := range st.Log {
		c, err := e.contentBytes()
		if err != nil {
			return fmt.Errorf("state log txid %d: %w", e.Txid, err)
		}
		if err := s.mutate(journalRecord{K: "log", V: e.Txid, Op: e.OpCode, Key: e.Key,
			Content: hex.EncodeToString(c)}); err != nil {
			return err
		}
		transactional := common.IsTransactionalOpCode(common.OpCode(e.OpCode))
		if transactional && e.Txid > logged {
			logged = e.Txid
		}
		if e.Committed {
			if err := s.applyOp(e.OpCode, e.Key, c); err != nil && transactional {
				return err
			}
			s.mutate(journalRecord{K: "mark_committed", V: e.Txid})
			if transactional && e.Txid > committed {
				committed = e.Txid
			}
		}
	}
	for k, v := range st.Data {
		s.mutate(journalRecord{K: "put", Key: k, Content: hex.EncodeToString([]byte(v))})
	}
	if st.LastLoggedTxid != nil {
		logged = *st.LastLoggedTxid
	}
	if st.LastCommittedTxid != nil {
		committed = *st.LastCommittedTxid
	}
	if err := s.mutate(journalRecord{K: "last_logged", V: logged}); err != nil {
		return err
	}
	return s.mutate(journalRecord{K: "last_committed", V: committed})
}

// applyOp changes the data as the real server's persistChange does: Add and
// Set put, Delete deletes, anything else is an error. Callers hold mu.
func (s *store) applyOp(op uint32, key string, content []byte) error {
	switch common.OpCode(op) {
	case common.OPCODE_ADD, common.OPCODE_SET:
		return s.mutate(journalRecord{K: "put", Key: key, Content: hex.EncodeToString(content)})
	case common.OPCODE_DELETE:
		return s.mutate(journalRecord{K: "delete", Key: key})
	}
	return common.NewError(common.PROTOCOL_ERROR, fmt.Sprintf("ServerAction.persistChange() : Unknown op code %d", op))
}

func (s *store) get(key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	if !ok {
		return nil, errKeyNotFound
	}
	return append([]byte(nil), v...), nil
}

// entryDump is the JSON form of one log record in a state dump.
type entryDump struct {
	Txid       uint64 `json:"txid"`
	OpCode     uint32 `json:"op_code"`
	Key        string `json:"key"`
	ContentHex string `json:"content_hex"`
	Committed  bool   `json:"committed"`
}

// dump returns the whole state for a "state" event or the /state page.
func (s *store) dump() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	txids := make([]uint64, 0, len(s.log))
	for t := range s.log {
		txids = append(txids, t)
	}
	sort.Slice(txids, func(i, j int) bool { return txids[i] < txids[j] })
	entries := make([]entryDump, 0, len(txids))
	for _, t := range txids {
		r := s.log[t]
		entries = append(entries, entryDump{t, r.Op, r.Key, hex.EncodeToString(r.Content), r.Committed})
	}
	data := make(map[string]string, len(s.data))
	for k, v := range s.data {
		data[k] = hex.EncodeToString(v)
	}
	return map[string]any{
		"accepted_epoch":      s.acceptedEpoch,
		"current_epoch":       s.currentEpoch,
		"last_logged_txid":    s.lastLoggedTxid,
		"last_committed_txid": s.lastCommittedTxid,
		"log":                 entries,
		"data_hex":            data,
	}
}
