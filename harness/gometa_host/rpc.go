package main

// The client path of the standalone server (spec §9.2): Go net/rpc over
// HTTP, service RequestReceiver, method NewRequest. It is opened once per
// process rather than once per run (see README). The same HTTP server also
// answers GET /gometa-host/state with the member's full state as JSON.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/rpc"
	"os"
	"strings"

	"github.com/couchbase/gometa/common"
)

// Request and Reply keep the real server's field names: gob matches by name.
type Request struct {
	OpCode string
	Key    string
	Value  []byte
}

type Reply struct {
	Result []byte
}

type RequestReceiver struct{ m *member }

func (r *RequestReceiver) NewRequest(req *Request, reply **Reply) error {
	if r.m.isDone() {
		return common.NewError(common.SERVER_ERROR, "Server is terminated. Cannot process new request.")
	}
	op := common.GetOpCode(req.OpCode)
	switch op {
	case common.OPCODE_GET:
		v, err := r.m.store.get(req.Key)
		if err != nil {
			return err
		}
		*reply = &Reply{Result: v}
		return nil
	case common.OPCODE_ADD, common.OPCODE_SET, common.OPCODE_DELETE, common.OPCODE_BROADCAST:
		err := r.m.submit(op, req.Key, req.Value)
		*reply = &Reply{Result: nil}
		return err
	}
	return common.NewError(common.CLIENT_ERROR, fmt.Sprintf("Invalid Op code %s", req.OpCode))
}

func (m *member) stateDump() map[string]any {
	st := m.store.dump()
	m.mu.Lock()
	st["run"] = m.runNo
	m.mu.Unlock()
	st["status"] = statusName(m.GetStatus())
	st["election_addr"] = m.cfg.hostUDP
	st["message_addr"] = m.cfg.hostTCP
	st["request_addr"] = m.cfg.hostRequest
	st["embedded"] = m.embedded
	return st
}

func serveRequests(m *member) error {
	srv := rpc.NewServer()
	if err := srv.Register(&RequestReceiver{m: m}); err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(rpc.DefaultRPCPath, srv)
	mux.HandleFunc("/gometa-host/state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(m.stateDump())
	})
	li, err := net.Listen("tcp", m.cfg.hostRequest)
	if err != nil {
		return err
	}
	go http.Serve(li, mux)
	return nil
}

// runClient is the reference client: one call, result on stdout, error on
// stderr with exit status 1.
func runClient(addr string, args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gometa-host -client ADDR set|add|get|delete KEY [VALUE]")
		return 2
	}
	op := args[0]
	switch strings.ToLower(op) {
	case "set", "add", "get", "delete":
		op = strings.ToUpper(op[:1]) + strings.ToLower(op[1:])
	}
	req := &Request{OpCode: op, Key: args[1]}
	if len(args) > 2 {
		req.Value = []byte(args[2])
	}
	c, err := rpc.DialHTTP("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Close()
	var reply *Reply
	if err := c.Call("RequestReceiver.NewRequest", req, &reply); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if op == "Get" {
		if reply != nil {
			os.Stdout.Write(reply.Result)
		}
		os.Stdout.WriteString("\n")
	} else {
		fmt.Println("ok")
	}
	return 0
}
