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

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// TaskDefinitionLister lists a family's revisions (rollback's previous
// revision). *ecs.Client and awsx.ECS have it; Deployer.ECS is asked for it
// when a rollback needs it.
type TaskDefinitionLister interface {
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, optFns ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
}

var _ TaskDefinitionLister = (*ecs.Client)(nil)

// ServiceState is a service and the task definition it runs now.
type ServiceState struct {
	Service        *types.Service
	TaskDefinition *types.TaskDefinition
	Tags           []types.Tag
}

// Inspect describes the service and its current task definition, with
// retries on throttling and 5xx until timeout. A service or cluster that
// does not exist is bad input (exit 2): nothing was changed.
func (d *Deployer) Inspect(ctx context.Context, cluster, service string, timeout time.Duration) (ServiceState, error) {
	deadline := d.clock().Now().Add(timeout)
	ctx, cancel := context.WithTimeout(ctx, timeout+callGrace)
	defer cancel()
	return d.inspect(ctx, deadline, cluster, service)
}

func (d *Deployer) inspect(ctx context.Context, deadline time.Time, cluster, service string) (ServiceState, error) {
	var st ServiceState
	svc, err := d.getService(ctx, deadline, cluster, service)
	var missing *ServiceNotActiveError
	if errors.As(err, &missing) && missing.Status == "MISSING" {
		missing.BadInput = true
	}
	if err != nil {
		return st, err
	}
	st.Service = svc
	arn := aws.ToString(svc.TaskDefinition)
	if arn == "" {
		return st, fmt.Errorf("service %s names no task definition; check it in the ECS console", service)
	}
	st.TaskDefinition, st.Tags, err = d.describeTaskDefinition(ctx, deadline, arn)
	return st, err
}

// AWSLogs returns the awslogs group and stream prefix of a container of td,
// when it logs with the awslogs driver. An empty container means the first
// one that does.
func AWSLogs(td *types.TaskDefinition, container string) (group, prefix string, ok bool) {
	if td == nil {
		return "", "", false
	}
	for _, c := range td.ContainerDefinitions {
		if container != "" && aws.ToString(c.Name) != container {
			continue
		}
		if c.LogConfiguration == nil || c.LogConfiguration.LogDriver != types.LogDriverAwslogs {
			continue
		}
		opts := c.LogConfiguration.Options
		if opts["awslogs-group"] != "" {
			return opts["awslogs-group"], opts["awslogs-stream-prefix"], true
		}
	}
	return "", "", false
}

// InProgress returns the deployment of svc that is still rolling out, if
// any: a PRIMARY one whose rolloutState is IN_PROGRESS, or any deployment
// besides the PRIMARY one (the older tasks are still being replaced).
func InProgress(svc *types.Service) *types.Deployment {
	for i := range svc.Deployments {
		dep := &svc.Deployments[i]
		if aws.ToString(dep.Status) == "PRIMARY" && dep.RolloutState == types.DeploymentRolloutStateInProgress {
			return dep
		}
	}
	if len(svc.Deployments) > 1 {
		for i := range svc.Deployments {
			if aws.ToString(svc.Deployments[i].Status) == "PRIMARY" {
				return &svc.Deployments[i]
			}
		}
	}
	return nil
}

// taskDefinitionMissing says err is ECS's answer for a task definition that
// does not exist (DescribeTaskDefinition answers ClientException).
func taskDefinitionMissing(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ClientException"
}

// usageTaskDefinition turns a missing task definition into a usage error of
// flag.
func usageTaskDefinition(err error, flag, ref string) error {
	if taskDefinitionMissing(err) {
		return config.Usagef(flag, "task definition %s not found: check the revision (aws ecs list-task-definitions --family-prefix <family>)", ref)
	}
	return err
}
