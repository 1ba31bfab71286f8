package smoketest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Runner runs a Plan. The zero value works: it logs nothing and reads the
// wall clock.
type Runner struct {
	// Log receives a line when a check's outcome changes (not one per
	// attempt), and a heartbeat while nothing changes; nil discards them.
	Log *progress.Logger
	// Now measures latencies, durations and the deadline; nil means
	// time.Now.
	Now func() time.Time
	// Sleep waits between attempts, on the same clock as Now; nil means a
	// real timer. Tests inject a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// UserAgent is sent unless a check sets its own.
	UserAgent string
	// Transport replaces the one built from the plan (--connect-to, TLS);
	// nil builds it.
	Transport http.RoundTripper
}

// Report is the outcome of a smoke test, in check order.
type Report struct {
	Passed          bool          `json:"passed"`
	Started         time.Time     `json:"started"`
	Duration        time.Duration `json:"-"`
	DurationSeconds float64       `json:"duration_seconds"`
	Checks          []CheckResult `json:"checks"`
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name            string        `json:"name"`
	Method          string        `json:"method"`
	URL             string        `json:"url"`
	Passed          bool          `json:"passed"`
	Attempts        int           `json:"attempts"`
	PassesInARow    int           `json:"passes_in_a_row"`
	PassesRequired  int           `json:"passes_required"`
	Duration        time.Duration `json:"-"`
	DurationSeconds float64       `json:"duration_seconds"`
	// Failure says why the check failed: the unmet expectation and what came
	// back. Empty when it passed.
	Failure string `json:"failure,omitempty"`
	// LastStatus and LastLatencyMS describe the last answer, if any came.
	LastStatus    int     `json:"last_status,omitempty"`
	LastLatencyMS float64 `json:"last_latency_ms,omitempty"`
}

// FailedError reports the checks that failed. The CLI maps it to exit 1.
type FailedError struct {
	Failed []CheckResult
}

// Error names every failed check with its reason.
func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = fmt.Sprintf("check %q failed: %s", c.Name, c.Failure)
	}
	return "smoke test failed: " + strings.Join(parts, "; ")
}

// Summary is the report in one line for the CI log: "smoke test passed: 1
// check in 2.1s", or which checks failed.
func (r *Report) Summary() string {
	checks := progress.Plural(len(r.Checks), "check", "checks")
	if r.Passed {
		return fmt.Sprintf("smoke test passed: %s in %s", checks, progress.Duration(r.Duration))
	}
	var failed []string
	for _, c := range r.Checks {
		if !c.Passed {
			failed = append(failed, c.Name)
		}
	}
	return fmt.Sprintf("smoke test FAILED: %d of %s failed (%s) in %s", len(failed), checks, strings.Join(failed, ", "), progress.Duration(r.Duration))
}

// Err returns a *FailedError naming the failed checks, or nil if all passed.
func (r *Report) Err() error {
	if r.Passed {
		return nil
	}
	var failed []CheckResult
	for _, c := range r.Checks {
		if !c.Passed {
			failed = append(failed, c)
		}
	}
	return &FailedError{Failed: failed}
}

// errDeadline is the cause given to the overall deadline, to tell it from a
// cancelled job.
var errDeadline = errors.New("smoke-test deadline (--timeout) passed")

// errNeedMorePasses keeps the retry loop polling after a pass that has not
// yet made the streak. It is never reported.
var errNeedMorePasses = errors.New("need more passes in a row")

