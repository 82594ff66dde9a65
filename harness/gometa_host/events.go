package main

// One JSON object per line on stdout: the contract between this host and the
// Python harness. Every line carries "ts" (Unix seconds) and "event".

import (
	"bufio"
	"encoding/json"
	"os"
	"sync"
	"time"
)

type emitter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

var events = &emitter{w: bufio.NewWriter(os.Stdout)}

// emit writes one event line and flushes it at once, so a reader never waits
// on a buffer and a kill -9 loses nothing already reported.
func (e *emitter) emit(event string, fields map[string]any) {
	rec := make(map[string]any, len(fields)+2)
	for k, v := range fields {
		rec[k] = v
	}
	rec["ts"] = float64(time.Now().UnixNano()) / 1e9
	rec["event"] = event
	line, err := json.Marshal(rec)
	if err != nil {
		line = []byte(`{"event":"emit_error"}`)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.w.Write(line)
	e.w.WriteByte('\n')
	e.w.Flush()
}
