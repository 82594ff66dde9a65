package main

// The load generator behind `gmc bench cluster` and `gmc bench failover`:
//
//	gometa-host -load -addrs A,B,C [-clients N] [-duration D] [-rate R]
//	            [-value-size B] [-keys K] [-warmup W] [-timeout T]
//
// N concurrent clients, each with its own Go net/rpc connection (a call is
// synchronous, so N is the concurrency), send Set requests through
// RequestReceiver.NewRequest, the same client path as -client. Client i is
// pinned to member i mod len(addrs) and moves to the next address when its
// connection fails. -rate 0 is saturation (every client sends back to back);
// -rate R paces the clients on a shared schedule of R requests per second.
//
// stdin takes commands, one per line: "mark UNIX_TS" records a failover
// marker (the harness sends its wall-clock time right before kill -9), and
// "stop" (or EOF with -duration 0) ends the run. stdout gets JSON lines:
// {"event":"resolved",...} as soon as a marker sees its first commit, then
// one {"event":"result",...} with counts, latency percentiles, a log-spaced
// latency histogram, a 100 ms timeline and the load generator's own CPU time.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"net/rpc"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const timelineStep = 100 * time.Millisecond

type loadgenConfig struct {
	addrs     []string
	clients   int
	duration  time.Duration
	rate      float64
	valueSize int
	keys      int
	warmup    time.Duration
	timeout   time.Duration
}

// mark is one failover marker: the kill time and the first commit after it.
type mark struct {
	at          time.Time
	firstCommit time.Time // completion of the first success sent at or after `at`
	firstAny    time.Time // first successful completion after `at`, whenever it was sent
	errorsAfter int64
}

type loadState struct {
	cfg      loadgenConfig
	start    time.Time
	stopping atomic.Bool

	mu        sync.Mutex
	marks     []*mark
	open      atomic.Int32 // marks not yet resolved
	timeline  []tick
	latencies [][]int64 // per client, µs, successes after warmup
	out       *json.Encoder
	outMu     sync.Mutex
}

type tick struct{ ok, err int64 }

func runLoad(cfg loadgenConfig) int {
	if len(cfg.addrs) == 0 || cfg.clients < 1 {
		fmt.Fprintln(os.Stderr, "gometa-host -load: need -addrs and -clients >= 1")
		return 2
	}
	st := &loadState{cfg: cfg, out: json.NewEncoder(os.Stdout)}
	st.latencies = make([][]int64, cfg.clients)
	stopCh := make(chan struct{})
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { st.stopping.Store(true); close(stopCh) }) }

	go st.readCommands(stop)
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	st.start = time.Now()
	if cfg.duration > 0 {
		time.AfterFunc(cfg.duration, stop)
	}
	var wg sync.WaitGroup
	for i := 0; i < cfg.clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st.client(i, stopCh)
		}(i)
	}
	wg.Wait()
	wall := time.Since(st.start)
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := tvSeconds(ru1.Utime) + tvSeconds(ru1.Stime) - tvSeconds(ru0.Utime) - tvSeconds(ru0.Stime)
	st.report(wall, cpu)
	return 0
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

func (st *loadState) readCommands(stop func()) {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "stop":
			stop()
			return
		case "mark":
			at := time.Now()
			if len(fields) > 1 {
				if ts, err := strconv.ParseFloat(fields[1], 64); err == nil {
					sec, frac := math.Modf(ts)
					at = time.Unix(int64(sec), int64(frac*1e9))
				}
			}
			st.mu.Lock()
			st.marks = append(st.marks, &mark{at: at})
			st.mu.Unlock()
			st.open.Add(1)
		}
	}
	if st.cfg.duration == 0 {
		stop()
	}
}

// record books one finished request in the timeline and the markers.
func (st *loadState) record(sent, done time.Time, ok bool) {
	idx := int(done.Sub(st.start) / timelineStep)
	st.mu.Lock()
	for len(st.timeline) <= idx {
		st.timeline = append(st.timeline, tick{})
	}
	if ok {
		st.timeline[idx].ok++
	} else {
		st.timeline[idx].err++
	}
	var resolved []map[string]any
	if st.open.Load() > 0 {
		for i, m := range st.marks {
			if !m.firstCommit.IsZero() || done.Before(m.at) {
				continue
			}
			if !ok {
				m.errorsAfter++
				continue
			}
			if m.firstAny.IsZero() {
				m.firstAny = done
			}
			if !sent.Before(m.at) {
				m.firstCommit = done
				st.open.Add(-1)
				resolved = append(resolved, map[string]any{
					"event": "resolved", "mark": i, "at": unixSeconds(m.at),
					"first_commit_ms": msSince(m.at, m.firstCommit),
					"first_any_ms":    msSince(m.at, m.firstAny),
				})
			}
		}
	}
	st.mu.Unlock()
	for _, r := range resolved {
		st.emit(r)
	}
}

