package main

// gometa's log.Current is nil until the embedding program sets it, and every
// logging call site dereferences it. This logger writes to stderr and also
// reports Error and Fatal lines as "error" events, so a panic recovered
// inside gometa (for example the W41 election race) is visible on stdout.

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

type logLevel int

const (
	levelError logLevel = iota
	levelWarn
	levelInfo
	levelDebug
	levelTrace
)

type hostLogger struct {
	mu    sync.Mutex
	level logLevel
}

func parseLevel(s string) logLevel {
	switch strings.ToLower(s) {
	case "error":
		return levelError
	case "warn":
		return levelWarn
	case "debug":
		return levelDebug
	case "trace":
		return levelTrace
	}
	return levelInfo
}

func (l *hostLogger) printf(lv logLevel, tag, format string, v ...interface{}) {
	if lv > l.level {
		return
	}
	msg := fmt.Sprintf(format, v...)
	l.mu.Lock()
	fmt.Fprintf(os.Stderr, "%s %s %s\n", time.Now().Format("15:04:05.000000"), tag, strings.TrimRight(msg, "\n"))
	l.mu.Unlock()
}

func (l *hostLogger) Warnf(format string, v ...interface{}) {
	l.printf(levelWarn, "WARN", format, v...)
}
func (l *hostLogger) Errorf(format string, v ...interface{}) {
	msg := fmt.Sprintf(format, v...)
	l.printf(levelError, "ERROR", "%s", msg)
	events.emit("error", map[string]any{"level": "error", "msg": strings.TrimSpace(msg),
		"panic": strings.Contains(msg, "panic")})
}

// Fatalf must not exit: gometa calls it on conditions it then handles.
func (l *hostLogger) Fatalf(format string, v ...interface{}) {
	msg := fmt.Sprintf(format, v...)
	l.printf(levelError, "FATAL", "%s", msg)
	events.emit("error", map[string]any{"level": "fatal", "msg": strings.TrimSpace(msg),
		"panic": strings.Contains(msg, "panic")})
}
func (l *hostLogger) Infof(format string, v ...interface{}) {
	l.printf(levelInfo, "INFO", format, v...)
}
func (l *hostLogger) Debugf(format string, v ...interface{}) {
	l.printf(levelDebug, "DEBUG", format, v...)
}
func (l *hostLogger) Tracef(format string, v ...interface{}) {
	l.printf(levelTrace, "TRACE", format, v...)
}
func (l *hostLogger) LazyDebug(fn func() string) {
	if l.level >= levelDebug {
		l.printf(levelDebug, "DEBUG", "%s", fn())
	}
}
func (l *hostLogger) LazyTrace(fn func() string) {
	if l.level >= levelTrace {
		l.printf(levelTrace, "TRACE", "%s", fn())
	}
}
func (l *hostLogger) StackTrace() string { return string(debug.Stack()) }
