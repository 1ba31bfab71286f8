package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// ECS-native blue/green, canary and linear deployments (the BLUE_GREEN,
// CANARY and LINEAR strategies of the ECS deployment controller, 2025). Their
// verdict is the service deployment's status, not the rollout state of
// deployments[]: ECS keeps the old revision running through the bake, rolls
// back on its own when a watched CloudWatch alarm fires, and a rollback is
// StopServiceDeployment with stopType ROLLBACK, not another UpdateService.
// Sources: the ECS API reference (ListServiceDeployments,
// DescribeServiceDeployments, StopServiceDeployment, ServiceDeployment) and
// the developer guide's blue/green, canary and linear deployment pages.

// ServiceDeploymentsAPI is the part of the ECS API that follows and stops a
// service deployment. *ecs.Client fits; Deployer.ECS must implement it to
// deploy to a blue/green, canary or linear service.
type ServiceDeploymentsAPI interface {
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, optFns ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
	StopServiceDeployment(ctx context.Context, in *ecs.StopServiceDeploymentInput, optFns ...func(*ecs.Options)) (*ecs.StopServiceDeploymentOutput, error)
}

var _ ServiceDeploymentsAPI = (*ecs.Client)(nil)

// Verifier checks the new revision while ECS still keeps the old one (the
// smoke-test checks, sent through the test listener rule). A nil error
// passes; any error fails the deployment.
type Verifier interface {
	Verify(ctx context.Context) error
}

// strategyPlan is a service's deployment strategy and its timings.
type strategyPlan struct {
	Strategy types.DeploymentStrategy // ROLLING when the service names none
	Bake     time.Duration            // bakeTimeInMinutes
	Step     time.Duration            // canary interval or linear step bake time
	Percent  float64                  // canary percent or linear step percent
	Steps    int                      // production traffic steps after the first (canary 1, linear ceil(100/p)-1)
	Alarms   []string                 // alarms ECS watches
}

// strategyOf reads the service's strategy from its deploymentConfiguration.
func strategyOf(svc *types.Service) strategyPlan {
	p := strategyPlan{Strategy: types.DeploymentStrategyRolling}
	c := svc.DeploymentConfiguration
	if c == nil {
		return p
	}
	if c.Strategy != "" {
		p.Strategy = c.Strategy
	}
	p.Bake = time.Duration(aws.ToInt32(c.BakeTimeInMinutes)) * time.Minute
	switch p.Strategy {
	case types.DeploymentStrategyCanary:
		if cc := c.CanaryConfiguration; cc != nil {
			p.Step = time.Duration(aws.ToInt32(cc.CanaryBakeTimeInMinutes)) * time.Minute
			p.Percent = aws.ToFloat64(cc.CanaryPercent)
		}
		p.Steps = 1
	case types.DeploymentStrategyLinear:
		if lc := c.LinearConfiguration; lc != nil {
			p.Step = time.Duration(aws.ToInt32(lc.StepBakeTimeInMinutes)) * time.Minute
			p.Percent = aws.ToFloat64(lc.StepPercent)
		}
		if p.Percent > 0 {
			p.Steps = int(math.Ceil(100/p.Percent)) - 1
		}
	}
	if c.Alarms != nil && c.Alarms.Enable {
		p.Alarms = c.Alarms.AlarmNames
	}
	return p
}

// shifting says whether ECS shifts traffic itself (service deployments with
// a bake), rather than replacing tasks in a rolling update.
func (p strategyPlan) shifting() bool {
	switch p.Strategy {
	case types.DeploymentStrategyBlueGreen, types.DeploymentStrategyCanary, types.DeploymentStrategyLinear:
		return true
	}
	return false
}

// waits is how long ECS waits on purpose: the canary interval or linear
// steps, then the bake. Deploy adds it to its default timeout, which is for
// starting tasks and shifting traffic.
func (p strategyPlan) waits() time.Duration {
	return time.Duration(p.Steps)*p.Step + p.Bake
}

