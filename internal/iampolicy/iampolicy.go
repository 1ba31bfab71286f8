// Package iampolicy writes the least-privilege IAM policy that the CI role
// running graviton-cd needs: the calls of the tool itself (deploy, the
// destroy clean-up and leftover check) and those the Terraform AWS provider
// makes while it creates, refreshes, updates and deletes the rendered stack.
//
// Every action is listed in catalogue with the reason it is needed; a test
// records the AWS calls of the real subcommands against the local stack and
// checks that Policy allows each one.
package iampolicy

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// Step is a graviton-cd subcommand that a CI job runs.
type Step string

// The steps of a pipeline, in the order they run.
const (
	Provision Step = "provision"
	Deploy    Step = "deploy"
	SmokeTest Step = "smoke-test" // HTTP to the service; with --name it reads the stack's URL from its state
	Destroy   Step = "destroy"
	Status    Step = "status" // read only: the service, its tasks and targets
	// The debugging verbs, run when something went wrong (or, run-task, to
	// migrate before a deploy).
	Logs     Step = "logs"     // read only: the service's log group
	Rollback Step = "rollback" // the service back to an earlier revision
	RunTask  Step = "run-task" // a one-off task on the service's network
)

// Steps returns every step, in pipeline order.
func Steps() []Step {
	return []Step{Provision, Deploy, SmokeTest, Destroy, Status, Logs, Rollback, RunTask}
}

