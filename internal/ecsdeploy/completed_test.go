package ecsdeploy

import (
	"bufio"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// COMPLETED is not success until every desired task runs and none is
// pending: the verdict waits for the counts, at protocol level.
func TestCompletedWaitsForAllTasks(t *testing.T) {
	tests := []struct {
		name      string
		frames    []ecsfake.Frame
		timeout   time.Duration
		outcome   string
		wantErr   any
		doneAfter time.Duration // when the verdict is due, after the update
		say       []string      // in the progress lines or the error
	}{
		{
			name: "COMPLETED short of desired, then catches up",
			frames: []ecsfake.Frame{
				{At: 0, PriorRunning: 2},
				{At: 20 * time.Second, Running: 1, Rollout: "COMPLETED", PriorGone: true},
				{At: 50 * time.Second, Running: 2, Rollout: "COMPLETED", PriorGone: true},
			},
			outcome: OutcomeSucceeded, doneAfter: 50 * time.Second,
			say: []string{"ECS marks deployment ecs-svc/", "COMPLETED with 1/2 running, 0 pending: waiting until every desired task runs"},
		},
		{
			name: "COMPLETED with a task pending, then running",
			frames: []ecsfake.Frame{
				{At: 0, PriorRunning: 2},
				{At: 20 * time.Second, Running: 2, Pending: 1, Rollout: "COMPLETED", PriorGone: true},
				{At: 60 * time.Second, Running: 2, Rollout: "COMPLETED", PriorGone: true},
			},
			outcome: OutcomeSucceeded, doneAfter: 60 * time.Second,
			say: []string{"COMPLETED with 2/2 running, 1 pending"},
		},
		{
			name: "COMPLETED short until the deadline",
			frames: []ecsfake.Frame{
				{At: 0, PriorRunning: 2},
				{At: 20 * time.Second, Running: 1, Rollout: "COMPLETED", PriorGone: true},
			},
			timeout: 3 * time.Minute, outcome: OutcomeTimedOut, wantErr: new(*DeploymentTimeoutError), doneAfter: 3 * time.Minute,
			say: []string{"did not finish within 3m0s: ECS marked it COMPLETED, but 1 of 2 desired tasks were running (0 pending) when time ran out"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{tt.frames}})
			_, err := h.deployCase(t, Request{Timeout: tt.timeout}, tt.wantErr, tt.outcome)
			got := h.out.String()
			if err != nil {
				got += err.Error()
			}
			for _, s := range tt.say {
				if !strings.Contains(got, s) {
					t.Errorf("want %q in:\n%s", s, got)
				}
			}
			if lag := h.clock.Now().Sub(h.srv.RolloutStart().Add(tt.doneAfter)); lag < 0 || lag > 5*time.Second {
				t.Errorf("verdict %s after it was due, want within 5s", lag)
			}
			if n := h.count("waiting until every desired task runs"); n > 1 {
				t.Errorf("the COMPLETED-but-short note came %d times, want once", n)
			}
		})
	}
}

// A wait with nothing new to say prints a heartbeat a minute after the last
// line, and then every minute, never more often.
func TestHeartbeatWhileNothingChanges(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{stuck()}})
	_, err := h.deployCase(t, Request{Timeout: 4 * time.Minute}, new(*DeploymentTimeoutError), OutcomeTimedOut)
	if err == nil {
		t.Fatal("want a timeout")
	}
	var beats []time.Duration
	var last time.Time
	sc := bufio.NewScanner(strings.NewReader(h.out.String()))
	for sc.Scan() {
		stamp, msg, _ := strings.Cut(sc.Text(), " ")
		at, err := time.Parse(time.RFC3339, stamp)
		if err != nil {
			t.Fatalf("line without a timestamp: %q", sc.Text())
		}
		if !last.IsZero() && at.Sub(last) > time.Minute {
			t.Errorf("%s of silence before %q, want at most 1m", at.Sub(last), msg)
		}
		if strings.HasPrefix(msg, "still waiting: ") {
			if gap := at.Sub(last); gap < time.Minute {
				t.Errorf("heartbeat %s after the previous line, want 1m", gap)
			}
			beats = append(beats, at.Sub(t0))
		}
		last = at
	}
	// The last change (1 pending) is at 10s; the deadline at 4m.
	want := []time.Duration{70 * time.Second, 130 * time.Second, 190 * time.Second}
	if len(beats) != len(want) {
		t.Fatalf("heartbeats at %v, want %v\n%s", beats, want, h.out)
	}
	for i := range want {
		if beats[i] != want[i] {
			t.Errorf("heartbeat %d at %s, want %s", i+1, beats[i], want[i])
		}
	}
	if h.count("still waiting: 0/2 running, 1 pending; 1m10s of 4m") != 1 {
		t.Errorf("heartbeat does not say the counts and the time:\n%s", h.out)
	}
}
