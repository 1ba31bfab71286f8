// Package ownership decides, before provision plans, what to do with each
// fixed-name resource of the module that AWS already holds outside the
// stack's state:
//
//   - it carries the stack's identity (tag graviton-cd:stack-id with this
//     state's StackID): an orphan of this stack, created by a run that was
//     killed before terraform recorded it. It is imported (a Terraform import
//     block), then the apply converges.
//   - it does not: a collision. Provision refuses (exit 2) before anything
//     is created, naming each resource, instead of adopting something that is
//     not the stack's (an ECS cluster's CreateCluster is idempotent, so
//     Terraform would silently take it over) or failing half way.
//
// A name already in the state is the stack's own and is not looked up.
//
// Resources without a fixed name (the network, the listener; see
// hclgen.UnnamedResources) cannot collide, but a killed apply orphans them
// too: each that the state lacks is looked up by this stack's identity tag
// and what recognises it (its Name tag, the ends of an association, the
// port of a listener on the stack's load balancer). Exactly one match is
// imported; more than one is refused (see unnamed.go).
package ownership

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// Import is an orphan of this stack to import before the plan.
type Import struct {
	hclgen.NamedResource
	ID string // the import ID the AWS provider expects for this resource type
}

// String is "aws_launch_template.this (lt-0abc…)".
func (i Import) String() string { return fmt.Sprintf("%s (%s)", i.Address, i.ID) }

// Collision is a resource under one of the module's names that is not the
// stack's.
type Collision struct {
	hclgen.NamedResource
	Why string // "no graviton-cd:stack-id tag", "graviton-cd:stack-id=… (another stack)", …
}

// String is `ecs-cluster "demo" for aws_ecs_cluster.this: no graviton-cd:stack-id tag`.
func (c Collision) String() string {
	return fmt.Sprintf("%s %q for %s: %s", c.Kind, c.Name, c.Address, c.Why)
}

// Result is what Check found.
type Result struct {
	Imports    []Import
	Collisions []Collision
	// Unresolved are addresses of resources without a fixed name that AWS
	// holds more than once under this stack's identity, or that provision
	// cannot prove are this stack's: never guessed at.
	Unresolved []Unresolved
}

// Err is nil when nothing collides and nothing is unresolved. A collision is
// a usage error (exit 2: nothing was created) that lists every collision and
// says what to do; an unresolved address is an operation error (exit 1).
func (r Result) Err() error {
	if len(r.Collisions) == 0 {
		return r.unresolvedErr()
	}
	lines := make([]string, len(r.Collisions))
	for i, c := range r.Collisions {
		lines[i] = "  " + c.String()
	}
	return config.Usagef("name",
		"%d resource(s) this stack would create already exist in AWS and are not this stack's (they are not in its state and do not carry its %s tag); nothing was created:\n%s\n"+
			"Choose another --name, or delete or rename these resources. If they are this stack's, left by a run whose state was lost or by a graviton-cd that did not yet tag %s, "+
			"delete them (or bring them into the state yourself with terraform import in the stack directory) and rerun",
		len(r.Collisions), config.StackIDTagKey, strings.Join(lines, "\n"), config.StackIDTagKey)
}

// Input is what Check decides on.
type Input struct {
	Resources []hclgen.NamedResource // hclgen.NamedResources of the stack
	StackID   string                 // the stack's identity; empty: nothing can be proven the stack's
	// Unnamed are hclgen.UnnamedResources of the stack.
	Unnamed []hclgen.UnnamedResource
	// InState maps the address of each managed resource in the state to its
	// ID (stack.ManagedIDs).
	InState map[string]string
	// VPCID is the existing VPC the stack is given (--vpc-id), or empty.
	VPCID string
	// ProviderMajor is the AWS provider's major version (0: unknown, taken as
	// the pinned 6). Import IDs differ between 5.x and 6.x for some types.
	ProviderMajor int
}

