package terraform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// drainingErrors are what AWS answers while something a resource depends on
// is still going away (ENIs of stopped tasks, instances draining, a scaling
// activity in flight). Terraform stops on them; a later attempt succeeds.
func drainingErrors() []string {
	return []string{
		"DependencyViolation",
		"has a dependent object",
		"ResourceInUse",
		"resource in use",
		"is currently in use",
		"ScalingActivityInProgress",
		"UpdateInProgressException",
		"ClusterContainsContainerInstancesException",
		"ClusterContainsServicesException",
		"ClusterContainsTasksException",
		"The specified capacity provider is in use",
		"DeleteConflict",
	}
}

// IsDraining reports whether a destroy failed only because AWS is still
// draining something, so that retrying can succeed.
func IsDraining(err error) bool {
	if err == nil {
		return false
	}
	var le *LockError
	var ie *InterruptedError
	if errors.As(err, &le) || errors.As(err, &ie) {
		return false
	}
	msg := errorText(err)
	for _, s := range drainingErrors() {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// DestroyPolicy bounds destroy's retries while AWS drains. Each attempt
// gets a budget of its own, counted from its own start, and the number of
// attempts is bounded: a first attempt that spends ten minutes in the AWS
// provider's own waits (a capacity provider still in use, say) still leaves
// every later attempt its full budget. (go-retry's WithMaxDuration, used
// before, counts from the first attempt, so such a first attempt left no
// retry at all.) The zero value, or any zero field, means the default.
type DestroyPolicy struct {
	// Attempts is how many times terraform destroy runs at most.
	Attempts int
	// AttemptTimeout is each attempt's own budget. When it runs out,
	// terraform is asked to stop (it saves state and releases the lock) and
	// the next attempt carries on from the saved state.
	AttemptTimeout time.Duration
	// Pauses are the waits before the second, third, … attempt; the last
	// one repeats.
	Pauses []time.Duration
	// Now and Sleep are the clock pauses and durations are measured on; nil
	// means the wall clock. Tests inject a fake one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults of DestroyPolicy: three attempts of at most 25 minutes each, 30 s
// and then 1 min apart. An attempt's budget is longer than the AWS
// provider's longest single wait in the stack (aws_ecs_service's 20-minute
// delete timeout, while its tasks drain), so a budget only cuts an attempt
// that is stuck; the destroy's overall --timeout (45m by default) still caps
// the whole.
const (
	DefaultDestroyAttempts       = 3
	DefaultDestroyAttemptTimeout = 25 * time.Minute
)

// DefaultDestroyPauses are the default waits between attempts.
func DefaultDestroyPauses() []time.Duration { return []time.Duration{30 * time.Second, time.Minute} }

func (p DestroyPolicy) withDefaults() DestroyPolicy {
	if p.Attempts <= 0 {
		p.Attempts = DefaultDestroyAttempts
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = DefaultDestroyAttemptTimeout
	}
	if len(p.Pauses) == 0 {
		p.Pauses = DefaultDestroyPauses()
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

// pause is the wait after attempt n (1-based).
func (p DestroyPolicy) pause(n int) time.Duration {
	return p.Pauses[min(n, len(p.Pauses))-1]
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

// DestroyWithRetry runs terraform destroy, and again after a pause while AWS
// reports that something is still draining or an attempt ran out of its own
// budget, at most p.Attempts times. Any other error ends it at once, and so
// does ctx (the destroy's overall deadline, or an interrupt).
func DestroyWithRetry(ctx context.Context, r Runner, p DestroyPolicy, log *progress.Logger) error {
	p = p.withDefaults()
	for n := 1; ; n++ {
		start := p.Now()
		attemptCtx, cancel := context.WithTimeout(ctx, p.AttemptTimeout)
		err := r.Destroy(attemptCtx)
		outOfBudget := ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded)
		cancel()
		took := progress.Duration(p.Now().Sub(start))
		var why string
		switch {
		case err == nil:
			return nil
		case outOfBudget:
			why = fmt.Sprintf("ran out of its %s budget (terraform was asked to stop and save state)", progress.Duration(p.AttemptTimeout))
			err = fmt.Errorf("terraform destroy attempt %d of %d %s", n, p.Attempts, why)
		case IsDraining(err):
			why = fmt.Sprintf("stopped after %s while AWS is still draining dependencies (%s)", took, drainingReason(err))
		default:
			return err
		}
		if n >= p.Attempts {
			log.Printf("destroy attempt %d of %d %s; no attempts left", n, p.Attempts, why)
			return fmt.Errorf("%w (gave up after %s; rerun destroy: it carries on from the saved state)", err, progress.Plural(n, "attempt", "attempts"))
		}
		wait := p.pause(n)
		log.Printf("destroy attempt %d of %d %s; trying again in %s", n, p.Attempts, why, progress.Duration(wait))
		if err := p.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("terraform destroy: interrupted while waiting to try again: %w", err)
		}
	}
}

// drainingReason is the draining error's name as found in err's text.
func drainingReason(err error) string {
	msg := errorText(err)
	for _, s := range drainingErrors() {
		if strings.Contains(msg, s) {
			return s
		}
	}
	return "in use"
}
