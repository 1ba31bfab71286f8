package stack

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

func statusClient(t *testing.T, o ecsfake.Options) (*ecs.Client, *ecsfake.Server) {
	t.Helper()
	srv := ecsfake.New(t, ecsfake.NewClock(time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)), o)
	c := ecs.New(ecs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	return c, srv
}

func fakeTaskDefinition() map[string]any {
	return map[string]any{"family": "demo", "containerDefinitions": []any{map[string]any{"name": "app", "image": "nginx:1"}}}
}

// TestStatusProtocol drives Status with the real ECS client against the
// protocol-level fake: a steady service, and one whose new deployment's
// tasks fail to start.
func TestStatusProtocol(t *testing.T) {
	out := Outputs{StackName: "demo", Cluster: "demo", Service: "demo", Region: "us-east-1", URL: "http://demo-alb.example"}

	t.Run("steady", func(t *testing.T) {
		c, _ := statusClient(t, ecsfake.Options{Cluster: "demo", Service: "demo", DesiredCount: 2, TaskDefinition: fakeTaskDefinition()})
		rep, err := Status(t.Context(), c, nil, StatusRequest{Stack: "demo", Outputs: out})
		if err != nil || !rep.Steady {
			t.Fatalf("Status = %+v, %v; want steady", rep, err)
		}
		if len(rep.Deployments) != 1 || rep.Deployments[0].Images[0] != "app=nginx:1" || rep.Service.Running != 2 || len(rep.Events) == 0 {
			t.Errorf("report %+v", rep)
		}
		if text := rep.Text(); !strings.HasPrefix(text, "stack demo: steady") || !strings.Contains(text, "has reached a steady state") {
			t.Errorf("text:\n%s", text)
		}
	})

	t.Run("tasks fail to start", func(t *testing.T) {
		c, _ := statusClient(t, ecsfake.Options{Cluster: "demo", Service: "demo", DesiredCount: 1, TaskDefinition: fakeTaskDefinition(),
			Rollouts: [][]ecsfake.Frame{{{At: 0, Failed: 1, PriorRunning: 1, Events: []string{"(service demo) was unable to place a task"},
				Stopped: []ecsfake.StoppedTask{{ID: "t1", Reason: "CannotPullContainerError: pull image manifest has been retried 5 time(s)", StopCode: "TaskFailedToStart"}}}}}})
		if _, err := c.UpdateService(t.Context(), &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("demo"), ForceNewDeployment: true}); err != nil {
			t.Fatal(err)
		}
		rep, err := Status(t.Context(), c, nil, StatusRequest{Stack: "demo", Outputs: out})
		var ns *NotSteadyError
		if !asNotSteady(err, &ns) || rep.Steady {
			t.Fatalf("Status = %v; want not steady", err)
		}
		if len(rep.Deployments) != 2 || !strings.Contains(err.Error(), "2 deployments") {
			t.Errorf("deployments %+v, error %v", rep.Deployments, err)
		}
		if len(rep.StoppedTasks) != 1 || !strings.Contains(rep.StoppedTasks[0].StoppedReason, "CannotPullContainerError") {
			t.Errorf("stopped tasks %+v", rep.StoppedTasks)
		}
		if text := rep.Text(); !strings.Contains(text, "NOT steady") || !strings.Contains(text, "CannotPullContainerError") {
			t.Errorf("text:\n%s", text)
		}
	})

	t.Run("service gone", func(t *testing.T) {
		c, _ := statusClient(t, ecsfake.Options{Cluster: "demo", Service: "demo", Missing: true, TaskDefinition: fakeTaskDefinition()})
		_, err := Status(t.Context(), c, nil, StatusRequest{Stack: "demo", Outputs: out})
		var ns *NotSteadyError
		if !asNotSteady(err, &ns) {
			t.Fatalf("Status of a missing service: %v", err)
		}
	})
}

func asNotSteady(err error, target **NotSteadyError) bool {
	e, ok := err.(*NotSteadyError)
	if ok {
		*target = e
	}
	return ok
}

// fakeHealth answers DescribeTargetHealth.
type fakeHealth []elbtypes.TargetHealthDescription

func (f fakeHealth) DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	return &elbv2.DescribeTargetHealthOutput{TargetHealthDescriptions: f}, nil
}

func TestNotSteadyReasons(t *testing.T) {
	base := StatusReport{Service: ServiceStatus{Name: "demo", Status: "ACTIVE", Desired: 2, Running: 2},
		Deployments: []DeploymentStatus{{ID: "d1", Status: "PRIMARY", RolloutState: "COMPLETED"}}}
	cases := []struct {
		name string
		edit func(*StatusReport)
		want string
	}{
		{"steady", func(*StatusReport) {}, ""},
		{"no rollout state (no circuit breaker)", func(r *StatusReport) { r.Deployments[0].RolloutState = "" }, ""},
		{"draining", func(r *StatusReport) { r.Service.Status = "DRAINING" }, "is DRAINING"},
		{"short of tasks", func(r *StatusReport) { r.Service.Running = 1 }, "1 of 2 tasks running"},
		{"rollout failed", func(r *StatusReport) {
			r.Deployments[0].RolloutState, r.Deployments[0].RolloutReason = "FAILED", "circuit breaker tripped"
		}, "FAILED: circuit breaker tripped"},
		{"unhealthy target", func(r *StatusReport) {
			r.Targets = []TargetStatus{{ID: "10.0.1.5", Port: 80, State: "healthy"}, {ID: "10.0.2.7", Port: 80, State: "unhealthy", Description: "Health checks failed with these codes: [502]"}}
		}, "target 10.0.2.7:80 is unhealthy: Health checks failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			r.Deployments = append([]DeploymentStatus(nil), base.Deployments...)
			tc.edit(&r)
			got := strings.Join(notSteady(r), "; ")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("notSteady = %q, want %q", got, tc.want)
			}
		})
	}
	var _ StatusELB = fakeHealth(nil)
}
