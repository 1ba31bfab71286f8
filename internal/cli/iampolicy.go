package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
)

func iamPolicyCommand() *ucli.Command {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	return &ucli.Command{
		Name:  "iam-policy",
		Usage: "print the least-privilege IAM policy (JSON) the CI role needs for provision, deploy and destroy",
		Description: "Prints an IAM policy document on stdout; it is JSON whatever --output says. Each action is there\n" +
			"because graviton-cd or the Terraform AWS provider calls it (the reasons are in internal/iampolicy).\n" +
			"smoke-test needs only to read the stack's state, to find it by --name; with --url it needs nothing.\n\n" +
			"Give --name, --account-id and --region to narrow the IAM roles, instance profile, load balancer,\n" +
			"Auto Scaling group and log group to one stack; without them the ARNs match any graviton-cd stack.\n" +
			"A separate role per job is tighter still, for example:\n\n" +
			"   graviton-cd iam-policy --for deploy --name demo --account-id 123456789012 --region us-east-1 > deploy.json\n" +
			"   aws iam put-role-policy --role-name ci-deploy --policy-name graviton-cd --policy-document file://deploy.json\n\n" +
			"Attach it as an inline role policy (up to 10,240 characters): the full policy is longer than the\n" +
			"6,144 characters a customer-managed policy may hold.\n\n" +
			"Not included: the role's trust policy (CircleCI OIDC: sts:AssumeRoleWithWebIdentity), kms:Decrypt and\n" +
			"kms:GenerateDataKey for a state bucket encrypted with a customer-managed KMS key, and iam:PassRole\n" +
			"for a task role of your own that a deployed task definition names (provision's own task role is in).\n" +
			"Give provision's --task-role-policy-arn and --hosted-zone-id here too: only then may the role attach\n" +
			"those policies to the task role, and change records in that zone.",
		Flags: []ucli.Flag{
			str("for", "comma-separated steps the role runs: provision, deploy, smoke-test, destroy, status, logs, rollback, run-task (default: all)"),
			str("name", "stack name given to provision; scopes the stack's resources (default: any stack)"),
			str("account-id", "12-digit AWS account ID for the ARNs (default: any account)"),
			str("state-backend", "s3 (default) or local: with local state the policy has no S3 statements"),
			&ucli.StringSliceFlag{Name: "task-role-policy-arn", Usage: "provision's --task-role-policy-arn: the policies the role may attach to the stack's task role; repeatable", EnvVars: envVars("task-role-policy-arn")},
			str("hosted-zone-id", "provision's --hosted-zone-id: the zone whose alias record the role may change"),
			str("state-bucket", "S3 bucket of the Terraform state (provision --state-bucket; default graviton-cd-state-<account>-<region>, which provision may create)"),
			str("state-key", "object key of the state in --state-bucket (default graviton-cd/<name>/terraform.tfstate)"),
		},
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			steps, err := parseSteps(c.String("for"))
			if err != nil {
				return err
			}
			opts := iampolicy.Options{
				Steps: steps, Stack: c.String("name"), AccountID: c.String("account-id"), Region: env.region,
				StateBucket: c.String("state-bucket"), StateKey: c.String("state-key"),
				TaskRolePolicyARNs: c.StringSlice("task-role-policy-arn"), HostedZoneID: c.String("hosted-zone-id"),
			}
			switch c.String("state-backend") {
			case "", config.BackendS3:
			case config.BackendLocal:
				opts.LocalState = true
			default:
				return config.Usagef("state-backend", "%q is not a state backend: use s3 (default) or local", c.String("state-backend"))
			}
			if err := opts.Validate(); err != nil {
				var fe *iampolicy.FieldError
				if errors.As(err, &fe) {
					return config.Usagef(flagOf(fe.Field), "%s", fe.Msg)
				}
				return config.Usagef("", "%s", err)
			}
			if slices.Contains(steps, iampolicy.SmokeTest) || len(steps) == 0 {
				env.log.Printf("smoke-test reads only the stack's state (to find it by --name); with --url it needs no permissions")
			}
			b, err := iampolicy.Policy(opts).JSON()
			if err != nil {
				return err
			}
			if env.json {
				env.setResult(iamPolicyResult{Policy: b})
				return nil
			}
			if _, err := env.stdout.Write(b); err != nil {
				return fmt.Errorf("write IAM policy: %w", err)
			}
			return nil
		},
	}
}

// flagOf names the flag of an iampolicy option.
func flagOf(field string) string {
	if field == "stack" {
		return "name"
	}
	return field
}

// parseSteps reads --for: known steps, blanks ignored (the orb passes unset
// parameters as empty), duplicates dropped; nil means all.
func parseSteps(s string) ([]iampolicy.Step, error) {
	var steps []iampolicy.Step
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		st, err := iampolicy.ParseStep(part)
		if err != nil {
			return nil, config.Usagef("for", "%s", err)
		}
		if !slices.Contains(steps, st) {
			steps = append(steps, st)
		}
	}
	return steps, nil
}
