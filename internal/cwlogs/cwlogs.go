// Package cwlogs reads an ECS service's CloudWatch Logs: the events of its
// log group since a time, optionally one task's streams only or those that
// match a filter pattern, once or followed as they arrive.
//
// Following polls FilterLogEvents rather than using StartLiveTail: polling
// works with every endpoint (moto, the fake, VPC endpoints without event
// streams), needs only logs:FilterLogEvents, and with de-duplication by event
// ID shows each event once even when it is ingested late.
package cwlogs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// API is the part of CloudWatch Logs the reader uses, shaped like the SDK
// client so that *cloudwatchlogs.Client fits.
type API interface {
	FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error)
}

var _ API = (*cloudwatchlogs.Client)(nil)

// Clock is the time a follow polls by; tests inject a virtual one.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx is done, whichever is first.
	Sleep(ctx context.Context, d time.Duration) error
}

// Query says which events to read.
type Query struct {
	LogGroup string
	Since    time.Time // events at or after it
	// StreamPrefix narrows the read to streams whose name starts with it
	// (FilterLogEvents' logStreamNamePrefix).
	StreamPrefix string
	// TaskID keeps only streams of that task: the awslogs driver names them
	// <prefix>/<container>/<task-id>.
	TaskID string
	// Filter is a CloudWatch Logs filter pattern, such as ERROR or "exit code".
	Filter string
}

// Event is one log event.
type Event struct {
	ID      string
	Time    time.Time
	Stream  string
	Task    string // from the stream name; empty when it has no awslogs shape
	Message string
}

// TaskOfStream returns the task ID in an awslogs stream name
// (<prefix>/<container>/<task-id>), or "" when the name has no such shape.
func TaskOfStream(stream string) string {
	parts := strings.Split(stream, "/")
	if len(parts) < 3 {
		return ""
	}
	return parts[len(parts)-1]
}

// TaskStreamPrefix is the stream-name prefix of one task's container when
// the awslogs stream prefix is known: <prefix>/<container>/<task-id>.
func TaskStreamPrefix(prefix, container, task string) string {
	return prefix + "/" + container + "/" + task
}

// LogGroupNotFoundError says the log group does not exist.
type LogGroupNotFoundError struct {
	LogGroup string
	Err      error
}

// Error says what happened and what to do next.
func (e *LogGroupNotFoundError) Error() string {
	return fmt.Sprintf("log group %s not found: check --log-group and --region, or run provision (it creates the stack's log group)", e.LogGroup)
}

// Unwrap returns the API error.
func (e *LogGroupNotFoundError) Unwrap() error { return e.Err }

// DefaultPollInterval is how often a follow asks for new events.
const DefaultPollInterval = 2 * time.Second

// DefaultLookback is how far behind the newest event a follow still looks
// for events ingested late (CloudWatch Logs accepts events up to two hours
// old; the awslogs driver sends within seconds).
const DefaultLookback = 30 * time.Second

// Reader reads log events.
type Reader struct {
	API          API
	Clock        Clock
	PollInterval time.Duration // zero means DefaultPollInterval
	Lookback     time.Duration // zero means DefaultLookback
	// Retryable says which read errors a follow outlasts (throttling, 5xx,
	// a dropped connection) by trying again at the next poll; nil means
	// none, and any error ends the follow.
	Retryable func(error) bool
}

// Fetch returns every event q matches, oldest first, reading all pages.
func (r *Reader) Fetch(ctx context.Context, q Query) ([]Event, error) {
	return r.fetch(ctx, q, q.Since)
}

func (r *Reader) fetch(ctx context.Context, q Query, since time.Time) ([]Event, error) {
	in := &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String(q.LogGroup)}
	if !since.IsZero() {
		in.StartTime = aws.Int64(since.UnixMilli())
	}
	if q.StreamPrefix != "" {
		in.LogStreamNamePrefix = aws.String(q.StreamPrefix)
	}
	if q.Filter != "" {
		in.FilterPattern = aws.String(q.Filter)
	}
	var events []Event
	seenTokens := map[string]bool{}
	for {
		out, err := r.API.FilterLogEvents(ctx, in)
		if err != nil {
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				return nil, &LogGroupNotFoundError{LogGroup: q.LogGroup, Err: err}
			}
			return nil, fmt.Errorf("filter log events of %s: %w (the role needs logs:FilterLogEvents)", q.LogGroup, err)
		}
		for _, e := range out.Events {
			ev := Event{
				ID: aws.ToString(e.EventId), Time: time.UnixMilli(aws.ToInt64(e.Timestamp)).UTC(),
				Stream: aws.ToString(e.LogStreamName), Message: strings.TrimRight(aws.ToString(e.Message), "\n"),
			}
			ev.Task = TaskOfStream(ev.Stream)
			if q.TaskID != "" && ev.Task != q.TaskID {
				continue
			}
			events = append(events, ev)
		}
		next := aws.ToString(out.NextToken)
		// A token seen before would loop for ever: the API ends a read by
		// omitting it, but be safe against an endpoint that repeats it.
		if next == "" || seenTokens[next] {
			break
		}
		seenTokens[next] = true
		in.NextToken = aws.String(next)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.Before(events[j].Time) })
	return events, nil
}

// Follow emits the events q matches, then polls for new ones until ctx ends,
// each event once. It returns ctx's error when ctx ends, or the first error
// of a read or of emit.
func (r *Reader) Follow(ctx context.Context, q Query, emit func(Event) error) error {
	interval := r.PollInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	lookback := r.Lookback
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	seen := map[string]time.Time{} // event ID → its timestamp, within the lookback
	since := q.Since
	for {
		events, err := r.fetch(ctx, q, since)
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && (r.Retryable == nil || !r.Retryable(err)):
			return err
		}
		newest := time.Time{}
		for _, e := range events {
			if e.Time.After(newest) {
				newest = e.Time
			}
			if _, ok := seen[e.ID]; ok && e.ID != "" {
				continue
			}
			seen[e.ID] = e.Time
			if err := emit(e); err != nil {
				return err
			}
		}
		// Look again from a little before the newest event, for events
		// ingested late; forget IDs that fell out of that window.
		if !newest.IsZero() && newest.Add(-lookback).After(since) {
			since = newest.Add(-lookback)
			for id, at := range seen {
				if at.Before(since) {
					delete(seen, id)
				}
			}
		}
		if err := r.Clock.Sleep(ctx, interval); err != nil {
			return err
		}
	}
}
