package ecsfake

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
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

// A reset reaches the SDK as a connection error without an HTTP answer; a
// Reset call took effect, a ResetUnapplied one did not.
func TestResetConnection(t *testing.T) {
	o := seed()
	o.Faults = []Fault{Reset("RegisterTaskDefinition", 1, 1), ResetUnapplied("RegisterTaskDefinition", 2, 2), Reset("DescribeServices", 1, 2)}
	s := New(t, NewClock(time.Unix(0, 0)), o)
	c := client(s)
	ctx := context.Background()
	register := func() error {
		_, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
			ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("a:2")}}})
		return err
	}
	for i, wantRevisions := range []int{2, 2, 3} {
		err := register()
		if i < 2 && !isReset(err) {
			t.Fatalf("register %d: %v, want a connection reset", i+1, err)
		}
		if i == 2 && err != nil {
			t.Fatalf("register 3: %v", err)
		}
		s.mu.Lock()
		got := s.revisions["web"]
		s.mu.Unlock()
		if got != wantRevisions {
			t.Errorf("after register %d: %d revisions, want %d", i+1, got, wantRevisions)
		}
	}
	for i := range 3 {
		_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
		if (i < 2) != isReset(err) || (i == 2 && err != nil) {
			t.Errorf("describe %d: %v", i+1, err)
		}
	}
	if s.Calls("RegisterTaskDefinition") != 3 || s.Calls("DescribeServices") != 3 || len(s.Registered()) != 2 {
		t.Errorf("calls: %v, registered %d", s.CallLog(), len(s.Registered()))
	}
}

func isReset(err error) bool {
	var resp *smithyhttp.ResponseError
	return err != nil && errors.As(err, &resp) && resp.HTTPStatusCode() == 0 && strings.Contains(err.Error(), "connection reset")
}

// A hung call is held until the client gives up; later calls answer, and the
// test ends without waiting for the hung ones.
func TestHang(t *testing.T) {
	o := seed()
	o.Faults = []Fault{Hang("DescribeServices", 1, 2), Hang("DescribeServices", 4, 4)}
	s := New(t, NewClock(time.Unix(0, 0)), o)
	c := client(s)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		start := time.Now()
		_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
		cancel()
		if i < 2 && (!errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 20*time.Millisecond) {
			t.Errorf("describe %d: %v after %s, want the client's deadline", i+1, err, time.Since(start))
		}
		if i == 2 && err != nil {
			t.Errorf("describe 3: %v", err)
		}
	}
	if s.Calls("DescribeServices") != 3 {
		t.Errorf("calls: %v", s.CallLog())
	}
	// A call still hung when the test ends does not block the server's Close.
	go func() {
		_, _ = c.DescribeServices(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
	}()
	for start := time.Now(); s.Calls("DescribeServices") < 4; time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the fourth call never reached the server")
		}
	}
}

// As ECS, an update that keeps the task definition and does not force a new
// deployment starts none: repeating an update is harmless.
func TestRepeatedUpdateStartsNoDeployment(t *testing.T) {
	o := seed()
	o.Rollouts = [][]Frame{Happy(1, 40*time.Second)}
	s := New(t, NewClock(time.Unix(1000, 0)), o)
	c := client(s)
	ctx := context.Background()
	reg, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("a:2")}}})
	if err != nil {
		t.Fatal(err)
	}
	in := &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), TaskDefinition: reg.TaskDefinition.TaskDefinitionArn}
	first, err := c.UpdateService(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.UpdateService(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := len(first.Service.Deployments), len(again.Service.Deployments); n != 2 || m != 2 ||
		aws.ToString(first.Service.Deployments[0].Id) != aws.ToString(again.Service.Deployments[0].Id) {
		t.Errorf("deployments after the first update %d, after the second %d; PRIMARY %s then %s", n, m,
			aws.ToString(first.Service.Deployments[0].Id), aws.ToString(again.Service.Deployments[0].Id))
	}
	in.ForceNewDeployment = true
	forced, err := c.UpdateService(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(forced.Service.Deployments[0].Id) == aws.ToString(first.Service.Deployments[0].Id) {
		t.Error("forceNewDeployment started no deployment")
	}
}
