package ecsfake

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func client(s *Server) *ecs.Client {
	return ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL), HTTPClient: s.Client(),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

func seed() Options {
	return Options{Cluster: "demo", Service: "web", DesiredCount: 1, TaskDefinition: map[string]any{
		"family": "web", "containerDefinitions": []any{map[string]any{"name": "app", "image": "a:1"}},
	}}
}

// The SDK reads the server's __type errors as the modelled error types.
func TestErrorsReachTheSDKTyped(t *testing.T) {
	o := seed()
	o.Missing = true
	o.Faults = []Fault{Throttle("DescribeServices", 1, 1), ServerError("ListTasks", 1, 1)}
	s := New(t, NewClock(time.Unix(0, 0)), o)
	c := client(s)
	ctx := context.Background()

	_, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web")})
	var nf *types.ServiceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("UpdateService on a missing service: %v, want ServiceNotFoundException", err)
	}
	_, err = c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
	var api smithy.APIError
	var resp *smithyhttp.ResponseError
	if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" || !errors.As(err, &resp) || resp.HTTPStatusCode() != 400 {
		t.Errorf("throttled DescribeServices: %v", err)
	}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
	if err != nil || len(out.Services) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("DescribeServices of a missing service: %+v, %v", out, err)
	}
	var se *types.ServerException
	if _, err = c.ListTasks(ctx, &ecs.ListTasksInput{}); !errors.As(err, &se) || !errors.As(err, &resp) || resp.HTTPStatusCode() != 500 {
		t.Errorf("ListTasks under a 5xx fault: %v", err)
	}
	if s.Calls("DescribeServices") != 2 || s.Calls("UpdateService") != 1 {
		t.Errorf("calls: %v", s.CallLog())
	}
}

// Requests must look like the ECS JSON 1.1 protocol, as the SDK sends it.
func TestRejectsWhatIsNotECSJSON(t *testing.T) {
	s := New(t, NewClock(time.Unix(0, 0)), seed())
	cases := map[string]http.Header{
		"no target":    {"Content-Type": {contentType}, "Authorization": {"AWS4-HMAC-SHA256 x"}},
		"wrong type":   {"X-Amz-Target": {ecsTargetPrefix + "DescribeServices"}, "Content-Type": {"application/json"}, "Authorization": {"AWS4-HMAC-SHA256 x"}},
		"not signed":   {"X-Amz-Target": {ecsTargetPrefix + "DescribeServices"}, "Content-Type": {contentType}},
		"unknown verb": {"X-Amz-Target": {ecsTargetPrefix + "DeleteCluster"}, "Content-Type": {contentType}, "Authorization": {"AWS4-HMAC-SHA256 x"}},
	}
	for name, h := range cases {
		req, _ := http.NewRequest(http.MethodPost, s.URL, bytes.NewBufferString("{}"))
		req.Header = h
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", name, resp.StatusCode)
		}
	}
}

// A rollout advances with the virtual clock, not with calls or real time.
func TestRolloutFollowsTheClock(t *testing.T) {
	o := seed()
	o.Rollouts = [][]Frame{Happy(1, 40*time.Second)}
	clock := NewClock(time.Unix(1000, 0))
	s := New(t, clock, o)
	c := client(s)
	ctx := context.Background()
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), ForceNewDeployment: true})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(up.Service.Deployments[0].Id)
	state := func() types.DeploymentRolloutState {
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Services[0].Deployments {
			if aws.ToString(d.Id) == id {
				return d.RolloutState
			}
		}
		return "gone"
	}
	for range 5 {
		if st := state(); st != types.DeploymentRolloutStateInProgress {
			t.Fatalf("before 40s: %s", st)
		}
	}
	clock.Advance(40 * time.Second)
	if st := state(); st != types.DeploymentRolloutStateCompleted {
		t.Fatalf("at 40s: %s", st)
	}
}
