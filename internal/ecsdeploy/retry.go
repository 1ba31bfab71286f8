package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/sethvargo/go-retry"
)

// throttleCode reports whether an AWS error code means "slow down": the
// request was turned away, not acted on.
func throttleCode(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
		"RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
		"ProvisionedThroughputExceededException", "SlowDown":
		return true
	}
	return false
}

// retryableCode reports whether an AWS error code means "slow down" or a
// transient fault on AWS's side.
func retryableCode(code string) bool {
	switch code {
	case "ServerException", "ServiceUnavailable", "ServiceUnavailableException", "InternalFailure", "InternalError",
		"RequestTimeout", "RequestTimeoutException":
		return true
	}
	return throttleCode(code)
}

// throttled reports whether err is AWS turning the request away to slow the
// caller down.
func throttled(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && throttleCode(api.ErrorCode())
}

// noAnswerError says one AWS call got no answer within the Deployer's
// CallTimeout. It is retryable, like a network error; it deliberately does
// not unwrap to context.DeadlineExceeded, which means the deploy's own
// deadline.
type noAnswerError struct {
	after time.Duration
}

func (e *noAnswerError) Error() string {
	return fmt.Sprintf("no answer within %s", e.after)
}

// withCallTimeout makes one AWS call with a deadline of its own
// (CallTimeout), so that a hung call costs one attempt and not the deploy's
// whole --timeout. Running out of it is a *noAnswerError; ctx ending is
// still ctx's error.
func withCallTimeout[T any](ctx context.Context, d *Deployer, call func(context.Context) (T, error)) (T, error) {
	callCtx, cancel := context.WithTimeout(ctx, d.callTimeout())
	defer cancel()
	v, err := call(callCtx)
	if err != nil && ctx.Err() == nil && errors.Is(callCtx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return v, &noAnswerError{after: d.callTimeout()}
	}
	return v, err
}

// withoutSDKRetries turns the SDK's own retryer off for one call that
// callWithRetry or the follow loop retries. Two layers of retries would
// multiply the waits (the standard retryer makes up to 3 attempts with up to
// 20 s between them, inside each of ours) and would repeat a
// RegisterTaskDefinition whose answer was lost without asking whether it took
// effect. With it off, every retry is ours: paced on the injected clock,
// shown in the log, and reconciled where repeating is not safe.
func withoutSDKRetries(o *ecs.Options) {
	o.Retryer = aws.NopRetryer{}
}

// Retryable reports whether err is worth retrying: throttling, a 5xx answer,
// an exhausted SDK retry quota, a network error, or no answer within the
// call's own deadline. Validation and permission errors are not: they fail
// at once.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var noAnswer *noAnswerError
	if errors.As(err, &noAnswer) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) && retryableCode(api.ErrorCode()) {
		return true
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() >= 500 {
		return true
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// newBackoff is the schedule between retries of a throttled or failed call:
// exponential from 1 s, capped at 10 s, with ±20% jitter so that parallel
// pipelines do not retry in lockstep.
func newBackoff() retry.Backoff {
	b := retry.NewExponential(time.Second)
	b = retry.WithCappedDuration(10*time.Second, b)
	return retry.WithJitterPercent(20, b)
}

// clockBackoff waits on an injected Clock instead of a real timer, so that
// go-retry's loop runs on virtual time in tests, and stops at the deadline.
type clockBackoff struct {
	ctx      context.Context
	clock    Clock
	deadline time.Time
	next     retry.Backoff
	onTry    func(d time.Duration)
}

// Next sleeps the next backoff on the clock and then lets go-retry go on.
func (b clockBackoff) Next() (time.Duration, bool) {
	d, stop := b.next.Next()
	if stop || b.clock.Now().Add(d).After(b.deadline) {
		return 0, true
	}
	if b.onTry != nil {
		b.onTry(d)
	}
	if err := b.clock.Sleep(b.ctx, d); err != nil {
		return 0, true
	}
	return 0, false
}

// maxUnreachable is how many times in a row a call is retried when AWS
// cannot be reached at all: an endpoint that never answers is more likely a
// wrong --endpoint-url or network than a blip, and should not hang a
// pipeline until the deadline. Throttling and 5xx answers have no limit.
const maxUnreachable = 5

// callWithRetry runs fn until it succeeds, fails with an error that is not
// Retryable, or ctx or the deadline (on the Deployer's clock) ends. what
// names the call in progress lines.
func callWithRetry[T any](ctx context.Context, d *Deployer, deadline time.Time, what string, fn func(context.Context) (T, error)) (T, error) {
	var last error
	unreachable := 0
	b := clockBackoff{ctx: ctx, clock: d.clock(), deadline: deadline, next: newBackoff(), onTry: func(wait time.Duration) {
		d.Log.Printf("%s: %s; retrying in %s", what, briefError(last), wait.Round(100*time.Millisecond))
	}}
	v, err := retry.DoValue(ctx, b, func(ctx context.Context) (T, error) {
		v, err := fn(ctx)
		if err == nil || !Retryable(err) {
			return v, err
		}
		last = err
		if unreachable = unreachable + 1; !answered(err) && unreachable > maxUnreachable {
			return v, fmt.Errorf("%w (no answer after %d tries: check --endpoint-url, AWS_ENDPOINT_URL and the network)", err, unreachable)
		}
		if answered(err) {
			unreachable = 0
		}
		return v, retry.RetryableError(err)
	})
	if err == nil {
		return v, nil
	}
	if last != nil && ctx.Err() != nil {
		return v, errors.Join(ctx.Err(), last)
	}
	return v, err
}

// answered says whether err came with an answer from AWS (an error code or
// an HTTP status), rather than from not reaching it.
func answered(err error) bool {
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	return errors.As(err, &api) || errors.As(err, &resp) && resp.HTTPStatusCode() > 0
}

// briefError is an error as one short phrase for a progress line: the AWS
// error code and message, or the HTTP status, without the SDK's preamble.
func briefError(err error) string {
	var noAnswer *noAnswerError
	if errors.As(err, &noAnswer) {
		return noAnswer.Error()
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() > 0 {
		return "HTTP " + strconv.Itoa(resp.HTTPStatusCode())
	}
	if resp != nil && resp.Err != nil {
		return resp.Err.Error() // no answer: the transport's reason
	}
	return err.Error()
}
