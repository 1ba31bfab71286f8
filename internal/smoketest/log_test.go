package smoketest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// fakeClock is virtual time for the Runner: Sleep moves it on at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return nil
}

// scriptedTransport answers each request with the next status of a script
// (the last one repeats), at once, without a network.
type scriptedTransport struct {
	mu       sync.Mutex
	statuses []int
	n        int
}

func (s *scriptedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	code := s.statuses[min(s.n, len(s.statuses)-1)]
	s.n++
	s.mu.Unlock()
	return &http.Response{StatusCode: code, Status: strconv.Itoa(code) + " " + http.StatusText(code), Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("body")), Request: req}, nil
}

// runScripted runs one check against statuses on a fake clock and returns
// the report and the log's lines.
func runScripted(t *testing.T, opts Options, statuses ...int) (*Report, []string) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	r := &Runner{Log: progress.New(&buf, clock.Now, false), Now: clock.Now, Sleep: clock.Sleep,
		Transport: &scriptedTransport{statuses: statuses}}
	rep := r.Run(context.Background(), mustPlan(t, opts))
	var lines []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	t.Logf("log:\n%s", strings.Join(lines, "\n"))
	return rep, lines
}

func count(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// The log prints a line when the outcome changes, not one per attempt.
func TestLogPrintsChangesNotAttempts(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		opts     Options
		passed   bool
		want     map[string]int // substring: how many lines hold it
	}{
		{
			name: "the same failure until the deadline", statuses: []int{503},
			opts: Options{URL: "http://app", Interval: "2s", Timeout: "30s", Consecutive: "1"},
			want: map[string]int{"expected status 200, got 503": 1, "FAILED after 15 attempts in 30s": 1, "still waiting": 0},
		},
		{
			name: "a different failure is a change", statuses: []int{503, 503, 502, 502, 503, 200},
			opts:   Options{URL: "http://app", Interval: "2s", Timeout: "1m", Consecutive: "1"},
			passed: true,
			want:   map[string]int{"got 503": 2, "got 502": 1, "passed: 1 in a row after 6 attempts in 10s": 1},
		},
		{
			name: "a streak prints its first pass and its end", statuses: []int{200},
			opts:   Options{URL: "http://app", Interval: "1s", Timeout: "1m", Consecutive: "5"},
			passed: true,
			want:   map[string]int{"pass, 200": 1, "(1 of 5 in a row)": 1, "passed: 5 in a row after 5 attempts in 4s": 1},
		},
		{
			name: "a broken streak prints the failure and the new first pass", statuses: []int{200, 200, 503, 200},
			opts:   Options{URL: "http://app", Interval: "1s", Timeout: "1m", Consecutive: "3"},
			passed: true,
			want:   map[string]int{"pass, 200": 2, "got 503": 1, "passed: 3 in a row after 6 attempts": 1},
		},
		{
			name: "a failure waiting cannot fix is left to the report", statuses: []int{403},
			opts: Options{URL: "http://app", Interval: "1s", Timeout: "1m", Consecutive: "1"},
			want: map[string]int{"403": 0, "FAILED after 1 attempt in 0s": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, lines := runScripted(t, tt.opts, tt.statuses...)
			if rep.Passed != tt.passed {
				t.Fatalf("passed = %v, want %v: %+v", rep.Passed, tt.passed, rep.Checks)
			}
			for s, n := range tt.want {
				if got := count(lines, s); got != n {
					t.Errorf("%d lines hold %q, want %d", got, s, n)
				}
			}
			if !tt.passed && rep.Checks[0].Failure == "" {
				t.Error("the report does not say why the check failed")
			}
		})
	}
}

// A check that keeps failing the same way prints a heartbeat a minute after
// the last line and every minute after, never more often.
func TestHeartbeatWhileACheckKeepsFailing(t *testing.T) {
	rep, lines := runScripted(t, Options{URL: "http://app", Interval: "2s", Timeout: "5m", Consecutive: "1"}, 503)
	if rep.Passed || !strings.Contains(rep.Checks[0].Failure, "no passing answer within --timeout 5m (150 attempts)") {
		t.Fatalf("report = %+v", rep.Checks[0])
	}
	var beats []string
	var last time.Time
	for _, l := range lines {
		stamp, msg, _ := strings.Cut(l, " ")
		at, err := time.Parse(time.RFC3339, stamp)
		if err != nil {
			t.Fatalf("line without a timestamp: %q", l)
		}
		if !last.IsZero() && at.Sub(last) > progress.HeartbeatEvery {
			t.Errorf("%s of silence before %q", at.Sub(last), msg)
		}
		if strings.Contains(msg, "still waiting") {
			if gap := at.Sub(last); gap != progress.HeartbeatEvery {
				t.Errorf("heartbeat %s after the line before, want exactly 1m", gap)
			}
			beats = append(beats, msg)
		}
		last = at
	}
	if len(beats) != 4 {
		t.Fatalf("%d heartbeats in 5m, want 4 (at 1m, 2m, 3m, 4m)", len(beats))
	}
	want := "[GET /] still waiting: expected status 200, got 503; 31 attempts so far, 1m of 5m"
	if beats[0] != want {
		t.Errorf("first heartbeat %q, want %q", beats[0], want)
	}
}

func TestReportSummary(t *testing.T) {
	tests := []struct {
		rep  Report
		want string
	}{
		{Report{Passed: true, Duration: 2100 * time.Millisecond, Checks: []CheckResult{{Name: "a", Passed: true}}}, "smoke test passed: 1 check in 2.1s"},
		{Report{Duration: time.Minute, Checks: []CheckResult{{Name: "a"}, {Name: "b", Passed: true}}}, "smoke test FAILED: 1 of 2 checks failed (a) in 1m"},
	}
	for _, tt := range tests {
		if got := tt.rep.Summary(); got != tt.want {
			t.Errorf("Summary = %q, want %q", got, tt.want)
		}
	}
}
