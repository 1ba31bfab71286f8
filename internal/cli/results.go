package cli

// The result of each subcommand in the --output json envelope. The CLI owns
// these shapes (docs/schema/output.schema.json): absent values are null,
// never "", times are RFC 3339 in UTC, and plan changes and leftovers are
// objects rather than sentences.

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/buildinfo"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// nullable is s, or nil (JSON null) when s is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// timeUTC is t in RFC 3339, UTC, or nil when t is zero.
func timeUTC(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// orEmpty keeps a list a list (JSON []), never null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

type versionResult struct {
	Version string  `json:"version"`
	Commit  *string `json:"commit"` // null in a build without release stamping
	Date    *string `json:"date"`
}

func newVersionResult() versionResult {
	r := versionResult{Version: buildinfo.Version}
	if buildinfo.Commit != "none" {
		r.Commit = nullable(buildinfo.Commit)
	}
	if buildinfo.Date != "unknown" {
		r.Date = nullable(buildinfo.Date)
	}
	return r
}

// change is one resource change of a plan.
type change struct {
	Action  string `json:"action"` // create, update, delete, replace, import, ...
	Address string `json:"address"`
}

// parseChange splits terraform's "create aws_vpc.this" line.
func parseChange(s string) change {
	action, address, ok := strings.Cut(s, " ")
	if !ok {
		return change{Action: "unknown", Address: s}
	}
	return change{Action: action, Address: address}
}

// resourceRef is a resource destroy found tagged with the stack.
type resourceRef struct {
	Kind string `json:"kind"` // such as "ec2 vpc", "ecs cluster", "tagged"
	ID   string `json:"id"`   // ID, name or ARN
}

// parseResource splits the leftover checker's "kind id" (the kind may hold
// a space; an ID or ARN never does).
func parseResource(s string) resourceRef {
	i := strings.LastIndex(s, " ")
	if i < 0 {
		return resourceRef{Kind: "unknown", ID: s}
	}
	return resourceRef{Kind: s[:i], ID: s[i+1:]}
}

func parseResources(in []string) []resourceRef {
	out := make([]resourceRef, 0, len(in))
	for _, s := range in {
		out = append(out, parseResource(s))
	}
	return out
}

type planResult struct {
	Import  int      `json:"import"`
	Add     int      `json:"add"`
	Change  int      `json:"change"`
	Destroy int      `json:"destroy"`
	Changes []change `json:"changes"`
}

type outputsResult struct {
	StackName     *string `json:"stack_name"`
	Region        *string `json:"region"`
	Cluster       *string `json:"cluster_name"`
	Service       *string `json:"service_name"`
	ContainerName *string `json:"container_name"`
	TaskFamily    *string `json:"task_definition_family"`
	ALBDNSName    *string `json:"alb_dns_name"`
	URL           *string `json:"url"`
	LogGroup      *string `json:"log_group"`
}

func newOutputsResult(o stack.Outputs) outputsResult {
	return outputsResult{
		StackName: nullable(o.StackName), Region: nullable(o.Region), Cluster: nullable(o.Cluster),
		Service: nullable(o.Service), ContainerName: nullable(o.ContainerName), TaskFamily: nullable(o.TaskFamily),
		ALBDNSName: nullable(o.ALBDNSName), URL: nullable(o.URL), LogGroup: nullable(o.LogGroup),
	}
}

type provisionResult struct {
	Stack     string         `json:"stack"`
	Dir       string         `json:"dir"`
	Mode      string         `json:"mode"` // render-only, plan-only, apply
	StackID   *string        `json:"stack_id"`
	Ephemeral bool           `json:"ephemeral"`
	State     *string        `json:"state"`
	Plan      *planResult    `json:"plan"`    // null with --render-only
	Outputs   *outputsResult `json:"outputs"` // null unless applied
}

func newProvisionResult(r stack.ProvisionResult) provisionResult {
	out := provisionResult{
		Stack: r.Stack, Dir: r.Dir, Mode: r.Mode, StackID: nullable(r.StackID),
		Ephemeral: r.Ephemeral, State: nullable(r.State),
	}
	if p := r.Plan; p != nil {
		out.Plan = &planResult{Import: p.Import, Add: p.Add, Change: p.Change, Destroy: p.Destroy, Changes: []change{}}
		for _, c := range p.Changes {
			out.Plan.Changes = append(out.Plan.Changes, parseChange(c))
		}
	}
	if r.Outputs != nil {
		o := newOutputsResult(*r.Outputs)
		out.Outputs = &o
	}
	return out
}

type destroyResult struct {
	Stack               string        `json:"stack"`
	Dir                 string        `json:"dir"`
	StackID             *string       `json:"stack_id"`
	Ephemeral           bool          `json:"ephemeral"`
	Destroyed           int           `json:"destroyed"`
	Deregistered        []string      `json:"deregistered_task_definitions"`
	Terminated          []string      `json:"terminated_instances"`
	Leftovers           []resourceRef `json:"leftovers"`
	NotOwned            []resourceRef `json:"not_owned"`
	NothingToDestroy    bool          `json:"nothing_to_destroy"`
	SkippedNotEphemeral bool          `json:"skipped_not_ephemeral"`
}

func newDestroyResult(r stack.DestroyResult) destroyResult {
	return destroyResult{
		Stack: r.Stack, Dir: r.Dir, StackID: nullable(r.StackID), Ephemeral: r.Ephemeral, Destroyed: r.Destroyed,
		Deregistered: orEmpty(r.Deregistered), Terminated: orEmpty(r.Terminated),
		Leftovers: parseResources(r.Leftovers), NotOwned: parseResources(r.NotOwned),
		NothingToDestroy: r.NothingToDestroy, SkippedNotEphemeral: r.SkippedNotEphemeral,
	}
}

type smokeCheckResult struct {
	Name            string   `json:"name"`
	Method          string   `json:"method"`
	URL             string   `json:"url"`
	Passed          bool     `json:"passed"`
	Attempts        int      `json:"attempts"`
	PassesInARow    int      `json:"passes_in_a_row"`
	PassesRequired  int      `json:"passes_required"`
	DurationSeconds float64  `json:"duration_seconds"`
	Failure         *string  `json:"failure"`         // null when it passed
	LastStatus      *int     `json:"last_status"`     // null when no answer came
	LastLatencyMS   *float64 `json:"last_latency_ms"` // null when no answer came
}

type smokeTestResult struct {
	Passed          bool               `json:"passed"`
	Started         *string            `json:"started"`
	DurationSeconds float64            `json:"duration_seconds"`
	Checks          []smokeCheckResult `json:"checks"`
}

func newSmokeTestResult(r *smoketest.Report) smokeTestResult {
	out := smokeTestResult{Passed: r.Passed, Started: timeUTC(r.Started), DurationSeconds: r.DurationSeconds, Checks: []smokeCheckResult{}}
	for _, c := range r.Checks {
		cr := smokeCheckResult{
			Name: c.Name, Method: c.Method, URL: c.URL, Passed: c.Passed, Attempts: c.Attempts,
			PassesInARow: c.PassesInARow, PassesRequired: c.PassesRequired, DurationSeconds: c.DurationSeconds,
			Failure: nullable(c.Failure),
		}
		if c.LastStatus != 0 {
			cr.LastStatus = &c.LastStatus
			cr.LastLatencyMS = &c.LastLatencyMS
		}
		out.Checks = append(out.Checks, cr)
	}
	return out
}

type statusResult struct {
	Stack        string                   `json:"stack"`
	Steady       bool                     `json:"steady"`
	NotSteady    []string                 `json:"not_steady"`
	Outputs      outputsResult            `json:"outputs"`
	Service      stack.ServiceStatus      `json:"service"`
	Deployments  []statusDeploymentResult `json:"deployments"`
	RunningTasks []statusTaskResult       `json:"running_tasks"`
	StoppedTasks []statusTaskResult       `json:"stopped_tasks"`
	Targets      []statusTargetResult     `json:"targets"`
	Events       []statusEventResult      `json:"events"`
}

type statusDeploymentResult struct {
	ID             string   `json:"id"`
	Status         string   `json:"status"`
	RolloutState   *string  `json:"rollout_state"`
	RolloutReason  *string  `json:"rollout_reason"`
	TaskDefinition string   `json:"task_definition"`
	Images         []string `json:"images"`
	Desired        int32    `json:"desired"`
	Running        int32    `json:"running"`
	Pending        int32    `json:"pending"`
	Failed         int32    `json:"failed"`
	CreatedAt      *string  `json:"created_at"`
	UpdatedAt      *string  `json:"updated_at"`
}

type statusContainerResult struct {
	Name       string  `json:"name"`
	LastStatus string  `json:"last_status"`
	ExitCode   *int32  `json:"exit_code"`
	Reason     *string `json:"reason"`
}

type statusTaskResult struct {
	ARN            string                  `json:"arn"`
	LastStatus     string                  `json:"last_status"`
	TaskDefinition string                  `json:"task_definition"`
	StoppedReason  *string                 `json:"stopped_reason"`
	StopCode       *string                 `json:"stop_code"`
	StartedAt      *string                 `json:"started_at"`
	StoppedAt      *string                 `json:"stopped_at"`
	Containers     []statusContainerResult `json:"containers"`
}

type statusTargetResult struct {
	ID          string  `json:"id"`
	Port        int32   `json:"port"`
	State       string  `json:"state"`
	Reason      *string `json:"reason"`
	Description *string `json:"description"`
}

type statusEventResult struct {
	At      *string `json:"at"`
	Message string  `json:"message"`
}

func timePtrUTC(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return timeUTC(*t)
}

func newStatusResult(r stack.StatusReport) statusResult {
	out := statusResult{
		Stack: r.Stack, Steady: r.Steady, NotSteady: orEmpty(r.NotSteady), Outputs: newOutputsResult(r.Outputs),
		Service: r.Service, Deployments: []statusDeploymentResult{}, RunningTasks: []statusTaskResult{},
		StoppedTasks: []statusTaskResult{}, Targets: []statusTargetResult{}, Events: []statusEventResult{},
	}
	for _, d := range r.Deployments {
		out.Deployments = append(out.Deployments, statusDeploymentResult{
			ID: d.ID, Status: d.Status, RolloutState: nullable(d.RolloutState), RolloutReason: nullable(d.RolloutReason),
			TaskDefinition: d.TaskDefinition, Images: orEmpty(d.Images), Desired: d.Desired, Running: d.Running,
			Pending: d.Pending, Failed: d.Failed, CreatedAt: timeUTC(d.CreatedAt), UpdatedAt: timeUTC(d.UpdatedAt),
		})
	}
	tasks := func(in []stack.TaskStatus) []statusTaskResult {
		res := []statusTaskResult{}
		for _, t := range in {
			tr := statusTaskResult{
				ARN: t.ARN, LastStatus: t.LastStatus, TaskDefinition: t.TaskDefinition,
				StoppedReason: nullable(t.StoppedReason), StopCode: nullable(t.StopCode),
				StartedAt: timePtrUTC(t.StartedAt), StoppedAt: timePtrUTC(t.StoppedAt),
				Containers: []statusContainerResult{},
			}
			for _, c := range t.Containers {
				tr.Containers = append(tr.Containers, statusContainerResult{Name: c.Name, LastStatus: c.LastStatus, ExitCode: c.ExitCode, Reason: nullable(c.Reason)})
			}
			res = append(res, tr)
		}
		return res
	}
	out.RunningTasks, out.StoppedTasks = tasks(r.RunningTasks), tasks(r.StoppedTasks)
	for _, t := range r.Targets {
		out.Targets = append(out.Targets, statusTargetResult{ID: t.ID, Port: t.Port, State: t.State, Reason: nullable(t.Reason), Description: nullable(t.Description)})
	}
	for _, e := range r.Events {
		out.Events = append(out.Events, statusEventResult{At: timeUTC(e.At), Message: e.Message})
	}
	return out
}

// iamPolicyResult carries the policy document as it is printed in text mode.
type iamPolicyResult struct {
	Policy json.RawMessage `json:"policy"`
}
