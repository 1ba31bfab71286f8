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
	// Log receives one line per attempt; nil discards them.
	Log *progress.Logger
	// Now measures latencies and durations; nil means time.Now.
	Now func() time.Time
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
		wg.Go(func() { results[i] = r.runCheck(ctx, p, &p.Checks[i], transport) })
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
// loop: every attempt that is not the last returns a retryable error, and the
// constant backoff spaces attempts p.Interval apart.
func (r *Runner) runCheck(ctx context.Context, p *Plan, c *Check, transport http.RoundTripper) CheckResult {
	now := r.now()
	start := now()
	client := newClient(transport, c)
	res := CheckResult{Name: c.Name, Method: c.Method, URL: c.URL.String(), PassesRequired: p.Consecutive}
	var (
		lastFailure *AttemptFailure
		cutShort    *AttemptFailure // an attempt the deadline interrupted
		bestStreak  int
	)
	r.Log.Printf("[%s] %s %s: expecting %s", c.Name, c.Method, c.URL, describeExpectations(&c.Expect))

	err := retry.Do(ctx, retry.NewConstant(p.Interval), func(ctx context.Context) error {
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
			r.Log.Printf("[%s] attempt %d: pass, %s (%d of %d in a row)", c.Name, res.Attempts, obs.Describe(), res.PassesInARow, p.Consecutive)
			if res.PassesInARow >= p.Consecutive {
				return nil
			}
			return retry.RetryableError(errNeedMorePasses)
		}
		res.PassesInARow = 0
		lastFailure = failure
		if !failure.Retryable {
			r.Log.Printf("[%s] attempt %d: %v; not retrying", c.Name, res.Attempts, failure)
			return failure
		}
		r.Log.Printf("[%s] attempt %d: %v; retrying in %s", c.Name, res.Attempts, failure, p.Interval)
		return retry.RetryableError(failure)
	})

	res.Duration = now().Sub(start)
	res.DurationSeconds = res.Duration.Seconds()
	var permanent *AttemptFailure
	switch {
	case err == nil:
		res.Passed = true
		r.Log.Printf("[%s] passed: %d in a row after %d attempt(s) in %s", c.Name, res.PassesInARow, res.Attempts, res.Duration.Round(time.Millisecond))
		return res
	case errors.As(err, &permanent):
		res.Failure = fmt.Sprintf("%v (attempt %d, not retried)", permanent, res.Attempts)
	case errors.Is(context.Cause(ctx), errDeadline):
		res.Failure = deadlineFailure(p, &res, lastFailure, cutShort, bestStreak)
	default:
		res.Failure = fmt.Sprintf("stopped after %d attempt(s): %v", res.Attempts, context.Cause(ctx))
		if lastFailure != nil {
			res.Failure += "; last failure: " + lastFailure.Error()
		}
	}
	r.Log.Printf("[%s] FAILED: %s", c.Name, res.Failure)
	return res
}

func deadlineFailure(p *Plan, res *CheckResult, last, cutShort *AttemptFailure, bestStreak int) string {
	head := fmt.Sprintf("no %d passes in a row within --timeout %s (%d attempts, longest run of passes %d)", p.Consecutive, p.Timeout, res.Attempts, bestStreak)
	if p.Consecutive == 1 {
		head = fmt.Sprintf("no passing answer within --timeout %s (%d attempts)", p.Timeout, res.Attempts)
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
