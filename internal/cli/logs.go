package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/cwlogs"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
)

// defaultLogsSince is how far back logs reads without --since.
const defaultLogsSince = 10 * time.Minute

func logsCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "logs",
		Usage: "print the service's CloudWatch Logs: since a time, one task's, matching a filter, or followed",
		Description: "Reads the stack's log group (its log_group output; --log-group, or the service's awslogs\n" +
			"configuration, otherwise) with FilterLogEvents. Each line is: RFC 3339 UTC time, the first 8\n" +
			"characters of the task ID, the message. --follow keeps polling for new events, each shown once,\n" +
			"until Ctrl-C (exit 0).",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "since", Value: "10m", Usage: "how far back: a duration such as 10m or 2h, or an RFC 3339 time such as 2026-03-01T12:00:00Z", EnvVars: envVars("since")},
			&ucli.BoolFlag{Name: "follow", Usage: "keep printing new events until interrupted (Ctrl-C ends it with exit 0)", EnvVars: envVars("follow")},
			&ucli.StringFlag{Name: "task", Usage: "only this task's events: its ID, or the first characters of it as printed", EnvVars: envVars("task")},
			&ucli.StringFlag{Name: "filter", Usage: "CloudWatch Logs filter pattern, such as ERROR or '\"connection refused\"'", EnvVars: envVars("filter")},
			&ucli.StringFlag{Name: "log-group", Usage: "log group to read (default: the stack's log_group output, else the service's awslogs group)", EnvVars: envVars("log-group")},
			&ucli.StringFlag{Name: "container", Usage: "with --cluster/--service: whose awslogs group to read (default: the first that has one)", EnvVars: envVars("container")},
			&ucli.DurationFlag{Name: "poll-interval", Value: cwlogs.DefaultPollInterval, Usage: "with --follow: how often to ask for new events", EnvVars: envVars("poll-interval")},
		}, verbTargetFlags()...),
		Action: runLogs,
	}
}

// logsResult is the --output json result of logs.
type logsResult struct {
	LogGroup string     `json:"log_group"`
	Since    string     `json:"since"`
	Task     *string    `json:"task"`
	Filter   *string    `json:"filter"`
	Count    int        `json:"count"`
	Events   []logEvent `json:"events"`
}

// logEvent is one event of logsResult.
type logEvent struct {
	ID        string  `json:"id"`
	Timestamp string  `json:"timestamp"` // RFC 3339, UTC
	LogStream string  `json:"log_stream"`
	TaskID    *string `json:"task_id"` // null for a stream without the awslogs shape
	Message   string  `json:"message"`
}

// parseSince reads --since: a duration back from now, or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, config.Usagef("since", "%q is not a positive duration: use one such as 10m or 2h", s)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if t.After(now) {
			return time.Time{}, config.Usagef("since", "%s is in the future: give a time in the past, or a duration such as 10m", s)
		}
		return t.UTC(), nil
	}
	return time.Time{}, config.Usagef("since", "%q is neither a duration (10m, 2h) nor an RFC 3339 time (2026-03-01T12:00:00Z)", s)
}

// logLine is one event as logs prints it.
func logLine(e cwlogs.Event) string {
	task := e.Task
	if len(task) > 8 {
		task = task[:8]
	}
	if task == "" {
		task = "-"
	}
	return fmt.Sprintf("%s %-8s %s", e.Time.UTC().Format(time.RFC3339), task, e.Message)
}