// Run executes every check of p concurrently under one deadline (p.Timeout)
// and reports each verdict. It never returns early: a failed check does not
// stop the others, so the report is complete.
func (r *Runner) Run(ctx context.Context, p *Plan) *Report {
	now := r.now()
	start := now()
	ctx, cancel := context.WithTimeoutCause(ctx, p.Timeout, errDeadline)
	defer cancel()
	// The deadline also holds on the Runner's clock: with an injected one,
	// the waits between attempts end the run when it passes.
	ctx, expire := context.WithCancelCause(ctx)
	defer expire(nil)
	deadline := start.Add(p.Timeout)

	transport := r.Transport
	if transport == nil {
		t := newTransport(p, r.Log)
		defer t.CloseIdleConnections()
		transport = t
	}
	r.Log.Printf("smoke test: %s", p)
	for _, rule := range p.ConnectTo {
		if !slices.ContainsFunc(p.Checks, func(c Check) bool { return rule.matches(c.URL.Hostname(), portOf(c.URL)) }) {
			r.Log.Printf("warning: --connect-to %s matches no check URL; it applies only if a redirect leads there (check its HOST and PORT)", rule)
		}
	}
	results := make([]CheckResult, len(p.Checks))
	var wg sync.WaitGroup
	for i := range p.Checks {
		wg.Go(func() {
			results[i] = r.runCheck(ctx, p, &p.Checks[i], transport, deadline, func() { expire(errDeadline) })
		})
	}
	wg.Wait()

	rep := &Report{Passed: true, Started: start, Checks: results}
	for _, c := range results {
		rep.Passed = rep.Passed && c.Passed
	}
	rep.Duration = now().Sub(start)
	rep.DurationSeconds = rep.Duration.Seconds()
	return rep
}

func (r *Runner) now() func() time.Time {
	if r.Now != nil {
		return r.Now
	}
	return time.Now
}

// runCheck polls one check until it has p.Consecutive passes in a row, fails
// in a way waiting cannot fix, or the deadline passes. go-retry drives the
// loop: every attempt that is not the last returns a retryable error, and
// the backoff (a waiter on the Runner's clock) spaces attempts p.Interval
// apart.
//
// The log gets a line when the outcome changes (the first failure, a
// different failure, the first pass of a streak), not one per attempt, and
// a heartbeat while nothing is printed for a minute. The failure reason is
// left to the report and the CLI's error, so it is not printed three times.
func (r *Runner) runCheck(ctx context.Context, p *Plan, c *Check, transport http.RoundTripper, deadline time.Time, expire func()) CheckResult {
	now := r.now()
	start := now()
	client := newClient(transport, c)
	res := CheckResult{Name: c.Name, Method: c.Method, URL: c.URL.String(), PassesRequired: p.Consecutive}
	var (
		lastFailure *AttemptFailure
		permanent   *AttemptFailure // a failure waiting cannot fix
		cutShort    *AttemptFailure // an attempt the deadline interrupted
		bestStreak  int
		lastKey     string // what the last printed outcome was, to print only changes
		lastSaid    string // the last outcome, for the heartbeat
	)
	r.Log.Printf("[%s] %s %s: expecting %s", c.Name, c.Method, c.URL, describeExpectations(&c.Expect))
	every := progress.Duration(p.Interval)
	w := &waiter{ctx: ctx, now: now, sleep: r.sleep(), interval: p.Interval, deadline: deadline, expire: expire, beat: func() {
		r.Log.Printf("[%s] still waiting: %s; %s so far, %s of %s", c.Name, lastSaid, progress.Plural(res.Attempts, "attempt", "attempts"),
			progress.Duration(now().Sub(start)), progress.Duration(p.Timeout))
	}, log: r.Log}

	err := retry.Do(ctx, w, func(ctx context.Context) error {
		res.Attempts++
		obs, failure := attempt(ctx, client, c, r.UserAgent, now)
		if obs != nil {
			res.LastStatus = obs.Status
			res.LastLatencyMS = float64(obs.Latency.Microseconds()) / 1000
		}
		if failure != nil && ctx.Err() != nil {
			// The deadline or a cancelled job cut this attempt short; it says
			// nothing about the app.
			r.Log.Printf("[%s] attempt %d: cut short, still waiting for an answer (%v)", c.Name, res.Attempts, context.Cause(ctx))
			cutShort = failure
			return context.Cause(ctx)
		}
		if failure == nil {
			res.PassesInARow++
			bestStreak = max(bestStreak, res.PassesInARow)
			lastSaid = fmt.Sprintf("%d of %d passes in a row", res.PassesInARow, p.Consecutive)
			if res.PassesInARow >= p.Consecutive {
				return nil
			}
			if lastKey != "pass" {
				r.Log.Printf("[%s] attempt %d: pass, %s (1 of %d in a row)", c.Name, res.Attempts, obs.Describe(), p.Consecutive)
				lastKey = "pass"
			}
			return retry.RetryableError(errNeedMorePasses)
		}
		res.PassesInARow = 0
		lastFailure = failure
		if !failure.Retryable {
			permanent = failure
			return failure
		}
		lastSaid = failure.Reason
		if key := failure.key(); key != lastKey {
			r.Log.Printf("[%s] attempt %d: %v; retrying every %s", c.Name, res.Attempts, failure, every)
			lastKey = key
		}
		return retry.RetryableError(failure)
	})

	res.Duration = now().Sub(start)
	res.DurationSeconds = res.Duration.Seconds()
	attempts := progress.Plural(res.Attempts, "attempt", "attempts")
	took := progress.Duration(res.Duration)
	switch {
	case err == nil:
		res.Passed = true
		r.Log.Printf("[%s] passed: %d in a row after %s in %s", c.Name, res.PassesInARow, attempts, took)
		return res
	case permanent != nil:
		res.Failure = fmt.Sprintf("%v (attempt %d, not retried)", permanent, res.Attempts)
	case errors.Is(context.Cause(ctx), errDeadline):
		res.Failure = deadlineFailure(p, &res, lastFailure, cutShort, bestStreak)
	default:
		res.Failure = fmt.Sprintf("stopped after %s: %v", attempts, context.Cause(ctx))
		if lastFailure != nil {
			res.Failure += "; last failure: " + lastFailure.Error()
		}
	}
	r.Log.Printf("[%s] FAILED after %s in %s", c.Name, attempts, took)
	return res
}

