package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
)

func rollbackCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "rollback",
		Usage: "put the service back on its previous task definition revision (or --to one) and follow that deployment to a verdict",
		Description: "Without --to, goes back to the highest ACTIVE revision of the service's family below the one it\n" +
			"runs. --to takes a revision number, family:revision or a task definition ARN of the same family\n" +
			"(another family: exit 2). Refuses while a deployment is in progress unless --force (exit 2,\n" +
			"nothing changed). The rollback deployment is followed exactly as deploy follows its own:\n" +
			"COMPLETED exits 0; FAILED, rolled back, gone or out of time exit 1.",
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "to", Usage: "revision to roll back to: 41, web:41 or its ARN (default: the previous ACTIVE revision)", EnvVars: envVars("to")},
			&ucli.BoolFlag{Name: "force", Usage: "roll back even while a deployment is in progress", EnvVars: envVars("force")},
			&ucli.DurationFlag{Name: "timeout", Value: defaultDeployTimeout, Usage: "how long to follow the rollback deployment before calling it failed", EnvVars: envVars("timeout")},
			&ucli.BoolFlag{Name: "no-wait", Usage: "stop after UpdateService without following the deployment (result \"started\")", EnvVars: envVars("no-wait")},
		}, verbTargetFlags()...),
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			t, err := resolveTarget(c, env, "rollback", true)
			if err != nil {
				return err
			}
			req := ecsdeploy.RollbackRequest{Cluster: t.Cluster, Service: t.Service, To: c.String("to"),
				Force: c.Bool("force"), Timeout: c.Duration("timeout"), NoWait: c.Bool("no-wait")}
			if err := req.Validate(); err != nil {
				return err
			}
			cfg, err := env.aws.Load(c.Context, awsx.Options{Region: t.Region, EndpointURL: t.Endpoint})
			if err != nil {
				return err
			}
			return runRollback(c.Context, env, newDeployer(cfg, env), req)
		},
	}
}

// rollbackResult is the --output json result of rollback; the envelope
// carries the error.
type rollbackResult struct {
	Cluster               string  `json:"cluster"`
	Service               string  `json:"service"`
	Result                string  `json:"result"`
	FromTaskDefinitionARN *string `json:"from_task_definition_arn"`
	ToTaskDefinitionARN   *string `json:"to_task_definition_arn"`
	DeploymentID          *string `json:"deployment_id"`
	ServiceUpdated        bool    `json:"service_updated"`
	DurationSeconds       float64 `json:"duration_seconds"`
}

func runRollback(ctx context.Context, env *runEnv, d *ecsdeploy.Deployer, req ecsdeploy.RollbackRequest) error {
	res, err := d.RollbackService(ctx, req)
	if config.IsUsage(err) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		env.log.Printf("interrupted: the service keeps whatever ECS is doing; check it with graviton-cd status")
	}
	out := rollbackResult{
		Cluster: res.Cluster, Service: res.Service, Result: res.Outcome,
		FromTaskDefinitionARN: nullable(res.PreviousTaskDefinitionARN), ToTaskDefinitionARN: nullable(res.TaskDefinitionARN),
		DeploymentID: nullable(res.DeploymentID), ServiceUpdated: res.ServiceUpdated,
		DurationSeconds: res.Duration.Round(time.Millisecond).Seconds(),
	}
	if perr := env.result(rollbackSummary(res), out); perr != nil {
		env.log.Printf("print result: %v", perr)
	}
	return err
}

func rollbackSummary(r ecsdeploy.Result) string {
	took := r.Duration.Round(time.Second)
	switch r.Outcome {
	case ecsdeploy.OutcomeSucceeded:
		return fmt.Sprintf("rollback succeeded: service %s runs %s again (was %s; deployment %s, %s)", r.Service, r.TaskDefinitionARN, r.PreviousTaskDefinitionARN, r.DeploymentID, took)
	case ecsdeploy.OutcomeUnchanged:
		return fmt.Sprintf("rollback: service %s already runs %s; nothing changed", r.Service, r.TaskDefinitionARN)
	case ecsdeploy.OutcomeStarted:
		return fmt.Sprintf("rollback started: service %s is rolling out %s (not followed: --no-wait)", r.Service, r.TaskDefinitionARN)
	case ecsdeploy.OutcomeTimedOut:
		return fmt.Sprintf("rollback timed out: deployment %s of %s on service %s had no verdict after %s", r.DeploymentID, r.TaskDefinitionARN, r.Service, took)
	}
	if !r.ServiceUpdated {
		return fmt.Sprintf("rollback failed before the service was updated: service %s was not changed", r.Service)
	}
	return fmt.Sprintf("rollback failed: deployment %s of %s on service %s (%s)", r.DeploymentID, r.TaskDefinitionARN, r.Service, took)
}
