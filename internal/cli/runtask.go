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

// defaultRunTaskTimeout is how long run-task waits for the task to stop.
const defaultRunTaskTimeout = 30 * time.Minute

func runTaskCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "run-task",
		Usage: "run a one-off task (such as a migration) of the service's revision on its network, and wait for it to stop",
		Description: "Starts one task with RunTask (startedBy graviton-cd) of the revision the service runs, or\n" +
			"--task-definition, with the service's capacity provider strategy or launch type, network\n" +
			"configuration (subnets, security groups) and placement. --command replaces the container's\n" +
			"command: a shell-words string (\"bin/migrate --to 'v 2'\"), or give --arg once per word.\n" +
			"Follows the task to STOPPED and prints its last log lines. Exit 0 when the container exits 0;\n" +
			"exit 1 otherwise, with its exit code and stop reason. At --timeout the task is stopped (exit 1).\n" +
			"Ctrl-C stops waiting and leaves the task running.",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "task-definition", Usage: "family, family:revision or ARN to run (default: the service's current revision)", EnvVars: envVars("task-definition")},
			&ucli.StringFlag{Name: "container", Usage: "container whose command is replaced and whose exit code counts (default: the stack's container, else the only one)", EnvVars: envVars("container")},
			&ucli.StringFlag{Name: "command", Usage: "command override as one shell-words string, such as \"bin/migrate --to latest\"", EnvVars: envVars("command")},
			&ucli.StringSliceFlag{Name: "arg", Usage: "one word of the command override; repeat it (instead of --command)"},
			&ucli.DurationFlag{Name: "timeout", Value: defaultRunTaskTimeout, Usage: "how long to wait for the task to stop; then it is stopped (exit 1)", EnvVars: envVars("timeout")},
			&ucli.BoolFlag{Name: "no-wait", Usage: "return once the task has started (result \"started\")", EnvVars: envVars("no-wait")},
			&ucli.IntFlag{Name: "log-lines", Value: 50, Usage: "how many of the task's last log lines to print when it stops (0: none)", EnvVars: envVars("log-lines")},
		}, verbTargetFlags()...),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			req, err := runTaskRequest(c)
			if err != nil {
				return err
			}
			t, err := resolveTarget(c, env, "run-task", true)
			if err != nil {
				return err
			}
			req.Cluster, req.Service, req.Container = t.Cluster, t.Service, t.Container
			cfg, err := env.aws.Load(c.Context, awsx.Options{Region: t.Region, EndpointURL: t.Endpoint})
			if err != nil {
				return err
			}
			logs := &cwlogs.Reader{API: awsx.NewLogs(cfg), Clock: ecsdeploy.WallClock{}}
			return runOneOff(c.Context, env, newDeployer(cfg, env), logs, req, c.Int("log-lines"))
		},
	}
}

// runTaskRequest validates run-task's own flags before any AWS call.
func runTaskRequest(c *ucli.Context) (ecsdeploy.TaskRequest, error) {
	r := ecsdeploy.TaskRequest{TaskDefinition: c.String("task-definition"), Timeout: c.Duration("timeout"), NoWait: c.Bool("no-wait")}
	cmd, args := c.String("command"), c.StringSlice("arg")
	switch {
	case cmd != "" && len(args) > 0:
		return r, config.Usagef("arg", "conflicts with --command: give the command one way")
	case cmd != "":
		words, err := splitShellWords(cmd)
		if err != nil {
			return r, config.Usagef("command", "%v: quote it as a shell would, or give each word with --arg", err)
		}
		if len(words) == 0 {
			return r, config.Usagef("command", "is empty: give a command such as \"bin/migrate\", or leave the flag out to keep the task definition's")
		}
		r.Command = words
	default:
		r.Command = args
	}
	if n := c.Int("log-lines"); n < 0 || n > 10000 {
		return r, config.Usagef("log-lines", "%d is not a line count: use 0 to 10000", n)
	}
	return r, r.Validate()
}

// splitShellWords splits s as a POSIX shell splits words: blanks separate,
// single quotes keep everything, double quotes keep all but \" \\ \$ \`,
// and a backslash outside quotes escapes the next character. Nothing is
// expanded: no variables, globs or command substitution.
func splitShellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has begun (so "" is a word)
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case ch == '"':
			in = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			cur.WriteByte(s[i])
			in = true
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// runTaskResult is the --output json result of run-task; the envelope
// carries the error.
type runTaskResult struct {
	Cluster           string   `json:"cluster"`
	Result            string   `json:"result"`
	TaskARN           *string  `json:"task_arn"`
	TaskID            *string  `json:"task_id"`
	TaskDefinitionARN *string  `json:"task_definition_arn"`
	Container         *string  `json:"container"`
	ExitCode          *int32   `json:"exit_code"`
	StopCode          *string  `json:"stop_code"`
	StoppedReason     *string  `json:"stopped_reason"`
	ContainerReason   *string  `json:"container_reason"`
	LogGroup          *string  `json:"log_group"`
	LogLines          []string `json:"log_lines"`
	DurationSeconds   float64  `json:"duration_seconds"`
}