func (r *Runner) sleep() func(context.Context, time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep
	}
	return sleep
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waiter is the retry.Backoff between attempts: it waits interval on the
// Runner's clock itself (go-retry then goes on at once), prints a heartbeat
// whenever the log has been silent for progress.HeartbeatEvery, and ends the
// run when the deadline passes on that clock.
type waiter struct {
	ctx      context.Context
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	interval time.Duration
	deadline time.Time
	expire   func() // cancels the run with errDeadline
	beat     func()
	log      *progress.Logger
}

// Next waits for the next attempt; true means stop.
func (w *waiter) Next() (time.Duration, bool) {
	until := w.now().Add(w.interval)
	for {
		now := w.now()
		if !now.Before(w.deadline) {
			w.expire()
			return 0, true
		}
		if !now.Before(until) {
			return 0, false
		}
		step := min(until.Sub(now), w.deadline.Sub(now))
		due := w.log.HeartbeatDue()
		if due <= 0 {
			w.beat()
			due = progress.HeartbeatEvery
		}
		if err := w.sleep(w.ctx, min(step, due)); err != nil {
			return 0, true
		}
	}
}

func deadlineFailure(p *Plan, res *CheckResult, last, cutShort *AttemptFailure, bestStreak int) string {
	attempts := progress.Plural(res.Attempts, "attempt", "attempts")
	head := fmt.Sprintf("no %d passes in a row within --timeout %s (%s, longest run of passes %d)", p.Consecutive, progress.Duration(p.Timeout), attempts, bestStreak)
	if p.Consecutive == 1 {
		head = fmt.Sprintf("no passing answer within --timeout %s (%s)", progress.Duration(p.Timeout), attempts)
	}
	if last == nil && cutShort != nil {
		return head + "; the last request was still waiting for an answer when time ran out: is the app hanging, or does it need a longer --timeout?"
	}
	if last == nil {
		return head + ": every answer passed but the streak was still short; raise --timeout or lower --consecutive"
	}
	if res.PassesInARow > 0 {
		return fmt.Sprintf("%s; the run was at %d when time ran out, after: %v", head, res.PassesInARow, last)
	}
	return fmt.Sprintf("%s; last failure: %v", head, last)
}

func describeExpectations(e *Expectations) string {
	parts := []string{"status " + e.Status.String()}
	if e.BodyContains != "" {
		parts = append(parts, fmt.Sprintf("body containing %q", e.BodyContains))
	}
	if e.BodyRegex != nil {
		parts = append(parts, fmt.Sprintf("body matching /%s/", e.BodyRegex))
	}
	for _, h := range e.Headers {
		parts = append(parts, h.String())
	}
	for _, j := range e.JSON {
		parts = append(parts, j.String())
	}
	if e.MaxLatency > 0 {
		parts = append(parts, "latency ≤ "+e.MaxLatency.String())
	}
	return strings.Join(parts, ", ")
}

// portOf returns u's port, or the scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
