package main

// gometa's own config format (spec §9.3): {"Host": {...}, "Peer": [...]},
// keys matched case-insensitively by encoding/json, every address resolved
// to a canonical ip:port string because gometa compares ids byte for byte.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
)

type addrSet struct {
	ElectionAddr string
	MessageAddr  string
	RequestAddr  string
}

type fileConfig struct {
	Host addrSet
	Peer []addrSet
}

// memberConfig is the resolved form the run loop uses.
type memberConfig struct {
	hostUDP, hostTCP, hostRequest string
	peerUDP, peerTCP              []string
}

func resolveUDP(a string) (string, error) {
	ua, err := net.ResolveUDPAddr("udp", a)
	if err != nil {
		return "", err
	}
	return ua.String(), nil
}

func resolveTCP(a string) (string, error) {
	ta, err := net.ResolveTCPAddr("tcp", a)
	if err != nil {
		return "", err
	}
	return ta.String(), nil
}

func loadConfig(path string) (*memberConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var fc fileConfig
	if err := json.Unmarshal(raw, &fc); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	mc := &memberConfig{}
	if mc.hostUDP, err = resolveUDP(fc.Host.ElectionAddr); err != nil {
		return nil, fmt.Errorf("Host.ElectionAddr: %w", err)
	}
	if mc.hostTCP, err = resolveTCP(fc.Host.MessageAddr); err != nil {
		return nil, fmt.Errorf("Host.MessageAddr: %w", err)
	}
	if fc.Host.RequestAddr != "" {
		if mc.hostRequest, err = resolveTCP(fc.Host.RequestAddr); err != nil {
			return nil, fmt.Errorf("Host.RequestAddr: %w", err)
		}
	}
	for i, p := range fc.Peer {
		u, err := resolveUDP(p.ElectionAddr)
		if err != nil {
			return nil, fmt.Errorf("Peer[%d].ElectionAddr: %w", i, err)
		}
		t, err := resolveTCP(p.MessageAddr)
		if err != nil {
			return nil, fmt.Errorf("Peer[%d].MessageAddr: %w", i, err)
		}
		mc.peerUDP = append(mc.peerUDP, u)
		mc.peerTCP = append(mc.peerTCP, t)
	}
	return mc, nil
}

// initialState is the optional -state file: the persisted state a member
// starts from, so conformance cases can begin anywhere.
type initialState struct {
	AcceptedEpoch     uint32            `json:"accepted_epoch"`
	CurrentEpoch      uint32            `json:"current_epoch"`
	LastLoggedTxid    *uint64           `json:"last_logged_txid"`
	LastCommittedTxid *uint64           `json:"last_committed_txid"`
	Log               []initialEntry    `json:"log"`
	Data              map[string]string `json:"data"`
}

type initialEntry struct {
	Txid       uint64  `json:"txid"`
	OpCode     uint32  `json:"op_code"`
	Key        string  `json:"key"`
	Content    string  `json:"content"`
	ContentHex *string `json:"content_hex"`
	Committed  bool    `json:"committed"`
}

func loadInitialState(path string) (*initialState, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st initialState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	return &st, nil
}

func (e initialEntry) contentBytes() ([]byte, error) {
	if e.ContentHex != nil {
		return hex.DecodeString(*e.ContentHex)
	}
	return []byte(e.Content), nil
}