func runOneOff(ctx context.Context, env *runEnv, d *ecsdeploy.Deployer, logs *cwlogs.Reader, req ecsdeploy.TaskRequest, logLines int) error {
	res, err := d.RunOneOff(ctx, req)
	if config.IsUsage(err) {
		return err
	}
	out := runTaskResult{
		Cluster: res.Cluster, Result: res.Outcome, TaskARN: nullable(res.TaskARN), TaskID: nullable(res.TaskID),
		TaskDefinitionARN: nullable(res.TaskDefinitionARN), Container: nullable(res.Container), ExitCode: res.ExitCode,
		StopCode: nullable(res.StopCode), StoppedReason: nullable(res.StoppedReason), ContainerReason: nullable(res.ContainerReason),
		LogGroup: nullable(res.LogGroup), LogLines: []string{}, DurationSeconds: res.Duration.Round(time.Millisecond).Seconds(),
	}
	stopped := res.Outcome == ecsdeploy.TaskSucceeded || res.Outcome == ecsdeploy.TaskFailed || res.Outcome == ecsdeploy.TaskTimedOut
	if stopped && res.TaskID != "" && logLines > 0 {
		out.LogLines = taskLogTail(ctx, env, logs, res, logLines)
	}
	if perr := env.result(runTaskSummary(res), out); perr != nil {
		env.log.Printf("print result: %v", perr)
	}
	return err
}

// taskLogTail prints and returns the last n lines of the task's container
// log, read as logs reads them. The awslogs driver flushes as the container
// stops, so an empty log is read again a few times before giving up.
func taskLogTail(ctx context.Context, env *runEnv, logs *cwlogs.Reader, res ecsdeploy.TaskResult, n int) []string {
	if res.LogGroup == "" || res.LogStreamPrefix == "" {
		env.log.Printf("task %s: container %s does not log to CloudWatch Logs (awslogs with a stream prefix); no log to show", res.TaskID, res.Container)
		return []string{}
	}
	q := cwlogs.Query{LogGroup: res.LogGroup, TaskID: res.TaskID,
		StreamPrefix: cwlogs.TaskStreamPrefix(res.LogStreamPrefix, res.Container, res.TaskID)}
	var events []cwlogs.Event
	for try := 0; try < 3; try++ {
		var err error
		if events, err = logs.Fetch(ctx, q); err != nil {
			env.log.Printf("no log of task %s: %v", res.TaskID, err)
			return []string{}
		}
		if len(events) > 0 || logs.Clock.Sleep(ctx, 2*time.Second) != nil {
			break
		}
	}
	if len(events) == 0 {
		env.log.Printf("log %s %s is empty", q.LogGroup, q.StreamPrefix)
		return []string{}
	}
	events = events[max(0, len(events)-n):]
	env.log.Printf("last %d log lines of container %s in task %s (%s %s):", len(events), res.Container, res.TaskID, q.LogGroup, q.StreamPrefix)
	lines := make([]string, 0, len(events))
	for _, e := range events {
		env.log.Printf("  | %s", e.Message)
		lines = append(lines, logLine(e))
	}
	return lines
}

func runTaskSummary(r ecsdeploy.TaskResult) string {
	took := r.Duration.Round(time.Second)
	switch r.Outcome {
	case ecsdeploy.TaskSucceeded:
		return fmt.Sprintf("run-task succeeded: task %s of %s exited 0 (%s)", r.TaskID, r.TaskDefinitionARN, took)
	case ecsdeploy.TaskStarted:
		return fmt.Sprintf("run-task started: task %s of %s (not followed: --no-wait)", r.TaskID, r.TaskDefinitionARN)
	case ecsdeploy.TaskTimedOut:
		return fmt.Sprintf("run-task timed out: task %s of %s still ran after %s and was stopped", r.TaskID, r.TaskDefinitionARN, took)
	case ecsdeploy.TaskInterrupted:
		return fmt.Sprintf("run-task interrupted: task %s of %s keeps running", r.TaskID, r.TaskDefinitionARN)
	}
	if r.TaskID == "" {
		return "run-task failed: no task was started"
	}
	code := "no exit code"
	if r.ExitCode != nil {
		code = fmt.Sprintf("exit code %d", *r.ExitCode)
	}
	return fmt.Sprintf("run-task failed: task %s of %s stopped with %s: %s (%s)", r.TaskID, r.TaskDefinitionARN, code, r.StoppedReason, took)
}
