package stack

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// StatusECS is what status reads from ECS.
type StatusECS interface {
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	ListTasks(context.Context, *ecs.ListTasksInput, ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(context.Context, *ecs.DescribeTasksInput, ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
}

// StatusELB is what status reads from Elastic Load Balancing.
type StatusELB interface {
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// StatusRequest says what status looks at and how much of it to show.
type StatusRequest struct {
	Stack   string
	Outputs Outputs
	Events  int // last service events shown; 0 means 10
	Stopped int // recently stopped tasks shown; 0 means 5
}

// StatusReport is what a person debugging a pipeline wants first. It is read
// only: status changes nothing.
type StatusReport struct {
	Stack        string             `json:"stack"`
	Steady       bool               `json:"steady"`
	NotSteady    []string           `json:"not_steady"` // why not, one reason each
	Outputs      Outputs            `json:"outputs"`
	Service      ServiceStatus      `json:"service"`
	Deployments  []DeploymentStatus `json:"deployments"`
	RunningTasks []TaskStatus       `json:"running_tasks"`
	StoppedTasks []TaskStatus       `json:"stopped_tasks"`
	Targets      []TargetStatus     `json:"targets"`
	Events       []EventStatus      `json:"events"`
}

// ServiceStatus is the service's own counts.
type ServiceStatus struct {
	Name           string `json:"name"`
	Cluster        string `json:"cluster"`
	Status         string `json:"status"`
	TaskDefinition string `json:"task_definition"`
	Desired        int32  `json:"desired"`
	Running        int32  `json:"running"`
	Pending        int32  `json:"pending"`
}

// DeploymentStatus is one of the service's deployments.
type DeploymentStatus struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"` // PRIMARY, ACTIVE
	RolloutState   string    `json:"rollout_state,omitempty"`
	RolloutReason  string    `json:"rollout_reason,omitempty"`
	TaskDefinition string    `json:"task_definition"`
	Images         []string  `json:"images"`
	Desired        int32     `json:"desired"`
	Running        int32     `json:"running"`
	Pending        int32     `json:"pending"`
	Failed         int32     `json:"failed"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// TaskStatus is one task.
type TaskStatus struct {
	ARN            string            `json:"arn"`
	LastStatus     string            `json:"last_status"`
	TaskDefinition string            `json:"task_definition"`
	StoppedReason  string            `json:"stopped_reason,omitempty"`
	StopCode       string            `json:"stop_code,omitempty"`
	StartedAt      *time.Time        `json:"started_at,omitempty"`
	StoppedAt      *time.Time        `json:"stopped_at,omitempty"`
	Containers     []ContainerStatus `json:"containers"`
}

// ContainerStatus is one container of a task.
type ContainerStatus struct {
	Name       string `json:"name"`
	LastStatus string `json:"last_status"`
	ExitCode   *int32 `json:"exit_code,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// TargetStatus is one target of the service's target group.
type TargetStatus struct {
	ID          string `json:"id"`
	Port        int32  `json:"port"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

// EventStatus is one service event.
type EventStatus struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

// NotSteadyError says the service is not steady, and why.
type NotSteadyError struct {
	Stack   string
	Reasons []string
}

// Error lists the reasons.
func (e *NotSteadyError) Error() string {
	return fmt.Sprintf("stack %s is not steady: %s", e.Stack, strings.Join(e.Reasons, "; "))
}

// Status reads the service of a stack: its deployments, running and recently
// stopped tasks, target health and last events. The service is steady when
// it is ACTIVE with one deployment, COMPLETED (or with no rollout state),
// running as many tasks as it wants, and every registered target healthy.
// It returns a *NotSteadyError with the report otherwise.
func Status(ctx context.Context, ecsAPI StatusECS, elbAPI StatusELB, req StatusRequest) (StatusReport, error) {
	o := req.Outputs
	rep := StatusReport{Stack: req.Stack, Outputs: o, NotSteady: []string{}, Deployments: []DeploymentStatus{}, RunningTasks: []TaskStatus{},
		StoppedTasks: []TaskStatus{}, Targets: []TargetStatus{}, Events: []EventStatus{}}
	out, err := ecsAPI.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(o.Cluster), Services: []string{o.Service}})
	if err != nil {
		return rep, fmt.Errorf("describe service %s in cluster %s: %w", o.Service, o.Cluster, err)
	}
	if len(out.Services) == 0 {
		rep.NotSteady = append(rep.NotSteady, fmt.Sprintf("service %s is not in cluster %s", o.Service, o.Cluster))
		return rep, &NotSteadyError{Stack: req.Stack, Reasons: rep.NotSteady}
	}
	s := out.Services[0]
	rep.Service = ServiceStatus{Name: aws.ToString(s.ServiceName), Cluster: o.Cluster, Status: aws.ToString(s.Status), TaskDefinition: aws.ToString(s.TaskDefinition),
		Desired: s.DesiredCount, Running: s.RunningCount, Pending: s.PendingCount}
	images := map[string][]string{}
	for _, d := range s.Deployments {
		td := aws.ToString(d.TaskDefinition)
		if _, ok := images[td]; !ok {
			images[td] = taskDefinitionImages(ctx, ecsAPI, td)
		}
		rep.Deployments = append(rep.Deployments, DeploymentStatus{
			ID: aws.ToString(d.Id), Status: aws.ToString(d.Status), RolloutState: string(d.RolloutState), RolloutReason: aws.ToString(d.RolloutStateReason),
			TaskDefinition: td, Images: images[td], Desired: d.DesiredCount, Running: d.RunningCount, Pending: d.PendingCount, Failed: d.FailedTasks,
			CreatedAt: aws.ToTime(d.CreatedAt), UpdatedAt: aws.ToTime(d.UpdatedAt),
		})
	}
	n := cmp.Or(req.Events, 10)
	for i, e := range s.Events {
		if i == n {
			break
		}
		rep.Events = append(rep.Events, EventStatus{At: aws.ToTime(e.CreatedAt), Message: aws.ToString(e.Message)})
	}
	if rep.RunningTasks, err = serviceTasks(ctx, ecsAPI, o, ecstypes.DesiredStatusRunning, 100); err != nil {
		return rep, err
	}
	if rep.StoppedTasks, err = serviceTasks(ctx, ecsAPI, o, ecstypes.DesiredStatusStopped, cmp.Or(req.Stopped, 5)); err != nil {
		return rep, err
	}
	for _, lb := range s.LoadBalancers {
		tg := aws.ToString(lb.TargetGroupArn)
		if tg == "" || elbAPI == nil {
			continue
		}
		th, err := elbAPI.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
		if err != nil {
			return rep, fmt.Errorf("describe target health of %s: %w", tg, err)
		}
		for _, d := range th.TargetHealthDescriptions {
			t := TargetStatus{ID: aws.ToString(d.Target.Id), Port: aws.ToInt32(d.Target.Port)}
			if h := d.TargetHealth; h != nil {
				t.State, t.Reason, t.Description = string(h.State), string(h.Reason), aws.ToString(h.Description)
			}
			rep.Targets = append(rep.Targets, t)
		}
	}
	rep.NotSteady = notSteady(rep)
	rep.Steady = len(rep.NotSteady) == 0
	if !rep.Steady {
		return rep, &NotSteadyError{Stack: req.Stack, Reasons: rep.NotSteady}
	}
	return rep, nil
}

// notSteady lists why the service is not steady; none when it is.
func notSteady(rep StatusReport) []string {
	why := []string{}
	s := rep.Service
	if s.Status != "ACTIVE" {
		why = append(why, fmt.Sprintf("service %s is %s", s.Name, s.Status))
	}
	if len(rep.Deployments) != 1 {
		why = append(why, fmt.Sprintf("%d deployments (a rollout is in progress or stuck)", len(rep.Deployments)))
	}
	for _, d := range rep.Deployments {
		if d.RolloutState != "" && d.RolloutState != string(ecstypes.DeploymentRolloutStateCompleted) {
			why = append(why, fmt.Sprintf("deployment %s is %s %s%s", d.ID, d.Status, d.RolloutState, prefixed(": ", d.RolloutReason)))
		}
	}
	if s.Running != s.Desired || s.Pending != 0 {
		why = append(why, fmt.Sprintf("%d of %d tasks running, %d pending", s.Running, s.Desired, s.Pending))
	}
	for _, t := range rep.Targets {
		if t.State != "healthy" {
			why = append(why, fmt.Sprintf("target %s:%d is %s%s", t.ID, t.Port, t.State, prefixed(": ", cmp.Or(t.Description, t.Reason))))
		}
	}
	return why
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// taskDefinitionImages lists a revision's container images; none when it
// cannot be described (status still reports the rest).
func taskDefinitionImages(ctx context.Context, api StatusECS, td string) []string {
	out, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(td)})
	images := []string{}
	if err != nil || out.TaskDefinition == nil {
		return images
	}
	for _, c := range out.TaskDefinition.ContainerDefinitions {
		images = append(images, aws.ToString(c.Name)+"="+aws.ToString(c.Image))
	}
	return images
}

// serviceTasks describes up to max of the service's tasks with the desired
// status, newest first.
func serviceTasks(ctx context.Context, api StatusECS, o Outputs, desired ecstypes.DesiredStatus, max int) ([]TaskStatus, error) {
	tasks := []TaskStatus{}
	list, err := api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(o.Cluster), ServiceName: aws.String(o.Service), DesiredStatus: desired})
	if err != nil {
		return tasks, fmt.Errorf("list %s tasks of service %s: %w", strings.ToLower(string(desired)), o.Service, err)
	}
	arns := list.TaskArns
	if len(arns) == 0 {
		return tasks, nil
	}
	if len(arns) > 100 {
		arns = arns[:100] // DescribeTasks takes at most 100
	}
	out, err := api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(o.Cluster), Tasks: arns})
	if err != nil {
		return tasks, fmt.Errorf("describe tasks of service %s: %w", o.Service, err)
	}
	for _, t := range out.Tasks {
		ts := TaskStatus{ARN: aws.ToString(t.TaskArn), LastStatus: aws.ToString(t.LastStatus), TaskDefinition: aws.ToString(t.TaskDefinitionArn),
			StoppedReason: aws.ToString(t.StoppedReason), StopCode: string(t.StopCode), StartedAt: t.StartedAt, StoppedAt: t.StoppedAt, Containers: []ContainerStatus{}}
		for _, c := range t.Containers {
			ts.Containers = append(ts.Containers, ContainerStatus{Name: aws.ToString(c.Name), LastStatus: aws.ToString(c.LastStatus), ExitCode: c.ExitCode, Reason: aws.ToString(c.Reason)})
		}
		tasks = append(tasks, ts)
	}
	slices.SortFunc(tasks, func(a, b TaskStatus) int { return taskTime(b).Compare(taskTime(a)) })
	if len(tasks) > max {
		tasks = tasks[:max]
	}
	return tasks, nil
}

func taskTime(t TaskStatus) time.Time {
	if t.StoppedAt != nil {
		return *t.StoppedAt
	}
	return aws.ToTime(t.StartedAt)
}

// Text renders the report for a CI log: a few lines, the verdict first.
func (r StatusReport) Text() string {
	var b strings.Builder
	verdict := "steady"
	if !r.Steady {
		verdict = "NOT steady: " + strings.Join(r.NotSteady, "; ")
	}
	fmt.Fprintf(&b, "stack %s: %s\n", r.Stack, verdict)
	fmt.Fprintf(&b, "  url %s  cluster %s  region %s\n", r.Outputs.URL, r.Outputs.Cluster, r.Outputs.Region)
	s := r.Service
	fmt.Fprintf(&b, "service %s: %s, %d running / %d desired / %d pending, task definition %s\n", s.Name, s.Status, s.Running, s.Desired, s.Pending, shortARN(s.TaskDefinition))
	for _, d := range r.Deployments {
		fmt.Fprintf(&b, "  deployment %s %s %s: %d running / %d desired / %d pending / %d failed, %s %s\n",
			d.ID, d.Status, cmp.Or(d.RolloutState, "-"), d.Running, d.Desired, d.Pending, d.Failed, shortARN(d.TaskDefinition), strings.Join(d.Images, " "))
		if d.RolloutReason != "" {
			fmt.Fprintf(&b, "    %s\n", d.RolloutReason)
		}
	}
	fmt.Fprintf(&b, "tasks: %d running\n", len(r.RunningTasks))
	for _, t := range r.RunningTasks {
		fmt.Fprintf(&b, "  %s %s %s\n", shortARN(t.ARN), t.LastStatus, shortARN(t.TaskDefinition))
	}
	fmt.Fprintf(&b, "recently stopped tasks: %d\n", len(r.StoppedTasks))
	for _, t := range r.StoppedTasks {
		fmt.Fprintf(&b, "  %s %s: %s\n", shortARN(t.ARN), cmp.Or(t.StopCode, "-"), cmp.Or(t.StoppedReason, "no reason given"))
		for _, c := range t.Containers {
			if c.Reason != "" || c.ExitCode != nil {
				fmt.Fprintf(&b, "    container %s exit %s %s\n", c.Name, exitCode(c.ExitCode), c.Reason)
			}
		}
	}
	fmt.Fprintf(&b, "targets: %d\n", len(r.Targets))
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "  %s:%d %s%s\n", t.ID, t.Port, t.State, prefixed(" - ", cmp.Or(t.Description, t.Reason)))
	}
	fmt.Fprintf(&b, "last events:\n")
	for _, e := range r.Events {
		fmt.Fprintf(&b, "  %s %s\n", e.At.UTC().Format(time.RFC3339), e.Message)
	}
	return strings.TrimRight(b.String(), "\n")
}

func exitCode(c *int32) string {
	if c == nil {
		return "-"
	}
	return fmt.Sprint(*c)
}

// shortARN keeps the part after the last slash: family:revision, task ID.
func shortARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