func runLogs(c *ucli.Context) error {
	env, err := newRunEnv(c)
	if err != nil {
		return err
	}
	since, err := parseSince(c.String("since"), time.Now())
	if err != nil {
		return err
	}
	follow := c.Bool("follow")
	if follow && env.json {
		return config.Usagef("follow", "streams text lines: drop --output json, or drop --follow for one JSON result")
	}
	if c.Duration("poll-interval") <= 0 {
		return config.Usagef("poll-interval", "%s is not an interval: use a positive duration such as 2s", c.Duration("poll-interval"))
	}
	task := strings.TrimSpace(c.String("task"))
	if i := strings.LastIndex(task, "/"); i >= 0 {
		task = task[i+1:] // a task ARN names the task too
	}
	t, err := resolveTarget(c, env, "logs", false)
	if err != nil {
		return err
	}
	group := c.String("log-group")
	if group == "" {
		group = t.LogGroup
	}
	if group == "" && (t.Cluster == "" || t.Service == "") {
		return config.Usagef("log-group", "logs needs a log group: pass --name <stack> (with --region), --stack-dir, --log-group, or --cluster and --service")
	}
	cfg, err := env.aws.Load(c.Context, awsx.Options{Region: t.Region, EndpointURL: t.Endpoint})
	if err != nil {
		return err
	}
	q := cwlogs.Query{LogGroup: group, Since: since, Filter: c.String("filter")}
	if group == "" {
		// No stack output: the service's task definition says where it logs.
		d := newDeployer(cfg, env)
		st, err := d.Inspect(c.Context, t.Cluster, t.Service, time.Minute)
		if err != nil {
			return err
		}
		g, prefix, ok := ecsdeploy.AWSLogs(st.TaskDefinition, t.Container)
		if !ok {
			return config.Usagef("log-group", "service %s's task definition has no awslogs log configuration: pass --log-group", t.Service)
		}
		q.LogGroup = g
		if task != "" && t.Container != "" && prefix != "" && len(task) == 32 {
			q.StreamPrefix = cwlogs.TaskStreamPrefix(prefix, t.Container, task)
		}
	}
	reader := &cwlogs.Reader{API: awsx.NewLogs(cfg), Clock: ecsdeploy.WallClock{}, PollInterval: c.Duration("poll-interval"), Retryable: ecsdeploy.Retryable}
	return printLogs(c.Context, env, reader, q, task, follow)
}

// printLogs reads (or follows) q and prints it; task keeps only the events
// of the task whose ID starts with it.
func printLogs(ctx context.Context, env *runEnv, reader *cwlogs.Reader, q cwlogs.Query, task string, follow bool) error {
	keep := func(e cwlogs.Event) bool { return task == "" || strings.HasPrefix(e.Task, task) }
	what := q.LogGroup
	if task != "" {
		what += " (task " + task + ")"
	}
	if follow {
		env.log.Printf("following %s since %s; Ctrl-C ends", what, q.Since.Format(time.RFC3339))
		err := reader.Follow(ctx, q, func(e cwlogs.Event) error {
			if !keep(e) {
				return nil
			}
			_, err := fmt.Fprintln(env.stdout, logLine(e))
			return err
		})
		if errors.Is(err, context.Canceled) {
			return nil // Ctrl-C is how a follow ends
		}
		return logsError(err)
	}
	events, err := reader.Fetch(ctx, q)
	if err != nil {
		return logsError(err)
	}
	res := logsResult{LogGroup: q.LogGroup, Since: q.Since.UTC().Format(time.RFC3339), Events: []logEvent{}}
	if task != "" {
		res.Task = &task
	}
	if q.Filter != "" {
		res.Filter = &q.Filter
	}
	var kept []cwlogs.Event
	for _, e := range events {
		if keep(e) {
			kept = append(kept, e)
			res.Events = append(res.Events, logEvent{ID: e.ID, Timestamp: *timeUTC(e.Time), LogStream: e.Stream, TaskID: nullable(e.Task), Message: e.Message})
		}
	}
	res.Count = len(res.Events)
	if env.json {
		return env.result("", res)
	}
	for _, e := range kept {
		if _, err := fmt.Fprintln(env.stdout, logLine(e)); err != nil {
			return err
		}
	}
	env.log.Printf("%d events from %s since %s", res.Count, what, res.Since)
	return nil
}

// logsError makes a missing log group bad input (exit 2): the flags or the
// stack name something that does not exist, and nothing was changed.
func logsError(err error) error {
	var nf *cwlogs.LogGroupNotFoundError
	if errors.As(err, &nf) {
		return &config.UsageError{Flag: "log-group", Msg: nf.Error()}
	}
	return err
}