// describe is the plan for a progress line: "CANARY: 10% for 5m, then a 20m bake".
func (p strategyPlan) describe() string {
	var b strings.Builder
	b.WriteString(string(p.Strategy))
	switch p.Strategy {
	case types.DeploymentStrategyCanary:
		fmt.Fprintf(&b, ": %g%% of production traffic for %s, then the rest", p.Percent, progress.Duration(p.Step))
	case types.DeploymentStrategyLinear:
		fmt.Fprintf(&b, ": %g%% more production traffic every %s", p.Percent, progress.Duration(p.Step))
	}
	fmt.Fprintf(&b, "; bake %s with the old revision still running", progress.Duration(p.Bake))
	if len(p.Alarms) > 0 {
		fmt.Fprintf(&b, "; ECS rolls back if alarm %s fires", strings.Join(p.Alarms, ", "))
	}
	return b.String()
}

// refuseController is the exit-2 answer for a service whose deployments
// graviton-cd cannot start, before anything changes.
func refuseController(service string, dc types.DeploymentControllerType) error {
	instead := "deploy it with the tool that owns its deployments"
	switch dc {
	case types.DeploymentControllerTypeCodeDeploy:
		instead = "deploy it with CodeDeploy (aws deploy create-deployment with an AppSpec), or move it to the ECS controller with the BLUE_GREEN strategy (provision --strategy blue-green), which graviton-cd follows and verifies"
	case types.DeploymentControllerTypeExternal:
		instead = "deploy it with the tool that creates its task sets (CreateTaskSet/UpdateServicePrimaryTaskSet), or move it to the ECS controller"
	}
	return config.Usagef("service", "service %s uses the %s deployment controller, and graviton-cd deploys only services with the ECS controller (rolling, blue/green, canary or linear): %s; nothing was changed", service, dc, instead)
}

// ServiceDeploymentFailedError says a blue/green, canary or linear service
// deployment ended or turned into a rollback instead of SUCCESSFUL.
type ServiceDeploymentFailedError struct {
	ARN             string
	Status          types.ServiceDeploymentStatus
	Stage           types.ServiceDeploymentLifecycleStage
	Reason          string
	TriggeredAlarms []string
}

// Error says what happened and what to do next; a failed rollback loudly.
func (e *ServiceDeploymentFailedError) Error() string {
	var b strings.Builder
	if e.Status == types.ServiceDeploymentStatusRollbackFailed {
		fmt.Fprintf(&b, "ROLLBACK FAILED: service deployment %s could not be rolled back, so the service may be half shifted (some production traffic on the new revision, some on the old)", sdID(e.ARN))
	} else {
		fmt.Fprintf(&b, "service deployment %s is %s", sdID(e.ARN), e.Status)
		if e.Stage != "" {
			fmt.Fprintf(&b, " (during %s)", e.Stage)
		}
	}
	if len(e.TriggeredAlarms) > 0 {
		fmt.Fprintf(&b, ": alarm %s fired", strings.Join(e.TriggeredAlarms, ", "))
	}
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimRight(e.Reason, ". "))
	}
	switch e.Status {
	case types.ServiceDeploymentStatusRollbackFailed:
		b.WriteString("; look at the listener rules' target group weights and the service's deployments in the ECS console now, and put traffic back by hand if needed")
	case types.ServiceDeploymentStatusStopped:
		b.WriteString("; someone stopped it or a newer deployment replaced it: check the service's deployments before deploying again")
	default:
		b.WriteString("; ECS puts the previous revision back: read the events above, fix the cause and deploy again")
	}
	return b.String()
}

// VerificationFailedError says the checks failed against the new revision.
type VerificationFailedError struct {
	Err error
	// Stopped says deploy asked ECS to roll the service deployment back.
	Stopped bool
}

// Error says what failed.
func (e *VerificationFailedError) Error() string {
	return fmt.Sprintf("verification of the new revision failed: %v", e.Err)
}

// Unwrap returns the checks' error.
func (e *VerificationFailedError) Unwrap() error { return e.Err }

// sdID is the last element of a service deployment ARN.
func sdID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