// Checker looks the module's names up in AWS.
type Checker struct {
	ECS         ECSAPI
	IAM         IAMAPI
	ELB         ELBAPI
	Logs        LogsAPI
	EC2         EC2API
	AutoScaling AutoScalingAPI
}

// NewChecker returns a Checker with real clients from cfg.
func NewChecker(cfg aws.Config) *Checker {
	return &Checker{
		ECS:         awsx.NewECS(cfg),
		IAM:         awsx.NewIAM(cfg),
		ELB:         awsx.NewELB(cfg),
		Logs:        awsx.NewLogs(cfg),
		EC2:         awsx.NewEC2(cfg),
		AutoScaling: awsx.NewAutoScaling(cfg),
	}
}

// Check looks up every resource of in.Resources and in.Unnamed that the
// state lacks and sorts what exists into imports, collisions and unresolved
// addresses, in module order. An error
// means a lookup failed (not that a name is absent): ownership could not be
// proven, so provision must not go on.
func (c *Checker) Check(ctx context.Context, in Input) (Result, error) {
	var res Result
	for _, r := range in.Resources {
		if _, held := in.InState[r.Address]; held {
			continue
		}
		f, err := c.lookup(ctx, r, in)
		if err != nil {
			return Result{}, fmt.Errorf("check whether %s %q already exists: %w", r.Kind, r.Name, err)
		}
		if !f.exists {
			continue
		}
		if why := f.notOurs(in.StackID); why != "" {
			res.Collisions = append(res.Collisions, Collision{NamedResource: r, Why: why})
			continue
		}
		res.Imports = append(res.Imports, Import{NamedResource: r, ID: importID(r.Kind, f, in.ProviderMajor)})
	}
	if err := c.checkUnnamed(ctx, in, &res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// found is what a lookup learnt about one name.
type found struct {
	exists   bool
	tags     map[string]string
	name     string // as AWS spells it
	arn      string
	id       string // an ID that is neither name nor ARN (launch template lt-…)
	deleting bool   // on its way out: neither importable nor free yet
}

// notOurs says why f is not the stack's, or "" when it is.
func (f found) notOurs(stackID string) string {
	id, tagged := f.tags[config.StackIDTagKey]
	switch {
	case f.deleting:
		return "being deleted; rerun once it is gone"
	case !tagged:
		return "no " + config.StackIDTagKey + " tag"
	case stackID == "":
		return fmt.Sprintf("tagged %s=%s, but this stack has no identity yet to compare it with", config.StackIDTagKey, id)
	case id != stackID:
		return fmt.Sprintf("tagged %s=%s, another stack's (this one is %s)", config.StackIDTagKey, id, stackID)
	}
	return ""
}

// importID is the ID the AWS provider's importer takes for kind (provider
// documentation, "Import" section of each resource, and its source):
//
//   - name: aws_iam_role, aws_iam_instance_profile, aws_cloudwatch_log_group,
//     aws_autoscaling_group, aws_ecs_cluster (the importer builds the ARN
//     from the name, in 5.x and 6.x);
//   - ARN: aws_lb, aws_lb_target_group;
//   - launch template ID (lt-…): aws_launch_template; group ID (sg-…):
//     aws_security_group;
//   - "cluster/service": aws_ecs_service;
//   - aws_ecs_capacity_provider: the name up to 5.x (its importer appends the
//     ID to "capacity-provider/"), the ARN from 6.0 (ARN resource identity;
//     the importer parses the ID as an ARN).
func importID(kind string, f found, providerMajor int) string {
	switch kind {
	case hclgen.KindLoadBalancer, hclgen.KindTargetGroup:
		return f.arn
	case hclgen.KindLaunchTemplate, hclgen.KindSecurityGroup:
		return f.id
	case hclgen.KindECSCapacityProvider:
		if providerMajor != 0 && providerMajor < 6 {
			return f.name
		}
		return f.arn
	}
	return f.name
}
