package terraform

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sethvargo/go-retry"

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
	msg := err.Error()
	for _, s := range drainingErrors() {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// DefaultDestroyBackoff retries draining errors for up to about ten minutes.
func DefaultDestroyBackoff() retry.Backoff {
	return retry.WithMaxDuration(10*time.Minute, retry.WithCappedDuration(time.Minute, retry.NewExponential(15*time.Second)))
}

// DestroyWithRetry runs terraform destroy, and again after a pause while AWS
// reports that something is still draining. Any other error ends it at once.
func DestroyWithRetry(ctx context.Context, r Runner, b retry.Backoff, log *progress.Logger) error {
	attempt := 0
	return retry.Do(ctx, b, func(ctx context.Context) error {
		attempt++
		err := r.Destroy(ctx)
		if IsDraining(err) {
			log.Printf("destroy attempt %d stopped while AWS is still draining dependencies; trying again", attempt)
			return retry.RetryableError(err)
		}
		return err
	})
}
