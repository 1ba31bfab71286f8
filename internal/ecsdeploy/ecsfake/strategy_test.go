package ecsfake

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// A service deployment's timeline follows the clock; the real SDK client
// lists, describes and stops it with ROLLBACK.
func TestServiceDeploymentTimeline(t *testing.T) {
	o := seed()
	o.Strategy, o.BakeTimeMinutes = "BLUE_GREEN", 10
	o.ServiceDeployments = [][]SDFrame{BlueGreen(time.Minute, 10*time.Minute)}
	o.RollbackTakes = 20 * time.Second
	clock := NewClock(time.Unix(1000, 0))
	s := New(t, clock, o)
	c := client(s)
	ctx := context.Background()
	svc, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("demo"), Services: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := svc.Services[0].DeploymentConfiguration; got.Strategy != types.DeploymentStrategyBlueGreen || aws.ToInt32(got.BakeTimeInMinutes) != 10 {
		t.Fatalf("deploymentConfiguration = %+v", got)
	}
	up, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("demo"), Service: aws.String("web"), ForceNewDeployment: true})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("demo"), Service: aws.String("web"),
		CreatedAt: &types.CreatedAt{After: aws.Time(clock.Now().Add(-time.Second))}})
	if err != nil || len(list.ServiceDeployments) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	b := list.ServiceDeployments[0]
	depID := aws.ToString(up.Service.Deployments[0].Id)
	if want := depID[len("ecs-svc/"):]; aws.ToString(b.TargetServiceRevisionArn)[len(aws.ToString(b.TargetServiceRevisionArn))-len(want):] != want {
		t.Errorf("target revision %s does not end with the deployment's number %s", aws.ToString(b.TargetServiceRevisionArn), want)
	}
	describe := func() types.ServiceDeployment {
		out, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(b.ServiceDeploymentArn)}})
		if err != nil || len(out.ServiceDeployments) != 1 {
			t.Fatalf("describe = %+v, %v", out, err)
		}
		return out.ServiceDeployments[0]
	}
	steps := []struct {
		advance time.Duration
		status  types.ServiceDeploymentStatus
		stage   types.ServiceDeploymentLifecycleStage
		prod    float64
	}{
		{0, types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStagePreScaleUp, 0},
		{time.Minute, types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStagePostTestTrafficShift, 0},
		{2 * time.Second, types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStagePostProductionTrafficShift, 100},
		{time.Second, types.ServiceDeploymentStatusInProgress, types.ServiceDeploymentLifecycleStageBakeTime, 100},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		sd := describe()
		if sd.Status != st.status || sd.LifecycleStage != st.stage || aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight) != st.prod {
			t.Fatalf("at +%s: %s %s %v%%, want %s %s %v%%", st.advance, sd.Status, sd.LifecycleStage, aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight), st.status, st.stage, st.prod)
		}
	}
	if _, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: b.ServiceDeploymentArn, StopType: types.StopServiceDeploymentStopTypeRollback}); err != nil {
		t.Fatal(err)
	}
	if sd := describe(); sd.Status != types.ServiceDeploymentStatusRollbackRequested || sd.Rollback == nil {
		t.Fatalf("after stop: %s, rollback %+v", sd.Status, sd.Rollback)
	}
	clock.Advance(20 * time.Second)
	if sd := describe(); sd.Status != types.ServiceDeploymentStatusRollbackSuccessful || sd.FinishedAt == nil {
		t.Fatalf("20 s after stop: %s", sd.Status)
	}
	// A finished service deployment cannot be stopped.
	if _, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: b.ServiceDeploymentArn, StopType: types.StopServiceDeploymentStopTypeRollback}); err == nil {
		t.Error("stopping a finished service deployment succeeded")
	}
}
