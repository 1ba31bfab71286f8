package ecsdeploy

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// rollbackResult is what a rollback did.
type rollbackResult struct {
	DeploymentID  string
	DescribeCalls int
}

// rollback puts the service back on the previous revision and follows that
// deployment too. When ECS's circuit breaker already started a rollback to it,
// that deployment is followed instead of starting another. The rollback gets
// a deadline of its own (r.Timeout), because it often starts when the
// deployment's deadline is spent; ctx still ends it on interrupt.
func (d *Deployer) rollback(ctx context.Context, r Request, previous, failedID string) (rollbackResult, error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return rollbackResult{}, ctx.Err()
	}
	d.Log.Printf("rolling back service %s to %s", r.Service, previous)
	rctx, cancel := context.WithTimeout(ctx, r.Timeout+callGrace)
	defer cancel()
	start := d.clock().Now()

	svc, err := d.getService(rctx, r.Cluster, r.Service)
	if err != nil {
		return rollbackResult{}, err
	}
	var spec *followSpec
	for _, dep := range svc.Deployments {
		if aws.ToString(dep.Status) == "PRIMARY" && aws.ToString(dep.TaskDefinition) == previous && aws.ToString(dep.Id) != failedID {
			d.Log.Printf("ECS is already rolling back: following its deployment %s", aws.ToString(dep.Id))
			spec = &followSpec{DeploymentID: aws.ToString(dep.Id), Since: deploymentSince(dep, start)}
		}
	}
	if spec == nil {
		dep, err := d.updateService(rctx, r.Cluster, r.Service, updateRequest{TaskDefinition: previous})
		if err != nil {
			return rollbackResult{}, err
		}
		d.Log.Printf("service %s updated: following rollback deployment %s", r.Service, aws.ToString(dep.Id))
		spec = &followSpec{DeploymentID: aws.ToString(dep.Id), Since: deploymentSince(dep, start)}
	}
	spec.Cluster, spec.Service, spec.TaskDefinition = r.Cluster, r.Service, previous
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Minute
	}
	calls, err := d.followDeployment(ctx, *spec, timeout)
	return rollbackResult{DeploymentID: spec.DeploymentID, DescribeCalls: calls}, err
}
