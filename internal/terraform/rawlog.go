package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// rawLog is the file that keeps terraform's whole output: the JSON lines of
// plan, apply and destroy and the text of everything else, each command
// under a header line. The CI log gets our summary lines; this file is for
// when they are not enough.
type rawLog struct {
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time
}

// openRawLog creates (or appends to) the file at path and its directory.
func openRawLog(path string, now func() time.Time) (*rawLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create terraform log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open terraform log: %w", err)
	}
	return &rawLog{f: f, path: path, now: now}, nil
}

// header starts a command's section. A nil rawLog writes nothing.
func (r *rawLog) header(args ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.f, "# %s %s\n", r.now().UTC().Format(time.RFC3339), strings.Join(args, " "))
}

// line writes one line of output.
func (r *rawLog) line(b []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(append(append([]byte(nil), b...), '\n'))
}

func (r *rawLog) close() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}
