package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

// describeService returns the service, or *ServiceNotActiveError when it is
// missing, DRAINING or INACTIVE. It is one attempt: callers retry.
func (d *Deployer) describeService(ctx context.Context, cluster, service string) (*types.Service, error) {
	out, err := withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.DescribeServicesOutput, error) {
		return d.ECS.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster:  aws.String(cluster),
			Services: []string{service},
		}, withoutSDKRetries)
	})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "ClusterNotFoundException" {
		return nil, &ServiceNotActiveError{Cluster: cluster, Service: service, Status: "MISSING", ClusterMissing: true}
	}
	if err != nil {
		return nil, err
	}
	var s *types.Service
	for i := range out.Services {
		if n := &out.Services[i]; aws.ToString(n.ServiceName) == service || aws.ToString(n.ServiceArn) == service {
			s = n
			break
		}
	}
	if s == nil && len(out.Services) == 1 && len(out.Failures) == 0 {
		s = &out.Services[0]
	}
	if s == nil {
		return nil, &ServiceNotActiveError{Cluster: cluster, Service: service, Status: "MISSING"}
	}
	if st := aws.ToString(s.Status); st != "ACTIVE" {
		return nil, &ServiceNotActiveError{Cluster: cluster, Service: service, Status: st}
	}
	return s, nil
}

// getService describes the service with retries on throttling and 5xx.
func (d *Deployer) getService(ctx context.Context, deadline time.Time, cluster, service string) (*types.Service, error) {
	s, err := callWithRetry(ctx, d, deadline, "describe service", func(ctx context.Context) (*types.Service, error) {
		return d.describeService(ctx, cluster, service)
	})
	if err != nil {
		var na *ServiceNotActiveError
		if errors.As(err, &na) {
			return nil, err
		}
		return nil, fmt.Errorf("describe service %s in cluster %s: %w (the role needs ecs:DescribeServices)", service, cluster, err)
	}
	return s, nil
}

// updateRequest is one UpdateService call: a task definition to run, and
// optionally a fresh set of tasks or a new desired count.
type updateRequest struct {
	TaskDefinition string // empty keeps the current one
	Force          bool
	DesiredCount   *int32
}

// updateService calls UpdateService and returns the new PRIMARY deployment
// from its answer: the one this update started.
func (d *Deployer) updateService(ctx context.Context, deadline time.Time, cluster, service string, r updateRequest) (types.Deployment, error) {
	in := &ecs.UpdateServiceInput{
		Cluster:            aws.String(cluster),
		Service:            aws.String(service),
		ForceNewDeployment: r.Force,
		DesiredCount:       r.DesiredCount,
	}
	if r.TaskDefinition != "" {
		in.TaskDefinition = aws.String(r.TaskDefinition)
	}
	// Repeating UpdateService after an answer was lost is safe: with the same
	// task definition ECS starts no second deployment and answers with the
	// one the lost call started; with ForceNewDeployment a repeat starts
	// another set of fresh tasks of the same revision, which is what was
	// asked for, and the deployment in the answer is the one followed.
	out, err := callWithRetry(ctx, d, deadline, "update service", func(ctx context.Context) (*ecs.UpdateServiceOutput, error) {
		return withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.UpdateServiceOutput, error) {
			return d.ECS.UpdateService(ctx, in, withoutSDKRetries)
		})
	})
	if err != nil {
		return types.Deployment{}, fmt.Errorf("update service %s in cluster %s: %w (the role needs ecs:UpdateService and iam:PassRole)", service, cluster, err)
	}
	if out.Service == nil {
		return types.Deployment{}, fmt.Errorf("update service %s: ECS returned no service; check it in the console and deploy again", service)
	}
	for _, dep := range out.Service.Deployments {
		if aws.ToString(dep.Status) != "PRIMARY" {
			continue
		}
		if r.TaskDefinition != "" && aws.ToString(dep.TaskDefinition) != r.TaskDefinition {
			if aws.ToString(out.Service.TaskDefinition) == r.TaskDefinition {
				// The service took the revision but reports no deployment of
				// it: real ECS always starts one; emulators such as moto do not.
				return types.Deployment{}, &noDeploymentError{service: service, taskDefinition: r.TaskDefinition, primary: aws.ToString(dep.Id)}
			}
			return types.Deployment{}, fmt.Errorf("update service %s: the PRIMARY deployment %s runs %s, not %s: another deploy raced this one; deploy again",
				service, aws.ToString(dep.Id), aws.ToString(dep.TaskDefinition), r.TaskDefinition)
		}
		return dep, nil
	}
	return types.Deployment{}, fmt.Errorf("update service %s: the answer has no PRIMARY deployment, so there is nothing to follow; check the service's deployment controller is ECS", service)
}

// noDeploymentError says UpdateService took the new revision but reported no
// deployment of it, so there is nothing to follow.
type noDeploymentError struct {
	service, taskDefinition, primary string
}

// Error says what happened and what to do next.
func (e *noDeploymentError) Error() string {
	return fmt.Sprintf("update service %s: the service now runs %s but reports no deployment of it (PRIMARY is still %s), so there is nothing to follow: "+
		"real ECS always starts one; against an emulator such as moto, pass --no-wait", e.service, e.taskDefinition, e.primary)
}
