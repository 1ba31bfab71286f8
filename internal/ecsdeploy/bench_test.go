package ecsdeploy

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// The benchmarks below play scripted rollouts through the real SDK client and
// the ecsfake server on a virtual clock: the figures they report are virtual
// seconds and call counts, deterministic and independent of the machine (the
// ns/op is only the cost of simulating). They compare graviton-cd's follow
// with `aws ecs wait services-stable`, judged on the same timeline.
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/ecsdeploy/

// benchTimeline is one scripted rollout and when its verdict is due.
type benchTimeline struct {
	name      string
	frames    []ecsfake.Frame
	verdictAt time.Duration // COMPLETED or FAILED, after UpdateService
	success   bool          // the truth: did the new revision deploy?
}

func benchTimelines() []benchTimeline {
	return []benchTimeline{
		{name: "happy-30s", frames: ecsfake.Happy(2, 30*time.Second), verdictAt: 30 * time.Second, success: true},
		{name: "happy-3m10s", frames: ecsfake.Happy(2, 190*time.Second), verdictAt: 190 * time.Second, success: true},
		{name: "circuit-breaker-30s", frames: ecsfake.CircuitBreaker(2, 30*time.Second, 60*time.Second, cannotPull), verdictAt: 30 * time.Second},
		{name: "circuit-breaker-2m30s", frames: ecsfake.CircuitBreaker(2, 150*time.Second, 60*time.Second, cannotPull), verdictAt: 150 * time.Second},
	}
}

// callStats are DescribeServices calls made from start on: the total, those
// in the first minute, and the most in any 60 s window after it.
func callStats(calls []ecsfake.Call, start time.Time) (total, firstMinute, maxPerMinuteAfter int) {
	var times []time.Duration
	for _, c := range calls {
		if c.Op == "DescribeServices" && !c.At.Before(start) {
			times = append(times, c.At.Sub(start))
		}
	}
	for i, at := range times {
		if at < time.Minute {
			firstMinute++
			continue
		}
		n := 0
		for _, later := range times[i:] {
			if later < at+time.Minute {
				n++
			}
		}
		maxPerMinuteAfter = max(maxPerMinuteAfter, n)
	}
	return len(times), firstMinute, maxPerMinuteAfter
}

func boolMetric(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// shifted delays every frame after the first by d, so that the verdict falls
// at d past a whole second: a poller aligned with the script's whole seconds
// would otherwise look better than it is.
func shifted(frames []ecsfake.Frame, d time.Duration) []ecsfake.Frame {
	out := make([]ecsfake.Frame, len(frames))
	copy(out, frames)
	for i := range out {
		if out[i].At > 0 {
			out[i].At += d
		}
	}
	return out
}

// benchRun is what one follow of one timeline did.
type benchRun struct {
	lag                  time.Duration // from the verdict to the return
	total, first, after  int           // DescribeServices calls (see callStats)
	saysSuccess, correct bool
}

// benchOffsets move the verdict through a whole 15 s period (the waiter's)
// and off whole seconds: ten runs per timeline, 0.037 s to 13.537 s past the
// scripted time, so that neither poller is lucky or unlucky by alignment.
func benchOffsets() []time.Duration {
	var o []time.Duration
	for i := range 10 {
		o = append(o, time.Duration(i)*1500*time.Millisecond+37*time.Millisecond)
	}
	return o
}

func reportRuns(b *testing.B, runs []benchRun) {
	var sum, worst time.Duration
	var total, first, after, says, right int
	for _, r := range runs {
		sum += r.lag
		worst = max(worst, r.lag)
		total = max(total, r.total)
		first = max(first, r.first)
		after = max(after, r.after)
		says += int(boolMetric(r.saysSuccess))
		right += int(boolMetric(r.correct))
	}
	n := float64(len(runs))
	b.ReportMetric(sum.Seconds()/n, "s_after_verdict_mean")
	b.ReportMetric(worst.Seconds(), "s_after_verdict_max")
	b.ReportMetric(float64(total), "describe_calls")
	b.ReportMetric(float64(first), "calls_1st_min")
	b.ReportMetric(float64(after), "max_calls/60s_after")
	b.ReportMetric(float64(says)/n, "says_success")
	b.ReportMetric(float64(right)/n, "verdict_right")
}

func BenchmarkFollow(b *testing.B) {
	for _, tl := range benchTimelines() {
		b.Run("graviton-cd/"+tl.name, func(b *testing.B) {
			var runs []benchRun
			for b.Loop() {
				runs = runs[:0]
				for _, off := range benchOffsets() {
					h := newHarness(b, ecsfake.Options{Rollouts: [][]ecsfake.Frame{shifted(tl.frames, off)}})
					_, err := h.deploy(b, Request{Image: newImage, Container: "app"})
					start := h.srv.RolloutStart()
					r := benchRun{lag: h.clock.Now().Sub(start.Add(tl.verdictAt + off)), saysSuccess: err == nil}
					r.correct = r.saysSuccess == tl.success
					r.total, r.first, r.after = callStats(h.srv.CallLog(), start)
					runs = append(runs, r)
				}
			}
			reportRuns(b, runs)
		})
		b.Run("services-stable/"+tl.name, func(b *testing.B) {
			var runs []benchRun
			for b.Loop() {
				runs = runs[:0]
				for _, off := range benchOffsets() {
					h := newHarness(b, ecsfake.Options{Rollouts: [][]ecsfake.Frame{shifted(tl.frames, off)}})
					if _, err := h.deploy(b, Request{Image: newImage, Container: "app", NoWait: true}); err != nil {
						b.Fatal(err)
					}
					start := h.srv.RolloutStart()
					r := benchRun{saysSuccess: waitServicesStable(h.d.ECS, h.clock, "demo", "web")}
					r.lag = h.clock.Now().Sub(start.Add(tl.verdictAt + off))
					r.correct = r.saysSuccess == tl.success
					r.total, r.first, r.after = callStats(h.srv.CallLog(), start)
					runs = append(runs, r)
				}
			}
			reportRuns(b, runs)
		})
	}
}

// waitServicesStable judges like `aws ecs wait services-stable`: a
// DescribeServices every 15 s, at most 40 times; success when the service has
// exactly one deployment and runningCount == desiredCount, failure when it is
// MISSING, DRAINING or INACTIVE. It does not look at which deployment that is.
func waitServicesStable(api ECSAPI, clock *ecsfake.Clock, cluster, service string) bool {
	ctx := context.Background()
	for range 40 {
		out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
		if err == nil {
			if len(out.Failures) > 0 {
				return false
			}
			s := out.Services[0]
			if st := aws.ToString(s.Status); st == "DRAINING" || st == "INACTIVE" {
				return false
			}
			if len(s.Deployments) == 1 && s.RunningCount == s.DesiredCount {
				return true
			}
		}
		clock.Advance(15 * time.Second)
	}
	return false
}
