package ecsdeploy

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// capacityHint explains ECS's "unable to place a task" event in terms of
// what to do about it.
const capacityHint = "capacity problem: no container instance in the cluster can take this task " +
	"(not enough free CPU, memory or host ports, or none matches its placement constraints and ARM64 runtime platform): " +
	"add Graviton capacity (raise the Auto Scaling group or capacity provider) or lower the task's cpu/memory"

// logTailLines is how many lines of a failed task's log are printed.
const logTailLines = 20

// reporter prints, once each, the service events and stopped tasks of one
// deployment.
type reporter struct {
	d          *Deployer
	spec       followSpec
	seenEvents map[string]bool
	seenTasks  map[string]bool
	ourStopped []types.Task // this deployment's stopped tasks, in the order seen
	reasonList []string
	logsDone   bool
	hinted     bool // the capacity hint was printed
}

func newReporter(d *Deployer, spec followSpec) *reporter {
	seen := spec.SeenEvents
	if seen == nil {
		seen = map[string]bool{}
	}
	return &reporter{d: d, spec: spec, seenEvents: seen, seenTasks: map[string]bool{}}
}

// events prints service events newer than the deployment, oldest first.
func (r *reporter) events(svc *types.Service) {
	for i := len(svc.Events) - 1; i >= 0; i-- {
		e := svc.Events[i]
		id := aws.ToString(e.Id)
		if id == "" {
			id = aws.ToTime(e.CreatedAt).String() + aws.ToString(e.Message)
		}
		if r.seenEvents[id] || aws.ToTime(e.CreatedAt).Before(r.spec.Since) {
			continue
		}
		r.seenEvents[id] = true
		msg := aws.ToString(e.Message)
		r.d.Log.Printf("event: %s", msg)
		if strings.Contains(msg, "unable to place a task") && !r.hinted {
			r.d.Log.Printf("%s", capacityHint)
			r.hinted = true
		}
	}
}

// stoppedTasks prints the deployment's tasks that stopped since the last call,
// with their stoppedReason and each container's reason and exit code.
func (r *reporter) stoppedTasks(ctx context.Context) error {
	// These looks are best effort and not retried by us: the SDK's own
	// retries stay on, inside one CallTimeout.
	list, err := withCallTimeout(ctx, r.d, func(ctx context.Context) (*ecs.ListTasksOutput, error) {
		return r.d.ECS.ListTasks(ctx, &ecs.ListTasksInput{
			Cluster:       aws.String(r.spec.Cluster),
			ServiceName:   aws.String(r.spec.Service),
			DesiredStatus: types.DesiredStatusStopped,
		})
	})
	if err != nil {
		r.d.Log.Debugf("list stopped tasks: %v", err)
		return fmt.Errorf("list stopped tasks: %w", err)
	}
	var fresh []string
	for _, arn := range list.TaskArns {
		if !r.seenTasks[arn] {
			fresh = append(fresh, arn)
		}
	}
	for len(fresh) > 0 {
		batch := fresh[:min(100, len(fresh))]
		fresh = fresh[len(batch):]
		out, err := withCallTimeout(ctx, r.d, func(ctx context.Context) (*ecs.DescribeTasksOutput, error) {
			return r.d.ECS.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(r.spec.Cluster), Tasks: batch})
		})
		if err != nil {
			r.d.Log.Debugf("describe stopped tasks: %v", err)
			return fmt.Errorf("describe stopped tasks: %w", err)
		}
		for _, t := range out.Tasks {
			r.seenTasks[aws.ToString(t.TaskArn)] = true
			if aws.ToString(t.StartedBy) != r.spec.DeploymentID {
				continue
			}
			r.ourStopped = append(r.ourStopped, t)
			r.d.Log.Printf("%s", stoppedTaskLine(t))
			r.addReason(aws.ToString(t.StoppedReason))
			for _, c := range t.Containers {
				r.addReason(aws.ToString(c.Reason))
			}
		}
	}
	return nil
}

