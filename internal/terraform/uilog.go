package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// uiMessage is one line of Terraform's machine-readable UI, what plan, apply
// and destroy print with -json (developer.hashicorp.com/terraform/internals/machine-readable-ui,
// UI version 1.2; OpenTofu 1.12 prints the same messages). terraform-json
// v0.29 types only the version, log and diagnostic messages of this stream,
// so the fields this printer reads are decoded here.
type uiMessage struct {
	Message    string             `json:"@message"`
	Timestamp  time.Time          `json:"@timestamp"`
	Type       string             `json:"type"`
	Diagnostic *tfjson.Diagnostic `json:"diagnostic"` // diagnostic
	Change     *uiChange          `json:"change"`     // planned_change, resource_drift
	Hook       *uiHook            `json:"hook"`       // apply_*, refresh_*, provision_*
	Changes    *uiChangeSummary   `json:"changes"`    // change_summary
}

type uiResource struct {
	Addr string `json:"addr"`
}

type uiChange struct {
	Resource uiResource `json:"resource"`
	Action   string     `json:"action"` // create, update, delete, replace, read, noop, move, remove, import
}

type uiHook struct {
	Resource uiResource `json:"resource"`
	Action   string     `json:"action"`
	IDKey    string     `json:"id_key"`
	IDValue  string     `json:"id_value"`
	Elapsed  float64    `json:"elapsed_seconds"`
}

type uiChangeSummary struct {
	Add       int    `json:"add"`
	Change    int    `json:"change"`
	Import    int    `json:"import"`
	Remove    int    `json:"remove"`
	Forget    int    `json:"forget"`    // OpenTofu only
	Operation string `json:"operation"` // plan, apply, destroy
}

// operation is a resource change in flight: an apply_start not yet
// completed or errored.
type operation struct {
	action string
	start  time.Time
}

// uiPrinter turns the UI stream into our own log lines: one per resource
// change with its duration, a heartbeat at most once a minute while
// something is in flight, the change summary on one line, and each distinct
// warning once. Error diagnostics are kept for the error the command
// returns, so that they are printed once, by whoever prints that error.
// With debug, every message's own text is printed as well ("terraform: ...").
type uiPrinter struct {
	log   *progress.Logger
	debug bool

	mu     sync.Mutex
	warned map[string]bool // warnings already printed during this run

	// One command's state, reset by begin.
	inFlight  map[string]operation
	lastLine  time.Time // stream time of the last line printed (or the first message)
	refreshed int
	errs      []tfjson.Diagnostic
}

func newUIPrinter(log *progress.Logger) *uiPrinter {
	return &uiPrinter{log: log, debug: log.DebugEnabled(), warned: map[string]bool{}}
}

// begin starts a new command's stream.
func (p *uiPrinter) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight = map[string]operation{}
	p.lastLine = time.Time{}
	p.refreshed = 0
	p.errs = nil
}

// errors returns the error diagnostics of the current command.
func (p *uiPrinter) errors() []tfjson.Diagnostic {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]tfjson.Diagnostic(nil), p.errs...)
}

// printf prints a line and notes its stream time for the heartbeat.
func (p *uiPrinter) printf(at time.Time, format string, args ...any) {
	p.lastLine = at
	p.log.Printf(format, args...)
}

