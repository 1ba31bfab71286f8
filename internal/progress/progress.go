// Package progress prints what changed as plain, timestamped lines fit for a CI
// log: one line per change, no cursor tricks, and a heartbeat while a long
// wait has nothing new to say.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// HeartbeatEvery is how long a wait may print nothing before it says that it
// is still waiting. CI systems kill a job that is silent for too long
// (CircleCI's no_output_timeout is 10 minutes by default), and a person
// reading the log wants to know the job is alive.
const HeartbeatEvery = time.Minute

// Logger writes timestamped lines. It is safe for concurrent use.
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	debug bool
	last  time.Time // when the last line was written (or the Logger made)
}

// New returns a Logger writing to w. now may be nil for the wall clock.
func New(w io.Writer, now func() time.Time, debug bool) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{w: w, now: now, debug: debug, last: now()}
}

// Discard returns a Logger that prints nothing; handy in tests.
func Discard() *Logger { return New(io.Discard, nil, false) }

// Printf writes one line, prefixed with an RFC 3339 UTC timestamp.
func (l *Logger) Printf(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = l.now()
	fmt.Fprintf(l.w, "%s %s\n", l.last.UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// Debugf writes a line only when debug output was asked for (--log-level debug).
func (l *Logger) Debugf(format string, args ...any) {
	if l == nil || !l.debug {
		return
	}
	l.Printf("debug: "+format, args...)
}

// DebugEnabled reports whether debug output was asked for: callers that
// summarise a tool's output then stream all of it as well.
func (l *Logger) DebugEnabled() bool { return l != nil && l.debug }

// Idle returns how long ago, by the Logger's clock, the last line was
// written. A nil Logger prints nothing and is never idle.
func (l *Logger) Idle() time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now().Sub(l.last)
}

// HeartbeatDue returns how long until a wait should print a heartbeat: zero
// or less means now.
func (l *Logger) HeartbeatDue() time.Duration {
	return HeartbeatEvery - l.Idle()
}

// Plural is n with the noun in the right number: "1 attempt", "3 attempts".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Duration formats d for a log line, rounded to what a reader needs and
// without zero tails: 4m10s, 15m, 1h, 2.5s, 300ms.
func Duration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		d = d.Round(time.Second)
	case d >= 10*time.Second:
		d = d.Round(time.Second)
	case d >= time.Second:
		d = d.Round(100 * time.Millisecond)
	default:
		d = d.Round(time.Millisecond)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
