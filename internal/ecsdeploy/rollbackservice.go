package ecsdeploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// RollbackRequest puts a service back on an earlier revision.
type RollbackRequest struct {
	Cluster, Service string
	// To is the revision to go back to: a number, family:number or a task
	// definition ARN of the service's family. Empty means the previous one:
	// the family's highest ACTIVE revision below the current.
	To      string
	Force   bool          // roll back even while a deployment is in progress
	Timeout time.Duration // for following the rollback deployment
	NoWait  bool          // stop after UpdateService (emulators such as moto)
}

// OutcomeUnchanged says the service already ran the revision asked for.
const OutcomeUnchanged = "unchanged"

// Validate refuses a request that cannot be carried out, before any AWS call.
func (r RollbackRequest) Validate() error {
	if r.Timeout <= 0 {
		return config.Usagef("timeout", "%s is not a timeout: use a positive duration such as 15m or 900s", r.Timeout)
	}
	if r.To != "" {
		if _, _, err := parseRevisionRef(r.To); err != nil {
			return err
		}
	}
	return nil
}

// parseRevisionRef splits --to into a family ("" when only a number was
// given) and a revision number.
func parseRevisionRef(to string) (family string, rev int, err error) {
	ref := to
	if i := strings.LastIndex(ref, "task-definition/"); strings.HasPrefix(ref, "arn:") && i >= 0 {
		ref = ref[i+len("task-definition/"):]
	} else if strings.HasPrefix(ref, "arn:") {
		return "", 0, config.Usagef("to", "%q is not a task definition ARN: use a revision number, family:revision or arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>", to)
	}
	num := ref
	if i := strings.LastIndex(ref, ":"); i >= 0 {
		family, num = ref[:i], ref[i+1:]
		if family == "" {
			return "", 0, config.Usagef("to", "%q names no family: use a revision number or family:revision", to)
		}
	}
	rev, err = strconv.Atoi(num)
	if err != nil || rev < 1 {
		return "", 0, config.Usagef("to", "%q is not a revision: use a revision number such as 41, family:41 or a task definition ARN", to)
	}
	return family, rev, nil
}

// revisionARN is the ARN of revision rev of td's family, in td's account and region.
func revisionARN(td *types.TaskDefinition, rev int) string {
	arn := aws.ToString(td.TaskDefinitionArn)
	return arn[:strings.LastIndex(arn, ":")+1] + strconv.Itoa(rev)
}

// RollbackService updates the service to an earlier revision of its task
// definition and follows that deployment to a verdict, as Deploy follows
// its own. It refuses, changing nothing, while a deployment is in progress
// (unless Force) and when the revision asked for is of another family.
// Result.PreviousTaskDefinitionARN is the revision rolled back from.
func (d *Deployer) RollbackService(ctx context.Context, r RollbackRequest) (Result, error) {
	start := d.clock().Now()
	res := Result{Cluster: r.Cluster, Service: r.Service, Outcome: OutcomeFailed}
	finish := func(err error) (Result, error) {
		res.Duration = d.clock().Now().Sub(start)
		return res, err
	}
	if err := r.Validate(); err != nil {
		return finish(err)
	}
	deadline := start.Add(r.Timeout)
	ctx, cancel := context.WithTimeout(ctx, r.Timeout+callGrace)
	defer cancel()

	st, err := d.inspect(ctx, deadline, r.Cluster, r.Service)
	if err != nil {
		return finish(err)
	}
	current := st.TaskDefinition
	res.PreviousTaskDefinitionARN = aws.ToString(current.TaskDefinitionArn)
	res.TaskDefinitionARN = res.PreviousTaskDefinitionARN
	if dc := st.Service.DeploymentController; dc != nil && dc.Type != "" && dc.Type != types.DeploymentControllerTypeEcs {
		return finish(fmt.Errorf("roll back service %s: it uses the %s deployment controller; roll it back with CodeDeploy or its own tooling", r.Service, dc.Type))
	}
	if dep := InProgress(st.Service); dep != nil && !r.Force {
		return finish(config.Usagef("force", "service %s has deployment %s of %s in progress: wait for it to end (graviton-cd status), or pass --force to roll back over it",
			r.Service, aws.ToString(dep.Id), aws.ToString(dep.TaskDefinition)))
	}

	target, err := d.rollbackTarget(ctx, deadline, current, r.To)
	if err != nil {
		return finish(err)
	}
	res.TaskDefinitionARN = aws.ToString(target.TaskDefinitionArn)
	if res.TaskDefinitionARN == res.PreviousTaskDefinitionARN {
		d.Log.Printf("service %s already runs %s: nothing to roll back", r.Service, res.TaskDefinitionARN)
		res.Outcome = OutcomeUnchanged
		return finish(nil)
	}
	d.Log.Printf("rolling back service %s from %s to %s", r.Service, res.PreviousTaskDefinitionARN, res.TaskDefinitionARN)
	dep, err := d.updateService(ctx, deadline, r.Cluster, r.Service, updateRequest{TaskDefinition: res.TaskDefinitionARN})
	var noDep *noDeploymentError
	res.ServiceUpdated = err == nil || errors.As(err, &noDep)
	if r.NoWait && noDep != nil {
		d.Log.Printf("service %s now runs %s; the endpoint reports no deployment of it, and with no-wait none is followed", r.Service, res.TaskDefinitionARN)
		res.Outcome = OutcomeStarted
		return finish(nil)
	}
	if err != nil {
		return finish(err)
	}
	res.DeploymentID = aws.ToString(dep.Id)
	d.Log.Printf("service %s updated: rollback deployment %s of %s started", r.Service, res.DeploymentID, res.TaskDefinitionARN)
	if r.NoWait {
		d.Log.Printf("not following it (no-wait)")
		res.Outcome = OutcomeStarted
		return finish(nil)
	}
	spec := followSpec{
		Cluster: r.Cluster, Service: r.Service, DeploymentID: res.DeploymentID,
		TaskDefinition: res.TaskDefinitionARN, TaskDef: target,
		Since: deploymentSince(dep, start), SeenEvents: map[string]bool{},
	}
	err = d.followDeployment(ctx, spec, deadline, r.Timeout)
	var timedOut *DeploymentTimeoutError
	switch {
	case err == nil:
		res.Outcome = OutcomeSucceeded
	case errors.As(err, &timedOut):
		res.Outcome = OutcomeTimedOut
	case errors.Is(err, context.Canceled):
		res.Outcome = OutcomeInterrupted
	}
	return finish(err)
}