// handle reads one line of terraform's stdout.
func (p *uiPrinter) handle(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var m uiMessage
	if line[0] != '{' || json.Unmarshal(line, &m) != nil || m.Type == "" {
		// Not a UI message (a crash trace, a plugin's stray print): it is in
		// the log file; stream it only when asked to.
		if p.debug {
			p.log.Printf("terraform: %s", line)
		}
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastLine.IsZero() {
		p.lastLine = m.Timestamp
	}
	if p.debug {
		p.log.Printf("terraform: %s", m.Message)
	}
	switch m.Type {
	case "diagnostic":
		p.diagnostic(m)
	case "resource_drift":
		if m.Change != nil {
			p.printf(m.Timestamp, "drift: %s changed outside Terraform (%s)", m.Change.Resource.Addr, m.Change.Action)
		}
	case "change_summary":
		if m.Changes != nil {
			p.printf(m.Timestamp, "%s", summaryLine(*m.Changes))
		}
	case "apply_start":
		if m.Hook != nil {
			p.inFlight[m.Hook.Resource.Addr] = operation{action: m.Hook.Action, start: m.Timestamp}
		}
	case "apply_progress":
		p.heartbeat(m.Timestamp)
	case "apply_complete", "apply_errored":
		if m.Hook != nil {
			p.finished(m)
		}
	case "refresh_complete":
		p.refreshed++
		p.heartbeat(m.Timestamp)
	}
}

// finished prints the line of a resource change that completed or failed.
func (p *uiPrinter) finished(m uiMessage) {
	h := m.Hook
	addr := h.Resource.Addr
	op, started := p.inFlight[addr]
	delete(p.inFlight, addr)
	took := time.Duration(h.Elapsed * float64(time.Second))
	if took == 0 && started {
		// Import's completion reports no elapsed time; the stream's clock does.
		took = m.Timestamp.Sub(op.start)
	}
	// Whole seconds, as terraform reports them (OpenTofu's elapsed has
	// fractions).
	d := progress.Duration(took.Round(time.Second))
	if m.Type == "apply_errored" {
		p.printf(m.Timestamp, "! %s %s failed after %s", addr, h.Action, d)
		return
	}
	switch h.Action {
	case "create":
		p.printf(m.Timestamp, "+ %s created in %s", addr, d)
	case "delete":
		p.printf(m.Timestamp, "- %s destroyed in %s", addr, d)
	case "update":
		p.printf(m.Timestamp, "~ %s updated in %s", addr, d)
	case "import":
		id := ""
		if h.IDValue != "" {
			id = fmt.Sprintf(" (%s)", h.IDValue)
		}
		p.printf(m.Timestamp, "> %s imported%s", addr, id)
	case "read", "noop":
		// A data source read during the apply changes nothing.
	default:
		p.printf(m.Timestamp, "* %s %s in %s", addr, h.Action, d)
	}
}

// heartbeat says what is still in flight when nothing was printed for a
// minute of the stream's time (terraform reports progress every 10 s).
func (p *uiPrinter) heartbeat(at time.Time) {
	if at.Sub(p.lastLine) < progress.HeartbeatEvery {
		return
	}
	if len(p.inFlight) == 0 {
		if p.refreshed > 0 {
			p.printf(at, "still reading state: %s refreshed so far", progress.Plural(p.refreshed, "resource", "resources"))
		}
		return
	}
	addrs := make([]string, 0, len(p.inFlight))
	for a := range p.inFlight {
		addrs = append(addrs, a)
	}
	// The longest-running first; the address breaks ties.
	sort.Slice(addrs, func(i, j int) bool {
		a, b := p.inFlight[addrs[i]], p.inFlight[addrs[j]]
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		return addrs[i] < addrs[j]
	})
	op := p.inFlight[addrs[0]]
	more := ""
	if n := len(addrs) - 1; n > 0 {
		more = fmt.Sprintf("; %d more in progress", n)
	}
	p.printf(at, "%s still %s (%s)%s", addrs[0], progressVerb(op.action), progress.Duration(at.Sub(op.start).Truncate(time.Second)), more)
}

func progressVerb(action string) string {
	switch action {
	case "create":
		return "creating"
	case "delete":
		return "destroying"
	case "update":
		return "updating"
	case "import":
		return "importing"
	case "read":
		return "reading"
	}
	return action + " in progress"
}

// diagnostic prints a warning once per run and keeps an error for the
// command's error.
func (p *uiPrinter) diagnostic(m uiMessage) {
	d := m.Diagnostic
	if d == nil {
		return
	}
	if p.debug && d.Detail != "" {
		for _, l := range strings.Split(strings.TrimSpace(d.Detail), "\n") {
			p.log.Printf("terraform:   %s", l)
		}
	}
	if d.Severity == tfjson.DiagnosticSeverityError {
		p.errs = append(p.errs, *d)
		return
	}
	line := diagnosticLine(*d)
	if p.warned[line] {
		return
	}
	p.warned[line] = true
	p.printf(m.Timestamp, "%s", line)
}

// diagnosticLine summarises a diagnostic on one line: severity, summary,
// address and the first line of its detail.
func diagnosticLine(d tfjson.Diagnostic) string {
	var b strings.Builder
	b.WriteString(string(d.Severity))
	if d.Severity == "" {
		b.WriteString("error")
	}
	b.WriteString(": ")
	b.WriteString(d.Summary)
	if d.Address != "" {
		fmt.Fprintf(&b, " (%s)", d.Address)
	}
	for _, l := range strings.Split(d.Detail, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			b.WriteString(": ")
			b.WriteString(l)
			break
		}
	}
	return b.String()
}