func (r *reporter) addReason(s string) {
	if s != "" && !slices.Contains(r.reasonList, s) {
		r.reasonList = append(r.reasonList, s)
	}
}

// reasons returns the distinct stop reasons seen so far.
func (r *reporter) reasons() []string { return slices.Clone(r.reasonList) }

// stoppedTaskLine says why one task stopped.
func stoppedTaskLine(t types.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s stopped: %s", taskID(aws.ToString(t.TaskArn)), aws.ToString(t.StoppedReason))
	if t.StopCode != "" {
		fmt.Fprintf(&b, " (%s)", t.StopCode)
	}
	for _, c := range t.Containers {
		var parts []string
		if c.Reason != nil {
			parts = append(parts, aws.ToString(c.Reason))
		}
		if c.ExitCode != nil {
			parts = append(parts, fmt.Sprintf("exit code %d", aws.ToInt32(c.ExitCode)))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "; container %s: %s", aws.ToString(c.Name), strings.Join(parts, ", "))
		}
	}
	return b.String()
}

// taskID is the last element of a task ARN.
func taskID(arn string) string {
	return arn[strings.LastIndex(arn, "/")+1:]
}

// tailLogs prints the last lines of the awslogs stream of the most recent
// failed task, for each container that failed and logs to CloudWatch.
func (r *reporter) tailLogs(ctx context.Context) {
	if r.logsDone || r.d.Logs == nil || r.spec.TaskDef == nil || len(r.ourStopped) == 0 {
		return
	}
	r.logsDone = true
	t := r.ourStopped[len(r.ourStopped)-1]
	for _, c := range t.Containers {
		// Only a container that ran and exited badly has a log to show; one
		// that never started (CannotPullContainerError) has none.
		if c.ExitCode == nil || *c.ExitCode == 0 {
			continue
		}
		group, stream, ok := awslogsStream(r.spec.TaskDef, aws.ToString(c.Name), taskID(aws.ToString(t.TaskArn)))
		if !ok {
			continue
		}
		out, err := withCallTimeout(ctx, r.d, func(ctx context.Context) (*cloudwatchlogs.GetLogEventsOutput, error) {
			return r.d.Logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
				LogGroupName:  aws.String(group),
				LogStreamName: aws.String(stream),
				Limit:         aws.Int32(logTailLines),
				StartFromHead: aws.Bool(false),
			})
		})
		if err != nil {
			r.d.Log.Printf("no log of container %s in %s %s: %s", aws.ToString(c.Name), group, stream, briefError(err))
			continue
		}
		if len(out.Events) == 0 {
			r.d.Log.Printf("log %s %s is empty", group, stream)
			continue
		}
		r.d.Log.Printf("last %d log lines of container %s in task %s (%s %s):", len(out.Events), aws.ToString(c.Name), taskID(aws.ToString(t.TaskArn)), group, stream)
		for _, e := range out.Events {
			r.d.Log.Printf("  | %s", strings.TrimRight(aws.ToString(e.Message), "\n"))
		}
	}
}

// awslogsStream names the CloudWatch Logs group and stream of one container of
// one task, when the container logs with the awslogs driver and a stream
// prefix (the stream is then prefix/container/task-id).
func awslogsStream(td *types.TaskDefinition, container, task string) (group, stream string, ok bool) {
	for _, c := range td.ContainerDefinitions {
		if aws.ToString(c.Name) != container || c.LogConfiguration == nil || c.LogConfiguration.LogDriver != types.LogDriverAwslogs {
			continue
		}
		opts := c.LogConfiguration.Options
		group, prefix := opts["awslogs-group"], opts["awslogs-stream-prefix"]
		if group == "" || prefix == "" {
			return "", "", false
		}
		return group, prefix + "/" + container + "/" + task, true
	}
	return "", "", false
}