// ParseStep returns the step called s.
func ParseStep(s string) (Step, error) {
	for _, st := range Steps() {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("%q is not a step: use provision, deploy, smoke-test, destroy, status, logs, rollback or run-task", s)
}

// StackTagKey is the tag every resource of a stack carries (the provider's
// default_tags); EC2 deletions are limited to resources that carry it.
const StackTagKey = config.StackTagKey

// Options choose the steps and narrow the resources of the policy. Empty
// fields leave that part of the ARNs a wildcard.
type Options struct {
	Steps     []Step // nil means every step
	Stack     string // stack name (provision --name); empty means any stack
	AccountID string // 12-digit AWS account ID
	Region    string // region of the stack, e.g. us-east-1
	// StateBucket is the S3 bucket of the Terraform state. Empty means the
	// default bucket graviton-cd-state-<account>-<region> (wildcards where
	// those are not given), which provision creates and sets up.
	StateBucket string
	StateKey    string // object key of the state; default graviton-cd/<stack>/terraform.tfstate
	LocalState  bool   // --state-backend local: no S3 statements at all
	// TaskRolePolicyARNs are provision's --task-role-policy-arn: the only
	// policies the CI role may attach to the task role (none without them).
	TaskRolePolicyARNs []string
	// HostedZoneID is provision's --hosted-zone-id: the only zone whose
	// records the CI role may change (none without it).
	HostedZoneID string
}

var (
	stackRE   = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	bucketRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// A managed policy ARN: no wildcard can widen what may be attached.
	policyARNRE  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::([0-9]{12}|aws):policy/[A-Za-z0-9+=,.@_/-]+$`)
	hostedZoneRE = regexp.MustCompile(`^[A-Z0-9]{1,32}$`)
)

// FieldError names the option that is wrong, so the CLI can name its flag.
type FieldError struct {
	Field string // stack, account-id, region, state-bucket, state-key or for
	Msg   string
}

// Error says what is wrong and what would be right.
func (e *FieldError) Error() string { return e.Msg }

// Validate checks every value that goes into an ARN: a wildcard or a stray
// character there would quietly widen the policy.
func (o Options) Validate() error {
	switch {
	case o.Stack != "" && (!stackRE.MatchString(o.Stack) || strings.HasSuffix(o.Stack, "-")):
		return &FieldError{"stack", fmt.Sprintf("%q is not a stack name: use the --name given to provision (3-20 lowercase letters, digits and hyphens, starting with a letter)", o.Stack)}
	case o.AccountID != "" && !accountRE.MatchString(o.AccountID):
		return &FieldError{"account-id", fmt.Sprintf("%q is not an AWS account ID: use the 12 digits, for example 123456789012", o.AccountID)}
	case o.Region != "" && !regionRE.MatchString(o.Region):
		return &FieldError{"region", fmt.Sprintf("%q is not an AWS region: use for example us-east-1", o.Region)}
	case o.StateBucket != "" && (!bucketRE.MatchString(o.StateBucket) || strings.Contains(o.StateBucket, "..")):
		return &FieldError{"state-bucket", fmt.Sprintf("%q is not an S3 bucket name: use 3-63 lowercase letters, digits, dots and hyphens", o.StateBucket)}
	case slices.ContainsFunc(o.TaskRolePolicyARNs, func(a string) bool { return !policyARNRE.MatchString(a) }):
		return &FieldError{"task-role-policy-arn", "give the provision --task-role-policy-arn values: IAM managed policy ARNs such as arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess, without wildcards"}
	case o.LocalState && (o.StateBucket != "" || o.StateKey != ""):
		return &FieldError{"state-bucket", "--state-bucket and --state-key describe S3 state: drop them, or drop --state-backend local"}
	case o.HostedZoneID != "" && !hostedZoneRE.MatchString(o.HostedZoneID):
		return &FieldError{"hosted-zone-id", fmt.Sprintf("%q is not a Route 53 hosted zone ID: use the provision --hosted-zone-id, for example Z0123456789ABCDEFGHIJ", o.HostedZoneID)}
	case strings.ContainsAny(o.StateKey, "*?$") || strings.HasPrefix(o.StateKey, "/") || strings.HasSuffix(o.StateKey, "/"):
		return &FieldError{"state-key", fmt.Sprintf("%q is not a state key for a policy: use the --state-key given to provision, without *, ?, $ or a leading or trailing slash", o.StateKey)}
	}
	return nil
}

// Document is an IAM policy document. Its JSON is the same on every run:
// statements in catalogue order, actions and resources sorted, condition
// maps sorted by encoding/json.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one Allow statement.
type Statement struct {
	Sid       string    `json:"Sid"`
	Effect    string    `json:"Effect"`
	Action    []string  `json:"Action"`
	Resource  []string  `json:"Resource"`
	Condition Condition `json:"Condition,omitempty"`
}

// Condition maps an operator (StringEquals) to condition keys and values.
type Condition map[string]map[string][]string

// JSON returns the document indented, with a final newline.
func (d Document) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode IAM policy: %w", err)
	}
	return append(b, '\n'), nil
}

// Policy returns the policy for o. It assumes o is valid (see Validate).
// With only smoke-test selected the policy reads the state (to find the
// stack by --name) and nothing else; smoke-test --url needs no AWS access.
func Policy(o Options) Document {
	steps := o.Steps
	if len(steps) == 0 {
		steps = Steps()
	}
	s := newScope(o)
	needed := needOf(steps)
	doc := Document{Version: "2012-10-17", Statement: []Statement{}}
	for _, g := range catalogue() {
		var actions []string
		for _, a := range g.actions {
			if a.by&needed != 0 {
				actions = append(actions, a.name)
			}
		}
		if len(actions) == 0 {
			continue
		}
		if g.needsState && o.LocalState || g.defaultState && o.StateBucket != "" || g.only != nil && !g.only(s) {
			continue
		}
		slices.Sort(actions)
		actions = slices.Compact(actions)
		res := g.resources(s)
		slices.Sort(res)
		st := Statement{Sid: g.sid, Effect: "Allow", Action: actions, Resource: slices.Compact(res)}
		if g.condition != nil {
			st.Condition = g.condition(s)
		}
		doc.Statement = append(doc.Statement, st)
	}
	return doc
}

// Allows reports whether an Allow statement of d names action, directly or
// through a wildcard such as "ec2:Describe*" or "*". Like IAM it compares
// action names without regard to case. Resources and conditions are not
// considered: this answers "is the action granted at all".
func Allows(d Document, action string) bool {
	for _, st := range d.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, pattern := range st.Action {
			if matchWildcard(strings.ToLower(pattern), strings.ToLower(action)) {
				return true
			}
		}
	}
	return false
}

// AllowsOn reports whether an Allow statement of d names action and a
// resource that matches arn, wildcards included (resources compare with
// case, as in IAM). Conditions are not evaluated.
func AllowsOn(d Document, action, arn string) bool {
	for _, st := range d.Statement {
		if st.Effect != "Allow" {
			continue
		}
		named := slices.ContainsFunc(st.Action, func(p string) bool {
			return matchWildcard(strings.ToLower(p), strings.ToLower(action))
		})
		if named && slices.ContainsFunc(st.Resource, func(p string) bool { return matchWildcard(p, arn) }) {
			return true
		}
	}
	return false
}

// matchWildcard matches IAM's action wildcards: * is any run of characters,
// ? is any one character.
func matchWildcard(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			rest := pattern[1:]
			for i := len(s); i >= 0; i-- {
				if matchWildcard(rest, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// scope holds what the ARNs are built from; "*" where the option was empty.
type scope struct {
	partition, region, account, stack string
	bucket, stateKey                  string
	taskRolePolicies                  []string
	hostedZone                        string
}

func newScope(o Options) scope {
	s := scope{partition: partition(o.Region), region: cmp.Or(o.Region, "*"), account: cmp.Or(o.AccountID, "*"), stack: cmp.Or(o.Stack, "*"), bucket: o.StateBucket}
	if s.bucket == "" {
		// provision's default: graviton-cd-state-<account>-<region>
		s.bucket = "graviton-cd-state-" + s.account + "-" + s.region
	}
	s.taskRolePolicies = slices.Clone(o.TaskRolePolicyARNs)
	slices.Sort(s.taskRolePolicies)
	s.taskRolePolicies = slices.Compact(s.taskRolePolicies)
	s.hostedZone = o.HostedZoneID
	s.stateKey = o.StateKey
	if s.stateKey == "" {
		s.stateKey = config.DefaultStateKey(s.stack) // provision's default
	}
	return s
}

// iamPrefix starts the names of the stack's IAM roles and instance profile:
// <stack>-<region>, as config.Provision.Names gives them.
func (s scope) iamPrefix() string { return s.stack + "-" + s.region }

// partition returns the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// arn builds a regional ARN of this account.
func (s scope) arn(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", s.partition, service, s.region, s.account, resource)
}

// iam builds a global IAM ARN of this account.
func (s scope) iam(resource string) string {
	return fmt.Sprintf("arn:%s:iam::%s:%s", s.partition, s.account, resource)
}

// stackTagged limits an action to resources carrying the stack's tag: this
// stack's when a name is given, else any graviton-cd stack's.
func (s scope) stackTagged() Condition {
	if s.stack == "*" {
		return Condition{"Null": {"aws:ResourceTag/" + StackTagKey: {"false"}}}
	}
	return Condition{"StringEquals": {"aws:ResourceTag/" + StackTagKey: {s.stack}}}
}
