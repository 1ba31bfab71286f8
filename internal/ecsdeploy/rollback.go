package ecsdeploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// rollbackFrom is the failed deployment a rollback undoes.
type rollbackFrom struct {
	previous   string          // task definition to go back to
	failedTD   string          // task definition of the failed deployment
	failedID   string          // the failed deployment
	seenEvents map[string]bool // events already printed
}

// rollback puts the service back on the previous revision and follows that
// deployment too. When ECS's circuit breaker already started a rollback to it,
// that deployment is followed instead of starting another; when someone
// else's deployment of a third revision is PRIMARY, nothing is rolled back
// over it. The rollback gets a deadline of its own (r.Timeout), because it
// often starts when the deployment's is spent; ctx still ends it on
// interrupt. It returns the rollback deployment it followed.
func (d *Deployer) rollback(ctx context.Context, r Request, from rollbackFrom) (deploymentID string, err error) {
	previous, failedTD, failedID := from.previous, from.failedTD, from.failedID
	if err := ctx.Err(); err != nil {
		return "", err
	}
	d.Log.Printf("rolling back service %s to %s", r.Service, previous)
	start := d.clock().Now()
	deadline := start.Add(r.Timeout)
	ctx, cancel := context.WithTimeout(ctx, r.Timeout+callGrace)
	defer cancel()

	svc, err := d.getService(ctx, deadline, r.Cluster, r.Service)
	if err != nil {
		return "", err
	}
	var spec *followSpec
	for _, dep := range svc.Deployments {
		if aws.ToString(dep.Status) != "PRIMARY" {
			continue
		}
		id, td := aws.ToString(dep.Id), aws.ToString(dep.TaskDefinition)
		switch {
		case td == previous && id != failedID:
			d.Log.Printf("ECS is already rolling back: following its deployment %s", id)
			spec = &followSpec{DeploymentID: id, Since: deploymentSince(dep, start)}
		case id != failedID && td != failedTD:
			return "", fmt.Errorf("not rolling back: deployment %s of %s, which this deploy did not start, is PRIMARY now; check who deployed it", id, td)
		}
	}
	if spec == nil {
		dep, err := d.updateService(ctx, deadline, r.Cluster, r.Service, updateRequest{TaskDefinition: previous})
		if err != nil {
			return "", err
		}
		d.Log.Printf("service %s updated: following rollback deployment %s", r.Service, aws.ToString(dep.Id))
		spec = &followSpec{DeploymentID: aws.ToString(dep.Id), Since: deploymentSince(dep, start)}
	}
	spec.Cluster, spec.Service, spec.TaskDefinition, spec.SeenEvents = r.Cluster, r.Service, previous, from.seenEvents
	return spec.DeploymentID, d.followDeployment(ctx, *spec, deadline, r.Timeout)
}