func (st *loadState) emit(v map[string]any) {
	st.outMu.Lock()
	st.out.Encode(v)
	st.outMu.Unlock()
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func msSince(from, to time.Time) float64 { return float64(to.Sub(from).Microseconds()) / 1000 }

func (st *loadState) client(i int, stopCh <-chan struct{}) {
	cfg := st.cfg
	rng := rand.New(rand.NewSource(int64(i) + 1))
	value := make([]byte, cfg.valueSize)
	rng.Read(value)
	addrIdx := i % len(cfg.addrs)
	var c *rpc.Client
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	var interval time.Duration
	if cfg.rate > 0 {
		interval = time.Duration(float64(cfg.clients) / cfg.rate * float64(time.Second))
	}
	// Stagger the clients' schedules so the offered load is smooth.
	next := st.start.Add(time.Duration(float64(interval) * float64(i) / float64(cfg.clients)))
	warmEnd := st.start.Add(cfg.warmup)
	lat := make([]int64, 0, 4096)
	defer func() { st.latencies[i] = lat }()
	req := &Request{OpCode: "Set"}
	for seq := 0; !st.stopping.Load(); seq++ {
		if interval > 0 {
			if d := time.Until(next); d > 0 {
				select {
				case <-stopCh:
					return
				case <-time.After(d):
				}
			}
			next = next.Add(interval)
		}
		if c == nil {
			var err error
			c, err = dialTimeout(cfg.addrs[addrIdx], cfg.timeout)
			if err != nil {
				now := time.Now()
				st.record(now, now, false)
				addrIdx = (addrIdx + 1) % len(cfg.addrs)
				sleepOrStop(5*time.Millisecond, stopCh)
				continue
			}
		}
		req.Key = fmt.Sprintf("c%d-%d", i, seq%cfg.keys)
		req.Value = value
		var reply *Reply
		sent := time.Now()
		call := c.Go("RequestReceiver.NewRequest", req, &reply, make(chan *rpc.Call, 1))
		var err error
		select {
		case <-call.Done:
			err = call.Error
		case <-time.After(cfg.timeout):
			err = fmt.Errorf("timeout after %s", cfg.timeout)
		case <-stopCh:
			return
		}
		done := time.Now()
		if err != nil {
			st.record(sent, done, false)
			if _, serverErr := err.(rpc.ServerError); !serverErr {
				// Transport failure or timeout: drop the connection, try the next member.
				c.Close()
				c = nil
				addrIdx = (addrIdx + 1) % len(cfg.addrs)
			}
			sleepOrStop(2*time.Millisecond, stopCh)
			if interval > 0 && time.Until(next) < -time.Second {
				next = time.Now()
			}
			continue
		}
		st.record(sent, done, true)
		if !sent.Before(warmEnd) {
			lat = append(lat, done.Sub(sent).Microseconds())
		}
	}
}

func dialTimeout(addr string, timeout time.Duration) (*rpc.Client, error) {
	type res struct {
		c   *rpc.Client
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := rpc.DialHTTP("tcp", addr)
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-time.After(timeout):
		go func() {
			if r := <-ch; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, fmt.Errorf("dial %s: timeout", addr)
	}
}

func sleepOrStop(d time.Duration, stopCh <-chan struct{}) {
	select {
	case <-stopCh:
	case <-time.After(d):
	}
}

// Histogram buckets: 20 per decade from 10 µs to 100 s, upper edges in µs.
func histogramEdges() []float64 {
	var edges []float64
	for e := 1.0; e <= 8.0; e += 0.05 {
		edges = append(edges, math.Pow(10, e))
	}
	return edges
}

func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	idx := int(math.Ceil(p*float64(len(sorted)))) - 1
	if idx < 0 {
		idx = 0
	}
	if idx >= len(sorted) {
		idx = len(sorted) - 1
	}
	return float64(sorted[idx]) / 1000
}

func (st *loadState) report(wall time.Duration, cpu float64) {
	var all []int64
	for _, l := range st.latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	st.mu.Lock()
	defer st.mu.Unlock()
	var ok, errs int64
	timeline := make([][2]int64, len(st.timeline))
	for i, t := range st.timeline {
		ok += t.ok
		errs += t.err
		timeline[i] = [2]int64{t.ok, t.err}
	}
	measured := wall - st.cfg.warmup
	if measured <= 0 {
		measured = wall
	}
	edges := histogramEdges()
	counts := make([]int64, len(edges))
	j := 0
	for _, v := range all {
		for j < len(edges)-1 && float64(v) > edges[j] {
			j++
		}
		counts[j]++
	}
	hist := make([][2]float64, 0, len(edges))
	for k, e := range edges {
		if counts[k] > 0 {
			hist = append(hist, [2]float64{e / 1000, float64(counts[k])})
		}
	}
	marks := make([]map[string]any, 0, len(st.marks))
	for _, m := range st.marks {
		rec := map[string]any{"at": unixSeconds(m.at), "offset_s": m.at.Sub(st.start).Seconds(),
			"errors_after": m.errorsAfter, "first_commit_ms": nil, "first_any_ms": nil}
		if !m.firstCommit.IsZero() {
			rec["first_commit_ms"] = msSince(m.at, m.firstCommit)
		}
		if !m.firstAny.IsZero() {
			rec["first_any_ms"] = msSince(m.at, m.firstAny)
		}
		marks = append(marks, rec)
	}
	var mean float64
	for _, v := range all {
		mean += float64(v)
	}
	if len(all) > 0 {
		mean = mean / float64(len(all)) / 1000
	}
	result := map[string]any{
		"event": "result", "start": unixSeconds(st.start), "wall_s": wall.Seconds(),
		"measured_s": measured.Seconds(), "clients": st.cfg.clients, "rate": st.cfg.rate,
		"ok": ok, "errors": errs, "measured_ok": len(all),
		"throughput": float64(len(all)) / measured.Seconds(),
		"p50_ms":     percentile(all, 0.50), "p90_ms": percentile(all, 0.90),
		"p99_ms": percentile(all, 0.99), "p999_ms": percentile(all, 0.999),
		"max_ms": percentile(all, 1), "mean_ms": mean,
		"histogram_ms": hist, "timeline_step_s": timelineStep.Seconds(), "timeline": timeline,
		"marks": marks, "cpu_s": cpu,
	}
	st.outMu.Lock()
	st.out.Encode(result)
	st.outMu.Unlock()
}