// stageLine says where a service deployment stands, for a progress line.
func stageLine(sd *types.ServiceDeployment, bakeUntil time.Time) string {
	var stage string
	prod := 0.0
	if t := sd.TargetServiceRevision; t != nil {
		prod = aws.ToFloat64(t.RequestedProductionTrafficWeight)
	}
	switch sd.LifecycleStage {
	case types.ServiceDeploymentLifecycleStagePreScaleUp, types.ServiceDeploymentLifecycleStageScaleUp, types.ServiceDeploymentLifecycleStagePostScaleUp:
		stage = "scale up: starting the new revision's tasks"
	case types.ServiceDeploymentLifecycleStageTestTrafficShift:
		stage = "test traffic shifting to the new revision"
	case types.ServiceDeploymentLifecycleStagePostTestTrafficShift:
		stage = "test traffic on the new revision; production still on the old"
	case stagePreProductionTrafficShift, types.ServiceDeploymentLifecycleStageProductionTrafficShift, types.ServiceDeploymentLifecycleStagePostProductionTrafficShift:
		stage = fmt.Sprintf("production traffic shifted %g %% to the new revision", prod)
	case types.ServiceDeploymentLifecycleStageBakeTime:
		stage = "baking"
		if !bakeUntil.IsZero() {
			stage += " until " + bakeUntil.UTC().Format("15:04:05Z") + " (the old revision stays up for an instant rollback)"
		}
	case types.ServiceDeploymentLifecycleStageCleanUp:
		stage = "clean up: scaling the old revision in"
	case "":
		stage = "not started"
	default:
		stage = string(sd.LifecycleStage)
	}
	switch sd.Status {
	case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress:
		stage = fmt.Sprintf("rolling back: %g %% of production traffic on the new revision", prod)
	case types.ServiceDeploymentStatusRollbackSuccessful:
		stage = "rolled back: the previous revision has all traffic"
	case types.ServiceDeploymentStatusRollbackFailed:
		stage = fmt.Sprintf("rollback failed with %g %% of production traffic on the new revision", prod)
	}
	return fmt.Sprintf("service deployment %s %s: %s", sdID(aws.ToString(sd.ServiceDeploymentArn)), sd.Status, stage)
}

// judgeServiceDeployment decides from one look at a service deployment.
// Before a rollback: SUCCESSFUL is success; STOPPED and every ROLLBACK_*
// status is a failure at once (ROLLBACK_REQUESTED is ECS's verdict, the
// rollback only follows from it). While following a rollback: it is done at
// ROLLBACK_SUCCESSFUL (nil), ROLLBACK_FAILED or STOPPED (an error).
func judgeServiceDeployment(sd *types.ServiceDeployment, rollback bool) (done bool, err error) {
	fail := func() error {
		e := &ServiceDeploymentFailedError{ARN: aws.ToString(sd.ServiceDeploymentArn), Status: sd.Status, Stage: sd.LifecycleStage, Reason: aws.ToString(sd.StatusReason)}
		if a := sd.Alarms; a != nil {
			e.TriggeredAlarms = a.TriggeredAlarmNames
		}
		return e
	}
	switch st := sd.Status; {
	case rollback && st == types.ServiceDeploymentStatusRollbackSuccessful:
		return true, nil
	case rollback && (st == types.ServiceDeploymentStatusRollbackFailed || st == types.ServiceDeploymentStatusStopped || st == types.ServiceDeploymentStatusSuccessful):
		return true, fail()
	case rollback:
		return false, nil
	case st == types.ServiceDeploymentStatusSuccessful:
		return true, nil
	case st == types.ServiceDeploymentStatusStopped, st == types.ServiceDeploymentStatusRollbackRequested, st == types.ServiceDeploymentStatusRollbackInProgress,
		st == types.ServiceDeploymentStatusRollbackSuccessful, st == types.ServiceDeploymentStatusRollbackFailed:
		return true, fail()
	}
	return false, nil // PENDING, IN_PROGRESS, STOP_REQUESTED
}

// stagePreProductionTrafficShift is in the ECS API reference but not yet in
// the SDK's enum.
const stagePreProductionTrafficShift types.ServiceDeploymentLifecycleStage = "PRE_PRODUCTION_TRAFFIC_SHIFT"

