package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/imagecheck"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Deployer ships images to ECS services. Its zero value is not usable: set
// ECS and Log at least.
type Deployer struct {
	ECS    ECSAPI
	Logs   LogsAPI          // optional: tails a failed task's awslogs stream
	Images ImageChecker     // optional: checks the image's architecture
	Clock  Clock            // nil means WallClock
	Log    *progress.Logger // progress lines
	// CallTimeout bounds each AWS call (one HTTP attempt): a call that gets
	// no answer in time is retried like a network error instead of holding
	// the deploy until its deadline. Zero means DefaultCallTimeout.
	CallTimeout time.Duration
}

// DefaultCallTimeout is how long one AWS call may go unanswered. ECS answers
// in well under a second; five seconds leaves room for a cold connection and
// credential refresh, and is one slow poll interval.
const DefaultCallTimeout = 5 * time.Second

func (d *Deployer) callTimeout() time.Duration {
	if d.CallTimeout <= 0 {
		return DefaultCallTimeout
	}
	return d.CallTimeout
}

func (d *Deployer) clock() Clock {
	if d.Clock == nil {
		return WallClock{}
	}
	return d.Clock
}

// Request is one deployment.
type Request struct {
	Cluster   string
	Service   string
	Container string // which container gets Image; empty means the only one
	Image     string // empty with ForceNewDeployment: fresh tasks, same revision

	ForceNewDeployment bool
	DesiredCount       *int32
	Timeout            time.Duration // for following the deployment (and again for a rollback)
	RollbackOnFailure  bool
	CheckImageArch     bool
	// NoWait stops after UpdateService without following the deployment; the
	// local demo uses it, because moto does not progress rollouts.
	NoWait bool
	// Settings, when given, are the container's environment, secrets, port
	// and the task's size for the new revision (with Image); nil carries
	// the current revision's over.
	Settings *ContainerSettings
}

// Outcomes, as Result.Outcome and the JSON summary's "result".
const (
	OutcomeSucceeded      = "succeeded"       // the deployment COMPLETED
	OutcomeStarted        = "started"         // NoWait: the deployment began; nobody followed it
	OutcomeFailed         = "failed"          // FAILED, rolled back, vanished or the service went away
	OutcomeTimedOut       = "timed_out"       // no verdict before the deadline
	OutcomeInterrupted    = "interrupted"     // stopped by a signal; ECS carries on
	OutcomeRolledBack     = "rolled_back"     // failed, and the rollback to the previous revision COMPLETED
	OutcomeRollbackFailed = "rollback_failed" // failed, and so did the rollback
)

// Result is what a deployment did. It is filled in as far as the deployment
// got, also when Deploy returns an error.
type Result struct {
	Cluster                   string
	Service                   string
	DeploymentID              string
	TaskDefinitionARN         string
	PreviousTaskDefinitionARN string
	Image                     string
	Outcome                   string
	RollbackDeploymentID      string
	// ServiceUpdated says UpdateService took the new revision: from then on
	// the service is not what it was before the deploy.
	ServiceUpdated bool
	Duration       time.Duration
}

// Validate refuses a request that cannot be deployed, before anything touches
// AWS, with usage errors that name the flag at fault.
func (r Request) Validate() error {
	if r.Image == "" && !r.ForceNewDeployment {
		return config.Usagef("image", "no image to deploy: pass --image (for example 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3), or --force-new-deployment for fresh tasks of the current revision")
	}
	if r.Image != "" {
		if err := imagecheck.ValidateReference(r.Image); err != nil {
			return err
		}
	}
	if r.Timeout <= 0 {
		return config.Usagef("timeout", "%s is not a timeout: use a positive duration such as 15m or 900s", r.Timeout)
	}
	if err := r.Settings.Validate(); err != nil {
		return err
	}
	if !r.Settings.empty() && r.Image == "" {
		return config.Usagef("image", "the container settings (--env, --secret) go out with a new revision, which needs --image: pass the image to run (the current one to change only the settings)")
	}
	if r.NoWait && r.RollbackOnFailure {
		return config.Usagef("rollback-on-failure", "cannot be used with --no-wait: with --no-wait nothing follows the deployment, so nothing sees it fail and rolls it back; drop one of the two")
	}
	return nil
}

