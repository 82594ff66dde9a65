// Command gometa-host runs one genuine gometa ensemble member, built on
// gometa's own common, protocol and message packages, for the conformance
// harness. See README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/couchbase/gometa/log"
	"github.com/couchbase/gometa/message"
)

// gometaVersion is the pinned module version (keep in step with go.mod).
const gometaVersion = "v0.0.0-20220803182802-05cb6b2e299f"

func main() {
	configPath := flag.String("config", "", "gometa JSON config file (Host, Peer)")
	dataDir := flag.String("data", "", "directory for the persistent journal; in memory if empty")
	statePath := flag.String("state", "", "initial state JSON, applied when the store is fresh")
	embedded := flag.Bool("embedded", false, "run the embedded single-leader shape")
	oracle := flag.Bool("oracle", false, "decode/encode oracle: hex frames on stdin, JSON on stdout")
	client := flag.String("client", "", "reference RPC client: ADDR, then set|add|get|delete KEY [VALUE]")
	load := flag.Bool("load", false, "load generator: Set requests to -addrs (see loadgen.go)")
	loadAddrs := flag.String("addrs", "", "with -load: comma-separated RequestAddrs")
	loadClients := flag.Int("clients", 16, "with -load: concurrent net/rpc clients")
	loadDuration := flag.Duration("duration", 5*time.Second, "with -load: run time; 0 = until stdin says stop")
	loadRate := flag.Float64("rate", 0, "with -load: offered requests/s in total; 0 = saturation")
	loadValue := flag.Int("value-size", 64, "with -load: value bytes per Set")
	loadKeys := flag.Int("keys", 1000, "with -load: distinct keys per client")
	loadWarmup := flag.Duration("warmup", time.Second, "with -load: excluded from the latency statistics")
	loadTimeout := flag.Duration("timeout", 2*time.Second, "with -load: per-request timeout")
	logLevel := flag.String("log-level", envOr("GOMETA_HOST_LOG", "info"), "error|warn|info|debug|trace (stderr)")
	flag.Parse()

	log.Current = &hostLogger{level: parseLevel(*logLevel)}

	switch {
	case *oracle:
		if err := runOracle(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	case *load:
		var addrs []string
		for _, a := range strings.Split(*loadAddrs, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		os.Exit(runLoad(loadgenConfig{addrs: addrs, clients: *loadClients, duration: *loadDuration,
			rate: *loadRate, valueSize: *loadValue, keys: max(*loadKeys, 1), warmup: *loadWarmup,
			timeout: *loadTimeout}))
	case *client != "":
		os.Exit(runClient(*client, flag.Args()))
	case *configPath == "":
		fmt.Fprintln(os.Stderr, "gometa-host: -config FILE is required (or -oracle, -client ADDR, or -load -addrs A,B,C)")
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(runMember(*configPath, *dataDir, *statePath, *embedded))
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func runMember(configPath, dataDir, statePath string, embedded bool) int {
	// Before anything is reported: a SIGUSR1 sent as soon as an event shows
	// must never meet the default action, which kills the process.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	cfg, err := loadConfig(configPath)
	if err != nil {
		events.emit("error", map[string]any{"level": "fatal", "msg": err.Error()})
		return 1
	}
	st, existed, err := openStore(dataDir)
	if err != nil {
		events.emit("error", map[string]any{"level": "fatal", "msg": err.Error()})
		return 1
	}
	if statePath != "" && !existed {
		init, err := loadInitialState(statePath)
		if err == nil {
			err = st.seed(init)
		}
		if err != nil {
			events.emit("error", map[string]any{"level": "fatal", "msg": err.Error()})
			return 1
		}
	}
	m := &member{cfg: cfg, store: st, embedded: embedded, factory: message.NewConcreteMsgFactory()}
	m.run = newRunState()
	m.run.closed = true
	if cfg.hostRequest != "" {
		if err := serveRequests(m); err != nil {
			events.emit("error", map[string]any{"level": "fatal", "msg": "Fail to start RequestListener: " + err.Error()})
			return 1
		}
	}
	events.emit("start", map[string]any{
		"pid": os.Getpid(), "gometa": gometaVersion, "embedded": embedded,
		"election_addr": cfg.hostUDP, "message_addr": cfg.hostTCP, "request_addr": cfg.hostRequest,
		"peers_udp": cfg.peerUDP, "peers_tcp": cfg.peerTCP, "restored": existed,
	})

	killch := make(chan bool, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		if embedded {
			m.runEmbedded(killch)
		} else {
			m.runStandalone(killch)
		}
	}()

	for {
		select {
		case s := <-sigs:
			if s == syscall.SIGUSR1 {
				events.emit("state", m.stateDump())
				continue
			}
			m.terminate(killch)
			select {
			case <-finished:
			case <-time.After(2 * time.Second):
			}
			events.emit("stopped", map[string]any{"signal": s.String()})
			return 0
		case <-finished:
			events.emit("stopped", map[string]any{})
			return 0
		}
	}
}
