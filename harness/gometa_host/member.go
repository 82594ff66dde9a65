package main

// The two deployment shapes (spec §0): the standalone ensemble member, which
// loops election -> lead or follow -> cleanup like server/server.go, and the
// embedded single leader, which loops RunLeaderServerWithCustomHandler like
// server/embeddedServer.go.

import (
	"errors"
	"time"

	"github.com/couchbase/gometa/common"
	"github.com/couchbase/gometa/protocol"
)

func (m *member) beginRun() int {
	m.mu.Lock()
	m.runNo++
	m.run = newRunState()
	m.site = nil
	m.txn = common.NewTxnState()
	n := m.runNo
	m.mu.Unlock()
	logged, _ := m.GetLastLoggedTxid()
	m.txn.InitCurrentTxnid(logged)
	return n
}

func (m *member) isDone() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.done
}

// runStandalone repeats runs until terminate; it never returns early.
func (m *member) runStandalone(killch chan bool) {
	for !m.isDone() {
		pause := m.runOnce(killch)
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

func (m *member) runOnce(killch chan bool) (pause time.Duration) {
	run := m.beginRun()
	m.setStatus(protocol.ELECTING)
	var listener *common.PeerListener
	defer func() {
		if r := recover(); r != nil {
			events.emit("error", map[string]any{"level": "panic", "msg": panicText(r), "panic": true})
		}
		if listener != nil {
			listener.Close()
		}
		m.mu.Lock()
		site := m.site
		m.mu.Unlock()
		if site != nil {
			site.Close()
		}
		m.endRun()
	}()

	// Listen before the election: a follower may dial before this node
	// learns that it won.
	listener, err := common.StartPeerListener2(m.cfg.hostTCP, nil)
	if err != nil {
		events.emit("run_end", map[string]any{"run": run, "error": "Fail to start PeerListener: " + err.Error()})
		return 200 * time.Millisecond
	}
	site, err := protocol.CreateElectionSite(m.cfg.hostUDP, m.cfg.peerUDP, m.factory, m, false)
	if err != nil {
		events.emit("run_end", map[string]any{"run": run, "error": err.Error()})
		return 100 * time.Millisecond
	}
	m.mu.Lock()
	m.site = site
	m.mu.Unlock()
	start := time.Now()
	resultCh := site.StartElection()
	if resultCh == nil {
		events.emit("run_end", map[string]any{"run": run, "error": "Election Site is in progress or is closed."})
		return 100 * time.Millisecond
	}
	winner, ok := <-resultCh
	if !ok {
		events.emit("election_failed", map[string]any{"run": run})
		events.emit("run_end", map[string]any{"run": run, "error": "Election Fails"})
		return 100 * time.Millisecond
	}
	electMs := float64(time.Since(start).Microseconds()) / 1000
	stop := make(chan struct{})
	defer close(stop)
	go watchSite(site, run, stop)

	if winner == m.cfg.hostUDP {
		events.emit("winner", map[string]any{"run": run, "winner": winner, "leader": m.cfg.hostTCP, "elect_ms": electMs})
		m.setStatus(protocol.LEADING)
		err = protocol.RunLeaderServer(m.cfg.hostTCP, listener, m, m, m.factory, killch)
	} else {
		idx := -1
		for i, p := range m.cfg.peerUDP {
			if p == winner {
				idx = i
			}
		}
		if idx < 0 {
			events.emit("run_end", map[string]any{"run": run, "error": "winner " + winner + " is not a peer"})
			return 0
		}
		events.emit("winner", map[string]any{"run": run, "winner": winner, "leader": m.cfg.peerTCP[idx], "elect_ms": electMs})
		m.setStatus(protocol.FOLLOWING)
		err = protocol.RunFollowerServer(m.cfg.hostTCP, m.cfg.peerTCP[idx], m, m, m.factory, killch)
	}
	rec := map[string]any{"run": run, "error": nil}
	if err != nil {
		rec["error"] = err.Error()
	}
	events.emit("run_end", rec)
	return 0
}

// watchSite reports when the election site closes while the node leads or
// follows: the node then silently stops answering votes and solicits until
// its next run (spec W41, W1, W2). Polling IsClosed is the only way to see it.
func watchSite(site *protocol.ElectionSite, run int, stop <-chan struct{}) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if site.IsClosed() {
				events.emit("election_site_closed", map[string]any{"run": run})
				return
			}
		}
	}
}

// runEmbedded is the embedded shape: always LEADING, ensemble size 1, no
// election site, a 200 ms pause between leader runs.
func (m *member) runEmbedded(killch chan bool) {
	listener, err := common.StartPeerListener2(m.cfg.hostTCP, nil)
	if err != nil {
		events.emit("error", map[string]any{"level": "fatal", "msg": "Fail to start PeerListener: " + err.Error()})
		return
	}
	defer listener.Close()
	resetCh := make(chan bool, 1)
	for !m.isDone() {
		run := m.beginRun()
		m.setStatus(protocol.LEADING)
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = errors.New(panicText(r))
				}
			}()
			return protocol.RunLeaderServerWithCustomHandler(m.cfg.hostTCP, listener, m, m, m.factory,
				nil, killch, resetCh)
		}()
		m.endRun()
		rec := map[string]any{"run": run, "error": nil}
		if err != nil {
			rec["error"] = err.Error()
		}
		events.emit("run_end", rec)
		if !m.isDone() {
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// terminate closes the election site and kills the current role, as
// server.Terminate does.
func (m *member) terminate(killch chan bool) {
	m.mu.Lock()
	m.done = true
	site := m.site
	m.mu.Unlock()
	if site != nil {
		site.Close()
	}
	select {
	case killch <- true:
	default:
	}
}
