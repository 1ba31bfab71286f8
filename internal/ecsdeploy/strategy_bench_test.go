package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// BenchmarkVerifyRollback measures, on the virtual clock, how long a
// blue/green deployment whose new revision fails its checks keeps the new
// revision in production after the check failed:
//
//   - graviton-cd: deploy --verify-checks runs the checks through the test
//     listener rule and, when one fails, calls StopServiceDeployment
//     ROLLBACK; ECS shifts traffic back to the old revision it kept.
//   - by hand: the user learns of the same failure at the same moment but
//     can only act once the deployment is over: wait for the bake to end,
//     then deploy the old revision again (a second blue/green deployment).
//
// Metrics: seconds from the failed check to the rollback request, and to
// the old revision serving all production traffic again (the fake's scripted
// 30 s rollback for ours; the second deployment's production shift for the
// user's), and the calls that changed the service.
//
//	go test -run '^$' -bench VerifyRollback -benchtime 1x ./internal/ecsdeploy/
func BenchmarkVerifyRollback(b *testing.B) {
	const ready = time.Minute // scale up and test traffic shift, in the fake's timeline
	for _, bake := range []time.Duration{10 * time.Minute, 30 * time.Minute} {
		name := fmt.Sprintf("bake-%dm", bake/time.Minute)
		opts := func() ecsfake.Options {
			return ecsfake.Options{Strategy: "BLUE_GREEN", BakeTimeMinutes: int(bake / time.Minute),
				ServiceDeployments: [][]ecsfake.SDFrame{ecsfake.BlueGreen(ready, bake), ecsfake.BlueGreen(ready, bake)}}
		}
		b.Run("graviton-cd/"+name, func(b *testing.B) {
			var request, serving, mutating float64
			for b.Loop() {
				h := newHarness(b, opts())
				var failedAt time.Time
				v := &verifierFunc{fn: func(context.Context) error {
					failedAt = h.clock.Now()
					return errors.New("check failed")
				}}
				res, err := h.deploy(b, Request{Image: newImage, Container: "app", Verify: v})
				if res.Outcome != OutcomeRolledBack || !errors.As(err, new(*VerificationFailedError)) {
					b.Fatalf("outcome %s, %v", res.Outcome, err)
				}
				stopAt := lastCall(h.srv.CallLog(), "StopServiceDeployment")
				request = stopAt.Sub(failedAt).Seconds()
				serving = h.clock.Now().Sub(failedAt).Seconds() // deploy returns at ROLLBACK_SUCCESSFUL
				mutating = float64(h.srv.Calls("UpdateService") + h.srv.Calls("StopServiceDeployment"))
			}
			b.ReportMetric(request, "s_fail_to_rollback_request")
			b.ReportMetric(serving, "s_fail_to_old_serving")
			b.ReportMetric(mutating, "service_changes")
		})
		b.Run("by-hand/"+name, func(b *testing.B) {
			var request, serving, mutating float64
			for b.Loop() {
				h := newHarness(b, opts())
				// The check fails when test traffic first reaches the new
				// revision, as in graviton-cd's run: the end of the test
				// traffic shift in the fake's timeline.
				if _, err := h.deploy(b, Request{Image: newImage, Container: "app"}); err != nil {
					b.Fatal(err) // ECS calls it SUCCESSFUL: the bake saw no alarm
				}
				failedAt := h.srv.RolloutStart().Add(ready)
				if _, err := h.deploy(b, Request{Image: "example.com/web:1", Container: "app"}); err != nil {
					b.Fatal(err)
				}
				redeployAt := lastCall(h.srv.CallLog(), "UpdateService")
				request = redeployAt.Sub(failedAt).Seconds()
				// The old revision has production traffic again at the second
				// deployment's production shift.
				serving = redeployAt.Add(ready + 2*time.Second).Sub(failedAt).Seconds()
				mutating = float64(h.srv.Calls("UpdateService") + h.srv.Calls("StopServiceDeployment"))
			}
			b.ReportMetric(request, "s_fail_to_rollback_request")
			b.ReportMetric(serving, "s_fail_to_old_serving")
			b.ReportMetric(mutating, "service_changes")
		})
	}
}

// lastCall is when op was last called.
func lastCall(calls []ecsfake.Call, op string) time.Time {
	var at time.Time
	for _, c := range calls {
		if c.Op == op {
			at = c.At
		}
	}
	return at
}
