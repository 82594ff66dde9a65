package main

// The member implements gometa's protocol.ActionHandler and
// protocol.RequestMgr itself, re-creating what action.ServerAction and
// server.Server do (go-host-notes §3), because those packages pull in the
// forestdb/magma repository. Persistent state lives in the store; the
// request queue and the pending/proposed maps belong to one run.

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/couchbase/gometa/common"
	"github.com/couchbase/gometa/message"
	"github.com/couchbase/gometa/protocol"
)

type quorum struct{ size uint64 }

// HasQuorum is the standalone server's strict majority; size 1 (embedded)
// degenerates to count == 1.
func (q quorum) HasQuorum(count int) bool {
	if q.size == 1 {
		return count == 1
	}
	return uint64(count) > q.size/2
}

// runState is created afresh for every election run.
type runState struct {
	incomings chan *protocol.RequestHandle
	pendings  map[uint64]*protocol.RequestHandle
	proposals map[common.Txnid]*protocol.RequestHandle
	closed    bool
}

type member struct {
	cfg      *memberConfig
	store    *store
	embedded bool
	factory  *message.ConcreteMsgFactory

	status atomic.Int32 // protocol.PeerStatus; read by the election loop

	mu    sync.Mutex // guards the fields below
	run   *runState
	site  *protocol.ElectionSite
	txn   *common.TxnState
	runNo int
	done  bool
}

const terminateReason = "Terminate Request due to server termination"

func newRunState() *runState {
	return &runState{
		incomings: make(chan *protocol.RequestHandle, 10000),
		pendings:  map[uint64]*protocol.RequestHandle{},
		proposals: map[common.Txnid]*protocol.RequestHandle{},
	}
}

func (m *member) setStatus(st protocol.PeerStatus) {
	m.status.Store(int32(st))
	m.mu.Lock()
	run := m.runNo
	m.mu.Unlock()
	events.emit("status", map[string]any{"status": statusName(st), "run": run})
}

func statusName(st protocol.PeerStatus) string {
	switch st {
	case protocol.ELECTING:
		return "ELECTING"
	case protocol.LEADING:
		return "LEADING"
	case protocol.FOLLOWING:
		return "FOLLOWING"
	case protocol.WATCHING:
		return "WATCHING"
	}
	return "UNKNOWN"
}

// ---- protocol.ActionHandler ----

func (m *member) GetEnsembleSize() uint64 {
	if m.embedded {
		return 1
	}
	return uint64(len(m.cfg.peerUDP)) + 1
}

func (m *member) GetQuorumVerifier() protocol.QuorumVerifier {
	return quorum{m.GetEnsembleSize()}
}

func (m *member) GetStatus() protocol.PeerStatus { return protocol.PeerStatus(m.status.Load()) }

func (m *member) GetLastLoggedTxid() (common.Txnid, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return common.Txnid(m.store.lastLoggedTxid), nil
}

func (m *member) GetLastCommittedTxid() (common.Txnid, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return common.Txnid(m.store.lastCommittedTxid), nil
}

func (m *member) GetCurrentEpoch() (uint32, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.store.currentEpoch, nil
}

func (m *member) GetAcceptedEpoch() (uint32, error) {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	return m.store.acceptedEpoch, nil
}

func (m *member) NotifyNewAcceptedEpoch(e uint32) error {
	m.store.mu.Lock()
	if m.store.acceptedEpoch >= e {
		m.store.mu.Unlock()
		return nil
	}
	err := m.store.mutate(journalRecord{K: "accepted_epoch", V: uint64(e)})
	m.store.mu.Unlock()
	if err == nil {
		events.emit("accepted_epoch", map[string]any{"epoch": e})
	}
	return err
}