// testTrafficReady says whether the test listener rule sends the test
// header's requests to the new revision: from the end of the test traffic
// shift until clean up.
func testTrafficReady(s types.ServiceDeploymentLifecycleStage) bool {
	switch s {
	case types.ServiceDeploymentLifecycleStagePostTestTrafficShift, stagePreProductionTrafficShift,
		types.ServiceDeploymentLifecycleStageProductionTrafficShift, types.ServiceDeploymentLifecycleStagePostProductionTrafficShift,
		types.ServiceDeploymentLifecycleStageBakeTime:
		return true
	}
	return false
}

// Service deployments are polled at most this far apart, so that ECS's
// rollback (an alarm fired) is reported within two seconds even deep in a
// long bake. Two calls per poll (the service deployment, the service's
// events) stay far below ECS's describe rate limits.
const shiftPoll = 2 * time.Second

// findWindow is how long deploy looks for the service deployment its
// UpdateService started before it gives up on it.
const findWindow = 2 * time.Minute

// sdFollower follows one service deployment (a fetcher for Deployer.follow).
type sdFollower struct {
	d        *Deployer
	api      ServiceDeploymentsAPI
	spec     followSpec
	plan     strategyPlan
	report   *reporter
	schedule pollSchedule
	started  time.Time
	verify   Verifier
	// rollback follows the service deployment to the end of its rollback.
	rollback bool

	arn       string // found by ListServiceDeployments
	lastState string
	last      *types.ServiceDeployment
	stage     types.ServiceDeploymentLifecycleStage
	bakeUntil time.Time
	verified  bool
	toldFind  bool
}

func (f *sdFollower) seen() lastSeen { return lastSeen{state: f.lastState} }

// Fetch looks at the service deployment once (finding it first), and at the
// service's events.
func (f *sdFollower) Fetch(ctx context.Context) (time.Time, bool, error) {
	now := f.d.clock().Now()
	next := now.Add(f.schedule.next(now.Sub(f.started)))
	if svc, err := f.d.describeService(ctx, f.spec.Cluster, f.spec.Service); err == nil {
		f.report.events(svc)
	} else if gone := (*ServiceNotActiveError)(nil); errors.As(err, &gone) {
		return next, true, err
	}
	if f.arn == "" {
		arn, err := f.find(ctx)
		if err != nil {
			return next, false, err
		}
		if arn == "" {
			if now.Sub(f.started) > findWindow {
				return next, true, &DeploymentVanishedError{DeploymentID: f.spec.DeploymentID, LastState: "ECS lists no service deployment for it"}
			}
			if !f.toldFind {
				f.d.Log.Printf("waiting for ECS to list the service deployment of %s", f.spec.DeploymentID)
				f.toldFind = true
			}
			return next, false, nil
		}
		f.arn = arn
		f.d.Log.Printf("following service deployment %s (%s)", sdID(arn), arn)
	}
	out, err := withCallTimeout(ctx, f.d, func(ctx context.Context) (*ecs.DescribeServiceDeploymentsOutput, error) {
		return f.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{f.arn}}, withoutSDKRetries)
	})
	if err != nil {
		return next, false, err
	}
	if len(out.ServiceDeployments) == 0 {
		return next, true, &DeploymentVanishedError{DeploymentID: sdID(f.arn), LastState: "DescribeServiceDeployments does not know it"}
	}
	sd := out.ServiceDeployments[0]
	f.last = &sd
	if sd.LifecycleStage != f.stage {
		f.stage = sd.LifecycleStage
		if f.stage == types.ServiceDeploymentLifecycleStageBakeTime {
			f.bakeUntil = aws.ToTime(sd.UpdatedAt)
			if f.bakeUntil.IsZero() {
				f.bakeUntil = now
			}
			f.bakeUntil = f.bakeUntil.Add(f.plan.Bake)
		}
	}
	if s := stageLine(&sd, f.bakeUntil); s != f.lastState {
		f.d.Log.Printf("%s", s)
		f.lastState = s
	}
	done, verdict := judgeServiceDeployment(&sd, f.rollback)
	if done || f.rollback || f.verify == nil || f.verified || sd.Status != types.ServiceDeploymentStatusInProgress || !testTrafficReady(sd.LifecycleStage) {
		return next, done, verdict
	}
	f.verified = true
	done, verdict = f.runVerification(ctx)
	return next, done, verdict
}

