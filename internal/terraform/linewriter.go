package terraform

import (
	"bytes"
	"sync"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// lineWriter turns terraform's output into timestamped log lines. It keeps a
// partial line until its newline arrives; blank lines are dropped.
type lineWriter struct {
	mu  sync.Mutex
	log *progress.Logger
	buf []byte
}

func newLineWriter(log *progress.Logger) *lineWriter { return &lineWriter{log: log} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimRight(w.buf[:i], "\r")
		if len(bytes.TrimSpace(line)) > 0 {
			w.log.Printf("terraform: %s", line)
		}
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