func (m *member) NotifyNewCurrentEpoch(e uint32) error {
	m.store.mu.Lock()
	if m.store.currentEpoch >= e {
		m.store.mu.Unlock()
		return nil
	}
	err := m.store.mutate(journalRecord{K: "current_epoch", V: uint64(e)})
	m.store.mu.Unlock()
	if err != nil {
		return err
	}
	m.mu.Lock()
	site, txn := m.site, m.txn
	m.mu.Unlock()
	// The site exists only in the standalone shape, and only after its
	// election produced a winner; UpdateWinningEpoch needs that winner.
	if site != nil {
		site.UpdateWinningEpoch(e)
	}
	txn.SetEpoch(e)
	events.emit("current_epoch", map[string]any{"epoch": e})
	return nil
}

func (m *member) GetNextTxnId() common.Txnid {
	m.mu.Lock()
	txn := m.txn
	m.mu.Unlock()
	return txn.GetNextTxnId()
}

func (m *member) GetFollowerId() string { return m.cfg.hostTCP }

// appendLog records an entry and, for ops 1-4, moves LastLoggedTxid
// (unconditionally, as the real server does). Callers hold store.mu.
func (m *member) appendLog(txid uint64, op uint32, key string, content []byte) error {
	if err := m.store.mutate(journalRecord{K: "log", V: txid, Op: op, Key: key,
		Content: hexString(content)}); err != nil {
		return err
	}
	if common.IsTransactionalOpCode(common.OpCode(op)) {
		return m.store.mutate(journalRecord{K: "last_logged", V: txid})
	}
	return nil
}

func (m *member) LogProposal(p protocol.ProposalMsg) error {
	m.store.mu.Lock()
	err := m.appendLog(p.GetTxnid(), p.GetOpCode(), p.GetKey(), p.GetContent())
	m.store.mu.Unlock()
	if err != nil {
		return err
	}
	events.emit("logged", map[string]any{"txid": p.GetTxnid(), "op_code": p.GetOpCode(), "key": p.GetKey()})
	if p.GetFid() == m.GetFollowerId() {
		m.mu.Lock()
		if h, ok := m.run.pendings[p.GetReqId()]; ok {
			delete(m.run.pendings, p.GetReqId())
			m.run.proposals[common.Txnid(p.GetTxnid())] = h
		}
		m.mu.Unlock()
	}
	return nil
}

func (m *member) Commit(txid common.Txnid) error {
	m.store.mu.Lock()
	rec, ok := m.store.log[uint64(txid)]
	if !ok {
		m.store.mu.Unlock()
		return common.NewError(common.REPO_ERROR, "log entry not found")
	}
	if common.IsTransactionalOpCode(common.OpCode(rec.Op)) {
		if err := m.store.applyOp(rec.Op, rec.Key, rec.Content); err != nil {
			m.store.mu.Unlock()
			return err
		}
		if err := m.store.mutate(journalRecord{K: "last_committed", V: uint64(txid)}); err != nil {
			m.store.mu.Unlock()
			return err
		}
	}
	err := m.store.mutate(journalRecord{K: "mark_committed", V: uint64(txid)})
	m.store.mu.Unlock()
	if err != nil {
		return err
	}
	events.emit("committed", map[string]any{"txid": uint64(txid), "key": rec.Key})
	m.mu.Lock()
	h, found := m.run.proposals[txid]
	if found {
		delete(m.run.proposals, txid)
	}
	m.mu.Unlock()
	if found {
		wake(h, nil)
	}
	return nil
}

func (m *member) Abort(fid string, reqId uint64, err string) error {
	m.respond(fid, reqId, err)
	return nil
}

// Respond drops content, as the real server does.
func (m *member) Respond(fid string, reqId uint64, err string, content []byte) error {
	m.respond(fid, reqId, err)
	return nil
}

func (m *member) respond(fid string, reqId uint64, errText string) {
	if fid != m.GetFollowerId() {
		return
	}
	m.mu.Lock()
	h, ok := m.run.pendings[reqId]
	if ok {
		delete(m.run.pendings, reqId)
	}
	m.mu.Unlock()
	if ok {
		var err error
		if errText != "" {
			err = errors.New(errText)
		}
		wake(h, err)
	}
}

