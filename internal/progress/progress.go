// Package progress prints what changed as plain, timestamped lines fit for a CI
// log: one line per change, no cursor tricks.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Logger writes timestamped lines. It is safe for concurrent use.
type Logger struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	debug bool
}

// New returns a Logger writing to w. now may be nil for the wall clock.
func New(w io.Writer, now func() time.Time, debug bool) *Logger {
	if now == nil {
		now = time.Now
	}
	return &Logger{w: w, now: now, debug: debug}
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
	fmt.Fprintf(l.w, "%s %s\n", l.now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
}

// Debugf writes a line only when debug output was asked for (--log-level debug).
func (l *Logger) Debugf(format string, args ...any) {
	if l == nil || !l.debug {
		return
	}
	l.Printf("debug: "+format, args...)
}
