package cwlogs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/graviton-cd/graviton-cd/internal/cwlogs"
	"github.com/graviton-cd/graviton-cd/internal/cwlogs/cwlogsfake"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func client(srv *cwlogsfake.Server) *cloudwatchlogs.Client {
	return cloudwatchlogs.New(cloudwatchlogs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func messages(evs []cwlogs.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func TestFetchReadsEveryPageOldestFirst(t *testing.T) {
	srv := cwlogsfake.New(t, "/ecs/demo")
	srv.PageSize = 2
	for i := 5; i >= 1; i-- { // put out of order: the answer is sorted
		srv.Put("/ecs/demo", "app/app/task1", t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("line %d", i))
	}
	srv.Put("/ecs/demo", "app/app/task1", t0.Add(-time.Minute), "too old")
	r := &cwlogs.Reader{API: client(srv), Clock: ecsfake.NewClock(t0)}
	evs, err := r.Fetch(context.Background(), cwlogs.Query{LogGroup: "/ecs/demo", Since: t0})
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(messages(evs))
	if want := "[line 1 line 2 line 3 line 4 line 5]"; got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests for 5 events in pages of 2, want 3", n)
	}
	if evs[0].Task != "task1" || evs[0].Stream != "app/app/task1" || !evs[0].Time.Equal(t0.Add(time.Second)) {
		t.Errorf("first event %+v", evs[0])
	}
}

func TestFetchOneTaskAndFilter(t *testing.T) {
	srv := cwlogsfake.New(t, "/ecs/demo")
	srv.Put("/ecs/demo", "app/app/aaa", t0, "ERROR from aaa")
	srv.Put("/ecs/demo", "app/app/aaa", t0, "ok from aaa")
	srv.Put("/ecs/demo", "app/app/bbb", t0, "ERROR from bbb")
	srv.Put("/ecs/demo", "app/sidecar/aaa", t0, "ERROR from the sidecar of aaa")
	r := &cwlogs.Reader{API: client(srv), Clock: ecsfake.NewClock(t0)}
	cases := []struct {
		name string
		q    cwlogs.Query
		want string
	}{
		{"task by stream suffix", cwlogs.Query{TaskID: "aaa"}, "[ERROR from aaa ok from aaa ERROR from the sidecar of aaa]"},
		{"task by stream prefix", cwlogs.Query{TaskID: "aaa", StreamPrefix: cwlogs.TaskStreamPrefix("app", "app", "aaa")}, "[ERROR from aaa ok from aaa]"},
		{"filter", cwlogs.Query{Filter: "ERROR"}, "[ERROR from aaa ERROR from bbb ERROR from the sidecar of aaa]"},
		{"filter phrase and task", cwlogs.Query{Filter: `"from aaa"`, TaskID: "aaa"}, "[ERROR from aaa ok from aaa]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.LogGroup = "/ecs/demo"
			evs, err := r.Fetch(context.Background(), c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(messages(evs)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestFetchMissingGroup(t *testing.T) {
	srv := cwlogsfake.New(t, "/ecs/demo")
	r := &cwlogs.Reader{API: client(srv), Clock: ecsfake.NewClock(t0)}
	_, err := r.Fetch(context.Background(), cwlogs.Query{LogGroup: "/ecs/nope"})
	var nf *cwlogs.LogGroupNotFoundError
	if !errors.As(err, &nf) || nf.LogGroup != "/ecs/nope" {
		t.Fatalf("err = %v, want LogGroupNotFoundError", err)
	}
}

// scriptedClock runs a step at each Sleep and ends the follow after the last.
type scriptedClock struct {
	*ecsfake.Clock
	steps  []func()
	cancel context.CancelFunc
}

func (c *scriptedClock) Sleep(ctx context.Context, d time.Duration) error {
	if len(c.steps) == 0 {
		c.cancel()
		return context.Canceled
	}
	step := c.steps[0]
	c.steps = c.steps[1:]
	if err := c.Clock.Sleep(ctx, d); err != nil {
		return err
	}
	step()
	return nil
}

func TestFollowPicksUpNewEventsOnce(t *testing.T) {
	srv := cwlogsfake.New(t, "/ecs/demo")
	srv.PageSize = 2
	srv.Put("/ecs/demo", "app/app/t1", t0.Add(1*time.Second), "one")
	srv.Put("/ecs/demo", "app/app/t1", t0.Add(2*time.Second), "two")
	srv.Put("/ecs/demo", "app/app/t1", t0.Add(3*time.Second), "three")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &scriptedClock{Clock: ecsfake.NewClock(t0.Add(3 * time.Second)), cancel: cancel}
	clock.steps = []func(){
		func() {}, // nothing new
		func() { srv.Put("/ecs/demo", "app/app/t1", t0.Add(5*time.Second), "four") },
		// Ingested late: older than the newest event, still within the lookback.
		func() { srv.Put("/ecs/demo", "app/app/t2", t0.Add(4*time.Second), "late") },
		func() { srv.Put("/ecs/demo", "app/app/t1", t0.Add(90*time.Second), "five") },
		func() {},
	}
	r := &cwlogs.Reader{API: client(srv), Clock: clock}
	var got []string
	err := r.Follow(ctx, cwlogs.Query{LogGroup: "/ecs/demo", Since: t0}, func(e cwlogs.Event) error {
		got = append(got, e.Message)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("follow ended with %v, want context.Canceled", err)
	}
	if g, want := fmt.Sprint(got), "[one two three four late five]"; g != want {
		t.Errorf("emitted %s, want %s (each once, in arrival order)", g, want)
	}
	// The later polls start from the newest event minus the lookback, not
	// from the beginning: a long follow does not re-read the whole group.
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if st, _ := last["startTime"].(float64); int64(st) != t0.Add(90*time.Second-cwlogs.DefaultLookback).UnixMilli() {
		t.Errorf("last poll startTime %v, want newest-lookback", last["startTime"])
	}
}

func TestTaskOfStream(t *testing.T) {
	for stream, want := range map[string]string{"app/app/abc": "abc", "p/c/x/abc": "abc", "abc": "", "app/abc": ""} {
		if got := cwlogs.TaskOfStream(stream); got != want {
			t.Errorf("TaskOfStream(%q) = %q, want %q", stream, got, want)
		}
	}
}

// A follow outlasts a throttled or failing read when the reader says it is
// retryable, and ends on one it does not.
func TestFollowOutlastsRetryableErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		retryable func(error) bool
		wantEnd   bool // the follow ends with the read error
	}{
		{"retryable", func(error) bool { return true }, false},
		{"not retryable", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := cwlogsfake.New(t, "/ecs/demo")
			srv.Put("/ecs/demo", "app/app/t1", t0.Add(time.Second), "one")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := &scriptedClock{Clock: ecsfake.NewClock(t0), cancel: cancel}
			clock.steps = []func(){
				func() { srv.FailNext(1, 500, "ServiceUnavailableException") },
				func() { srv.Put("/ecs/demo", "app/app/t1", t0.Add(2*time.Second), "two") },
				func() {},
			}
			// The SDK's own retries are off, so that the follow sees the failure.
			api := cloudwatchlogs.New(cloudwatchlogs.Options{
				Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
			})
			r := &cwlogs.Reader{API: api, Clock: clock, Retryable: c.retryable}
			var got []string
			err := r.Follow(ctx, cwlogs.Query{LogGroup: "/ecs/demo", Since: t0}, func(e cwlogs.Event) error {
				got = append(got, e.Message)
				return nil
			})
			if c.wantEnd {
				if err == nil || errors.Is(err, context.Canceled) {
					t.Fatalf("follow ended with %v, want the read error", err)
				}
				return
			}
			if !errors.Is(err, context.Canceled) || fmt.Sprint(got) != "[one two]" {
				t.Errorf("follow ended with %v after %v, want [one two] and the interrupt", err, got)
			}
		})
	}
}