func (m *member) GetCommitedEntries(txid1, txid2 common.Txnid) (<-chan protocol.LogEntryMsg, <-chan error, chan<- bool, error) {
	// Snapshot in numeric txid order: a deliberate deviation from the real
	// server's byte order of decimal keys (spec W24), see README.
	m.store.mu.Lock()
	var txids []uint64
	for t := range m.store.log {
		if t > uint64(txid1) && (txid2 == 0 || t <= uint64(txid2)) {
			txids = append(txids, t)
		}
	}
	sortUint64(txids)
	msgs := make([]protocol.LogEntryMsg, 0, len(txids))
	for _, t := range txids {
		r := m.store.log[t]
		msgs = append(msgs, m.factory.CreateLogEntry(t, r.Op, r.Key, append([]byte(nil), r.Content...)))
	}
	m.store.mu.Unlock()

	logCh := make(chan protocol.LogEntryMsg, 100)
	errCh := make(chan error, 10)
	killCh := make(chan bool, 1) // the leader sends on it without a receiver
	go func() {
		defer close(errCh) // only after logCh: see go-host-notes §3.1
		defer close(logCh)
		for _, msg := range msgs {
			select {
			case logCh <- msg:
			case <-killCh:
				return
			}
		}
	}()
	return logCh, errCh, killCh, nil
}

func (m *member) LogAndCommit(txid common.Txnid, op uint32, key string, content []byte, toCommit bool) error {
	m.store.mu.Lock()
	defer m.store.mu.Unlock()
	if err := m.appendLog(uint64(txid), op, key, content); err != nil {
		return err
	}
	if !toCommit {
		return nil
	}
	if err := m.store.applyOp(op, key, content); err != nil {
		return err
	}
	if err := m.store.mutate(journalRecord{K: "last_committed", V: uint64(txid)}); err != nil {
		return err
	}
	return m.store.mutate(journalRecord{K: "mark_committed", V: uint64(txid)})
}

// ---- protocol.RequestMgr ----

func (m *member) GetRequestChannel() <-chan *protocol.RequestHandle {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.run.incomings
}

func (m *member) AddPendingRequest(h *protocol.RequestHandle) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.run.pendings[h.Request.GetReqId()] = h
}

func (m *member) CleanupOnError() {}

// ---- client requests ----

// submit queues a request on the current run and blocks until it commits,
// aborts or the run ends, as the real RPC front end does.
func (m *member) submit(op common.OpCode, key string, value []byte) error {
	if value == nil {
		value = []byte("")
	}
	id, err := common.NewUUID()
	if err != nil {
		return err
	}
	req := m.factory.CreateRequest(id, uint32(op), key, value)
	h := &protocol.RequestHandle{Request: req}
	h.CondVar = sync.NewCond(&h.Mutex)
	h.Mutex.Lock()
	defer h.Mutex.Unlock()
	m.mu.Lock()
	if m.done {
		m.mu.Unlock()
		return common.NewError(common.SERVER_ERROR, "Server is terminated. Cannot process new request.")
	}
	if m.run == nil || m.run.closed {
		m.mu.Unlock()
		return common.NewError(common.SERVER_ERROR, terminateReason)
	}
	m.run.incomings <- h
	m.mu.Unlock()
	h.CondVar.Wait()
	return h.Err
}

// endRun fails every request the run still holds, so no client hangs.
func (m *member) endRun() {
	m.mu.Lock()
	run := m.run
	run.closed = true
	var all []*protocol.RequestHandle
	for len(run.incomings) > 0 {
		all = append(all, <-run.incomings)
	}
	for _, h := range run.pendings {
		all = append(all, h)
	}
	for _, h := range run.proposals {
		all = append(all, h)
	}
	run.pendings = map[uint64]*protocol.RequestHandle{}
	run.proposals = map[common.Txnid]*protocol.RequestHandle{}
	m.mu.Unlock()
	for _, h := range all {
		wake(h, common.NewError(common.SERVER_ERROR, terminateReason))
	}
}

func wake(h *protocol.RequestHandle, err error) {
	h.CondVar.L.Lock()
	defer h.CondVar.L.Unlock()
	if err != nil {
		h.Err = err
	}
	h.CondVar.Signal()
}
