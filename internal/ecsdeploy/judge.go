package ecsdeploy

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// findDeployment returns the deployment with id, and the PRIMARY one.
func findDeployment(svc *types.Service, id string) (followed, primary *types.Deployment) {
	for i := range svc.Deployments {
		d := &svc.Deployments[i]
		if aws.ToString(d.Id) == id {
			followed = d
		}
		if aws.ToString(d.Status) == "PRIMARY" {
			primary = d
		}
	}
	return followed, primary
}

// judge decides, from one look at the service, what became of deployment id
// of task definition taskDef. done with a nil error is success; done with an
// error is a failure verdict; not done means keep following.
//
// Success is the followed deployment being PRIMARY with rolloutState
// COMPLETED and every desired task running (running == desired, none
// pending), or, where ECS gives no rolloutState, being the only deployment
// with running == desired and none pending. COMPLETED alone is not enough:
// ECS keeps a deployment COMPLETED when its tasks stop later and are being
// replaced, and copilot-cli's deployment streamer likewise waits for both. A
// service that merely looks stable is not enough either: after a
// circuit-breaker rollback the service is stable on the old revision.
func judge(svc *types.Service, id, taskDef string) (done bool, err error) {
	if st := aws.ToString(svc.Status); st != "ACTIVE" {
		return true, &ServiceNotActiveError{Cluster: aws.ToString(svc.ClusterArn), Service: aws.ToString(svc.ServiceName), Status: st}
	}
	dep, primary := findDeployment(svc, id)
	otherPrimary := primary != nil && aws.ToString(primary.Id) != id
	rolledBackTo := "" // the revision another PRIMARY deployment went back to
	if otherPrimary && aws.ToString(primary.TaskDefinition) != taskDef {
		rolledBackTo = aws.ToString(primary.TaskDefinition)
	}
	if dep != nil && dep.RolloutState == types.DeploymentRolloutStateFailed {
		return true, &DeploymentFailedError{DeploymentID: id, Reason: aws.ToString(dep.RolloutStateReason), RollbackTaskDefinition: rolledBackTo}
	}
	if otherPrimary {
		if rolledBackTo != "" {
			return true, &DeploymentRolledBackError{DeploymentID: id, PrimaryDeploymentID: aws.ToString(primary.Id), PrimaryTaskDefinition: rolledBackTo}
		}
		return true, &DeploymentSupersededError{DeploymentID: id, PrimaryDeploymentID: aws.ToString(primary.Id)}
	}
	if dep == nil {
		return true, &DeploymentVanishedError{DeploymentID: id, LastState: "not in the service's deployments"}
	}
	if aws.ToString(dep.Status) != "PRIMARY" {
		return false, nil // INACTIVE/ACTIVE without a PRIMARY: a transient answer
	}
	switch dep.RolloutState {
	case types.DeploymentRolloutStateCompleted:
		return allRunning(dep), nil
	case "":
		return len(svc.Deployments) == 1 && allRunning(dep), nil
	}
	return false, nil
}

// allRunning says whether every desired task of dep runs and none is
// pending.
func allRunning(dep *types.Deployment) bool {
	return dep.RunningCount == dep.DesiredCount && dep.PendingCount == 0
}

// completedShort says whether ECS calls dep COMPLETED while it is short of
// its desired tasks: deploy keeps waiting then, and says why.
func completedShort(dep *types.Deployment) bool {
	return dep != nil && aws.ToString(dep.Status) == "PRIMARY" && dep.RolloutState == types.DeploymentRolloutStateCompleted && !allRunning(dep)
}

// countsLine is a deployment's task counts for a progress line:
// "1/2 running, 1 pending".
func countsLine(dep *types.Deployment) string {
	return fmt.Sprintf("%d/%d running, %d pending", dep.RunningCount, dep.DesiredCount, dep.PendingCount)
}

// describeState is one line about where the followed deployment stands.
func describeState(svc *types.Service, id string) string {
	dep, _ := findDeployment(svc, id)
	if dep == nil {
		return fmt.Sprintf("deployment %s not found; service has %s", id, progress.Plural(len(svc.Deployments), "deployment", "deployments"))
	}
	state := string(dep.RolloutState)
	if state == "" {
		state = "no rolloutState"
	}
	s := fmt.Sprintf("deployment %s %s %s: %d/%d running, %d pending, %d failed tasks",
		id, aws.ToString(dep.Status), state, dep.RunningCount, dep.DesiredCount, dep.PendingCount, dep.FailedTasks)
	var others, otherRunning int32
	for _, d := range svc.Deployments {
		if aws.ToString(d.Id) != id {
			others++
			otherRunning += d.RunningCount
		}
	}
	if others > 0 {
		s += fmt.Sprintf("; %s with %d running", progress.Plural(int(others), "other deployment", "other deployments"), otherRunning)
	}
	return s
}