// rollbackTarget describes the revision to roll back to: to, or the
// family's highest ACTIVE revision below current.
func (d *Deployer) rollbackTarget(ctx context.Context, deadline time.Time, current *types.TaskDefinition, to string) (*types.TaskDefinition, error) {
	family := aws.ToString(current.Family)
	var arn string
	if to != "" {
		f, rev, err := parseRevisionRef(to)
		if err != nil {
			return nil, err
		}
		if f != "" && f != family {
			return nil, config.Usagef("to", "%s is a revision of family %s, but the service runs family %s: pass a revision of %s", to, f, family, family)
		}
		arn = revisionARN(current, rev)
	} else {
		prev, err := d.previousRevision(ctx, deadline, current)
		if err != nil {
			return nil, err
		}
		arn = prev
	}
	td, _, err := d.describeTaskDefinition(ctx, deadline, arn)
	if err != nil {
		return nil, usageTaskDefinition(err, "to", arn)
	}
	if aws.ToString(td.Family) != family {
		return nil, config.Usagef("to", "%s is of family %s, not %s", arn, aws.ToString(td.Family), family)
	}
	if td.Status == types.TaskDefinitionStatusInactive || td.Status == types.TaskDefinitionStatusDeleteInProgress {
		return nil, config.Usagef("to", "%s is %s (deregistered): pick an ACTIVE revision (aws ecs list-task-definitions --family-prefix %s)", arn, td.Status, family)
	}
	return td, nil
}

// previousRevision is the ARN of the family's highest ACTIVE revision below
// current's.
func (d *Deployer) previousRevision(ctx context.Context, deadline time.Time, current *types.TaskDefinition) (string, error) {
	lister, ok := d.ECS.(TaskDefinitionLister)
	if !ok {
		return "", errors.New("list task definitions: this ECS client cannot list revisions; pass --to")
	}
	family := aws.ToString(current.Family)
	in := &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive, Sort: types.SortOrderDesc,
	}
	for {
		out, err := callWithRetry(ctx, d, deadline, "list task definitions", func(ctx context.Context) (*ecs.ListTaskDefinitionsOutput, error) {
			return withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.ListTaskDefinitionsOutput, error) {
				return lister.ListTaskDefinitions(ctx, in, withoutSDKRetries)
			})
		})
		if err != nil {
			return "", fmt.Errorf("list task definitions of %s: %w (the role needs ecs:ListTaskDefinitions)", family, err)
		}
		// familyPrefix matches web and web-worker alike: keep the family's own.
		var revs []int
		byRev := map[int]string{}
		for _, arn := range out.TaskDefinitionArns {
			f, rev, err := parseRevisionRef(arn)
			if err != nil || f != family || int32(rev) >= current.Revision {
				continue
			}
			revs = append(revs, rev)
			byRev[rev] = arn
		}
		if len(revs) > 0 {
			return byRev[slices.Max(revs)], nil
		}
		if aws.ToString(out.NextToken) == "" {
			return "", config.Usagef("to", "family %s has no ACTIVE revision below %d to roll back to: pass --to with a revision", family, current.Revision)
		}
		in.NextToken = out.NextToken
	}
}