// summaryLine is a change_summary on one line: "plan: 26 to add, 0 to
// change, 0 to destroy", "apply complete: 26 added, 0 changed, 0 destroyed",
// "destroy complete: 26 destroyed", with imports (and OpenTofu's forgets)
// named when there are any.
func summaryLine(s uiChangeSummary) string {
	switch s.Operation {
	case "plan":
		if s.Add+s.Change+s.Remove+s.Import+s.Forget == 0 {
			return "plan: no changes"
		}
		parts := []string{}
		if s.Import > 0 {
			parts = append(parts, fmt.Sprintf("%d to import", s.Import))
		}
		parts = append(parts, fmt.Sprintf("%d to add", s.Add), fmt.Sprintf("%d to change", s.Change), fmt.Sprintf("%d to destroy", s.Remove))
		if s.Forget > 0 {
			parts = append(parts, fmt.Sprintf("%d to forget", s.Forget))
		}
		return "plan: " + strings.Join(parts, ", ")
	case "destroy":
		return fmt.Sprintf("destroy complete: %d destroyed", s.Remove)
	default:
		parts := []string{}
		if s.Import > 0 {
			parts = append(parts, fmt.Sprintf("%d imported", s.Import))
		}
		parts = append(parts, fmt.Sprintf("%d added", s.Add), fmt.Sprintf("%d changed", s.Change), fmt.Sprintf("%d destroyed", s.Remove))
		if s.Forget > 0 {
			parts = append(parts, fmt.Sprintf("%d forgotten", s.Forget))
		}
		return "apply complete: " + strings.Join(parts, ", ")
	}
}

// DiagnosticsError is a terraform command that failed with error
// diagnostics; Error summarises each on one line.
type DiagnosticsError struct {
	Op          string // "terraform apply"
	Diagnostics []tfjson.Diagnostic
}

// Error is the command and one line per error diagnostic.
func (e *DiagnosticsError) Error() string {
	if len(e.Diagnostics) == 1 {
		return e.Op + ": " + diagnosticLine(e.Diagnostics[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d errors", e.Op, len(e.Diagnostics))
	for _, d := range e.Diagnostics {
		b.WriteString("\n  ")
		b.WriteString(diagnosticLine(d))
	}
	return b.String()
}

// fullText is every diagnostic whole, for the parsers that read details
// (the lock holder, the names of draining errors).
func (e *DiagnosticsError) fullText() string {
	var b strings.Builder
	for _, d := range e.Diagnostics {
		fmt.Fprintf(&b, "Error: %s\n\n%s\n\n", d.Summary, d.Detail)
	}
	return b.String()
}

// errorText is err's text with the whole of any diagnostics it carries.
func errorText(err error) string {
	var de *DiagnosticsError
	if errors.As(err, &de) {
		return err.Error() + "\n" + de.fullText()
	}
	return err.Error()
}

// lineSplitter calls line for each complete line written to it; flush
// passes on a last line without a newline.
type lineSplitter struct {
	mu   sync.Mutex
	buf  []byte
	line func([]byte)
}

func (w *lineSplitter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(bytes.TrimRight(w.buf[:i], "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineSplitter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(w.buf)
		w.buf = nil
	}
}