// Deploy describes the service, checks the image, registers a revision that
// changes only the container's image, updates the service and follows the
// deployment it started to a verdict. Any error means the deployment did not
// succeed; a *config.UsageError means nothing was changed.
func (d *Deployer) Deploy(ctx context.Context, r Request) (Result, error) {
	start := d.clock().Now()
	res := Result{Cluster: r.Cluster, Service: r.Service, Image: r.Image, Outcome: OutcomeFailed}
	finish := func(err error) (Result, error) {
		res.Duration = d.clock().Now().Sub(start)
		return res, err
	}
	if err := r.Validate(); err != nil {
		return finish(err)
	}
	// One deadline for the whole deploy, on the Deployer's clock; the context
	// carries it too, with a little grace so that the last look at the
	// deadline can still be answered. A rollback gets a deadline of its own.
	parent := ctx
	deadline := start.Add(r.Timeout)
	ctx, cancel := context.WithTimeout(ctx, r.Timeout+callGrace)
	defer cancel()

	svc, err := d.getService(ctx, deadline, r.Cluster, r.Service)
	var missing *ServiceNotActiveError
	if errors.As(err, &missing) && missing.Status == "MISSING" {
		missing.BadInput = true // nothing changed yet: the flags are wrong
	}
	if err != nil {
		return finish(err)
	}
	if dc := svc.DeploymentController; dc != nil && dc.Type != "" && dc.Type != types.DeploymentControllerTypeEcs {
		return finish(fmt.Errorf("deploy to service %s: it uses the %s deployment controller; graviton-cd deploys services with the ECS (rolling update) controller, so deploy this one with CodeDeploy or its own tooling", r.Service, dc.Type))
	}
	if aws.ToString(svc.TaskDefinition) == "" {
		return finish(fmt.Errorf("deploy to service %s: it names no task definition; check it in the ECS console", r.Service))
	}
	res.PreviousTaskDefinitionARN = aws.ToString(svc.TaskDefinition)
	res.TaskDefinitionARN = res.PreviousTaskDefinitionARN
	current, tags, err := d.describeTaskDefinition(ctx, deadline, res.PreviousTaskDefinitionARN)
	if err != nil {
		return finish(err)
	}
	target := current

	if r.Image != "" {
		container, err := ChooseContainer(current, r.Container)
		if err != nil {
			return finish(err)
		}
		if rp := current.RuntimePlatform; rp == nil || rp.CpuArchitecture != types.CPUArchitectureArm64 {
			d.Log.Printf("note: task definition %s does not pin runtimePlatform cpuArchitecture ARM64; the new revision keeps it as it is", res.PreviousTaskDefinitionARN)
		}
		if r.CheckImageArch && d.Images != nil {
			d.Log.Printf("checking that %s has a linux/arm64 image", r.Image)
			if err := d.Images.CheckArm64(ctx, r.Image); err != nil {
				return finish(err)
			}
		}
		target, err = d.registerRevision(ctx, deadline, current, tags, container, r.Image, r.Settings)
		if err != nil {
			return finish(err)
		}
		res.TaskDefinitionARN = aws.ToString(target.TaskDefinitionArn)
		d.Log.Printf("registered %s: container %s now runs %s", res.TaskDefinitionARN, container, r.Image)
		if s := r.Settings; !s.empty() {
			// Names only: values stay out of the log.
			d.Log.Printf("with the given settings: %s", s.summary())
		}
	}

	update := updateRequest{Force: r.ForceNewDeployment, DesiredCount: r.DesiredCount}
	if r.Image != "" {
		update.TaskDefinition = res.TaskDefinitionARN
	}
	dep, err := d.updateService(ctx, deadline, r.Cluster, r.Service, update)
	var noDep *noDeploymentError
	res.ServiceUpdated = err == nil || errors.As(err, &noDep)
	if r.NoWait && noDep != nil {
		d.Log.Printf("service %s now runs %s; the endpoint reports no deployment of it (moto does not model deployments), and with no-wait none is followed", r.Service, res.TaskDefinitionARN)
		res.Outcome = OutcomeStarted
		return finish(nil)
	}
	if err != nil {
		return finish(err)
	}
	res.DeploymentID = aws.ToString(dep.Id)
	res.TaskDefinitionARN = aws.ToString(dep.TaskDefinition)
	d.Log.Printf("service %s updated: deployment %s of %s started", r.Service, res.DeploymentID, res.TaskDefinitionARN)
	if r.NoWait {
		d.Log.Printf("not following it (no-wait)")
		res.Outcome = OutcomeStarted
		return finish(nil)
	}

	spec := followSpec{
		Cluster: r.Cluster, Service: r.Service,
		DeploymentID: res.DeploymentID, TaskDefinition: res.TaskDefinitionARN, TaskDef: target,
		Since: deploymentSince(dep, start), SeenEvents: map[string]bool{},
	}
	err = d.followDeployment(ctx, spec, deadline, r.Timeout)
	if err == nil {
		res.Outcome = OutcomeSucceeded
		return finish(nil)
	}
	var timedOut *DeploymentTimeoutError
	switch {
	case errors.As(err, &timedOut):
		res.Outcome = OutcomeTimedOut
	case errors.Is(err, context.Canceled):
		res.Outcome = OutcomeInterrupted
	}
	if !r.RollbackOnFailure || !rollbackWorthy(err) {
		return finish(err)
	}
	if res.PreviousTaskDefinitionARN == res.TaskDefinitionARN {
		d.Log.Printf("not rolling back: the failed deployment ran the previous revision %s already", res.PreviousTaskDefinitionARN)
		return finish(err)
	}
	var rbErr error
	res.RollbackDeploymentID, rbErr = d.rollback(parent, r, rollbackFrom{previous: res.PreviousTaskDefinitionARN, failedTD: res.TaskDefinitionARN, failedID: res.DeploymentID, seenEvents: spec.SeenEvents})
	if rbErr != nil {
		res.Outcome = OutcomeRollbackFailed
		return finish(errors.Join(err, fmt.Errorf("roll back to %s: %w", res.PreviousTaskDefinitionARN, rbErr)))
	}
	res.Outcome = OutcomeRolledBack
	return finish(fmt.Errorf("%w; the service was rolled back to %s (deployment %s completed)", err, res.PreviousTaskDefinitionARN, res.RollbackDeploymentID))
}

// rollbackWorthy says whether a failure leaves the service on a revision that
// a rollback would help: not when it is gone or the user interrupted.
func rollbackWorthy(err error) bool {
	var gone *ServiceNotActiveError
	if errors.As(err, &gone) || errors.Is(err, context.Canceled) {
		return false
	}
	var (
		failed     *DeploymentFailedError
		rolled     *DeploymentRolledBackError
		vanished   *DeploymentVanishedError
		superseded *DeploymentSupersededError
		timedOut   *DeploymentTimeoutError
	)
	return errors.As(err, &failed) || errors.As(err, &rolled) || errors.As(err, &vanished) || errors.As(err, &superseded) || errors.As(err, &timedOut)
}