// runVerification runs the checks once; if they fail it stops the service
// deployment with ROLLBACK (one StopServiceDeployment) and ends the follow.
func (f *sdFollower) runVerification(ctx context.Context) (bool, error) {
	f.d.Log.Printf("verifying the new revision through the test listener rule while the old one still serves production")
	verr := f.verify.Verify(ctx)
	if verr == nil {
		f.d.Log.Printf("verification passed: waiting for ECS to finish the deployment")
		return false, nil
	}
	if ctx.Err() != nil {
		return true, fmt.Errorf("verify the new revision: interrupted: %w", ctx.Err())
	}
	f.d.Log.Printf("verification FAILED: %v", verr)
	e := &VerificationFailedError{Err: verr}
	if err := f.stop(ctx); err != nil {
		return true, errors.Join(e, err)
	}
	e.Stopped = true
	return true, e
}

// stop asks ECS to roll the service deployment back (StopServiceDeployment
// ROLLBACK): ECS shifts traffic back to the revision it kept running. It
// never starts another deployment.
func (f *sdFollower) stop(ctx context.Context) error {
	f.d.Log.Printf("stopping service deployment %s with ROLLBACK: ECS shifts traffic back to the previous revision", sdID(f.arn))
	deadline := f.d.clock().Now().Add(time.Minute)
	_, err := callWithRetry(ctx, f.d, deadline, "stop service deployment", func(ctx context.Context) (*ecs.StopServiceDeploymentOutput, error) {
		return withCallTimeout(ctx, f.d, func(ctx context.Context) (*ecs.StopServiceDeploymentOutput, error) {
			return f.api.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{
				ServiceDeploymentArn: aws.String(f.arn), StopType: types.StopServiceDeploymentStopTypeRollback,
			}, withoutSDKRetries)
		})
	})
	if err != nil {
		return fmt.Errorf("stop service deployment %s with ROLLBACK: %w (the role needs ecs:StopServiceDeployment; if it had already finished, the new revision is live: deploy the previous one)", sdID(f.arn), err)
	}
	return nil
}

// find looks for the service deployment that the followed deployment
// belongs to. A service revision's ID is the number of the deployment ID
// (ecs-svc/<n>), so the one targeting revision <n> is it; failing that, the
// oldest one created since the deployment began (ECS creates both in the same
// UpdateService call).
func (f *sdFollower) find(ctx context.Context) (string, error) {
	after := f.spec.Since.Add(-5 * time.Second)
	out, err := withCallTimeout(ctx, f.d, func(ctx context.Context) (*ecs.ListServiceDeploymentsOutput, error) {
		return f.api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: aws.String(f.spec.Cluster), Service: aws.String(f.spec.Service),
			CreatedAt: &types.CreatedAt{After: aws.Time(after)},
		}, withoutSDKRetries)
	})
	if err != nil {
		return "", err
	}
	revision := "/" + strings.TrimPrefix(f.spec.DeploymentID, "ecs-svc/")
	var oldest *types.ServiceDeploymentBrief
	for i := range out.ServiceDeployments {
		b := &out.ServiceDeployments[i]
		if strings.HasSuffix(aws.ToString(b.TargetServiceRevisionArn), revision) {
			return aws.ToString(b.ServiceDeploymentArn), nil
		}
		if oldest == nil || aws.ToTime(b.CreatedAt).Before(aws.ToTime(oldest.CreatedAt)) {
			oldest = b
		}
	}
	if oldest == nil {
		return "", nil
	}
	return aws.ToString(oldest.ServiceDeploymentArn), nil
}

// shiftTimeout is the timeout for a deploy to a service with plan: the
// user's own, or by default the default plus the strategy's waits, so that a
// bake longer than the default does not time out while both revisions run.
func shiftTimeout(r Request, plan strategyPlan) time.Duration {
	if r.TimeoutSet || !plan.shifting() {
		return r.Timeout
	}
	return r.Timeout + plan.waits()
}

// followShift follows a blue/green, canary or linear service deployment to
// its verdict, verifying the new revision on the way, and when it fails
// follows ECS's rollback to its end. It fills in res and returns the error
// for Deploy.
func (d *Deployer) followShift(ctx, parent context.Context, r Request, res *Result, spec followSpec, plan strategyPlan, deadline time.Time, timeout time.Duration) error {
	api, ok := d.ECS.(ServiceDeploymentsAPI)
	if !ok {
		return fmt.Errorf("follow service deployment: this ECS client cannot list service deployments")
	}
	f := &sdFollower{d: d, api: api, spec: spec, plan: plan, report: newReporter(d, spec), started: d.clock().Now(),
		verify: r.Verify, schedule: pollSchedule{max: shiftPoll}}
	err := d.follow(ctx, f, deadline, f.seen, spec, timeout)
	res.VerdictAt = d.clock().Now()
	res.ServiceDeploymentARN = f.arn
	if err == nil {
		res.Outcome = OutcomeSucceeded
		return nil
	}
	var (
		failed   *ServiceDeploymentFailedError
		verif    *VerificationFailedError
		timedOut *DeploymentTimeoutError
	)
	rollingBack := false
	switch {
	case errors.As(err, &verif):
		res.VerificationFailed = true
		rollingBack = verif.Stopped
	case errors.As(err, &failed):
		d.Log.Printf("deployment FAILED: %v", err)
		switch failed.Status {
		case types.ServiceDeploymentStatusRollbackRequested, types.ServiceDeploymentStatusRollbackInProgress:
			rollingBack = true
		case types.ServiceDeploymentStatusRollbackSuccessful:
			res.Outcome = OutcomeRolledBack
			return err
		case types.ServiceDeploymentStatusRollbackFailed:
			res.Outcome = OutcomeRollbackFailed
			return err
		}
	case errors.As(err, &timedOut):
		res.Outcome = OutcomeTimedOut
		if r.RollbackOnFailure && f.arn != "" {
			if serr := f.stop(parent); serr != nil {
				return errors.Join(err, serr)
			}
			rollingBack = true
		}
	case errors.Is(err, context.Canceled):
		res.Outcome = OutcomeInterrupted
	}
	if !rollingBack {
		return err
	}
	// Follow the rollback to its end, on a deadline of its own, so that the
	// result says whether the old revision has all the traffic again.
	d.Log.Printf("following the rollback of service deployment %s", sdID(f.arn))
	f.rollback, f.started = true, d.clock().Now()
	rbCtx, cancel := context.WithTimeout(parent, r.Timeout+callGrace)
	defer cancel()
	rbErr := d.follow(rbCtx, f, f.started.Add(r.Timeout), f.seen, spec, r.Timeout)
	if rbErr != nil {
		res.Outcome = OutcomeRollbackFailed
		d.Log.Printf("%v", rbErr)
		return errors.Join(err, rbErr)
	}
	res.Outcome = OutcomeRolledBack
	d.Log.Printf("rollback of service deployment %s SUCCESSFUL: the previous revision %s has all traffic again", sdID(f.arn), res.PreviousTaskDefinitionARN)
	return fmt.Errorf("%w; ECS rolled the service back to %s", err, res.PreviousTaskDefinitionARN)
}

// verifyRolling runs the checks after a rolling deployment COMPLETED. With a
// rolling update the old revision is gone by then, so a failure can only be
// undone by deploying it again (Deploy's rollback, with RollbackOnFailure).
func (d *Deployer) verifyRolling(ctx context.Context, res *Result, v Verifier) error {
	d.Log.Printf("verifying the new revision (rolling: every task runs it now)")
	if err := v.Verify(ctx); err != nil {
		res.VerificationFailed = true
		d.Log.Printf("verification FAILED: %v", err)
		return &VerificationFailedError{Err: err}
	}
	d.Log.Printf("verification passed")
	return nil
}
