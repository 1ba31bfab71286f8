package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
)

func TestIAMPolicyPrintsJSON(t *testing.T) {
	t.Setenv("GRAVITON_CD_NAME", "")
	t.Setenv("GRAVITON_CD_REGION", "")
	tests := []struct {
		name     string
		args     []string
		allow    []string
		deny     []string
		contains []string
	}{
		{
			name:  "everything by default",
			args:  nil,
			allow: []string{"ec2:CreateVpc", "ecs:UpdateService", "tag:GetResources", "iam:PassRole", "s3:GetObject", "s3:CreateBucket"},
		},
		{
			name: "local state: no S3",
			args: []string{"--state-backend", "local"},
			deny: []string{"s3:GetObject", "s3:CreateBucket", "s3:ListBucket"},
		},
		{
			name:  "deploy only",
			args:  []string{"--for", "deploy"},
			allow: []string{"ecs:UpdateService", "ecs:RegisterTaskDefinition", "logs:GetLogEvents"},
			deny:  []string{"ec2:CreateVpc", "tag:GetResources", "ecs:DeleteService"},
		},
		{
			name:     "provision and destroy with S3 state, blanks and repeats ignored",
			args:     []string{"--for", " provision,,destroy,provision ", "--state-bucket", "acme-tf"},
			allow:    []string{"ec2:CreateVpc", "tag:GetResources", "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"},
			deny:     []string{"ecs:ListTasks", "logs:GetLogEvents"},
			contains: []string{`"arn:aws:s3:::acme-tf"`, `"arn:aws:s3:::acme-tf/graviton-cd/*/terraform.tfstate.tflock"`},
		},
		{
			name:  "scoped to a stack, account and region; --output text is still JSON",
			args:  []string{"--name", "demo", "--account-id", "123456789012", "--region", "eu-central-1", "--output", "text"},
			allow: []string{"iam:CreateRole"},
			contains: []string{`"arn:aws:iam::123456789012:role/demo-eu-central-1-task-execution"`, `"arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/demo-alb/*"`,
				`"ecs-tasks.amazonaws.com"`},
		},
		{
			name:     "global flags before the subcommand",
			args:     []string{"--output", "json", "--region", "us-west-2"},
			contains: []string{`"arn:aws:ssm:us-west-2::parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"iam-policy"}, tt.args...)
			if tt.name == "global flags before the subcommand" {
				args = append(tt.args, "iam-policy")
			}
			code, out, stderr := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var doc iampolicy.Document
			raw := []byte(out)
			if slices.Contains(args, "json") {
				var r iamPolicyResult
				if err := json.Unmarshal(resultOf(t, out), &r); err != nil {
					t.Fatal(err)
				}
				raw = r.Policy
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatalf("stdout is not JSON (%v):\n%s", err, out)
			}
			if doc.Version != "2012-10-17" {
				t.Errorf("Version %q", doc.Version)
			}
			for _, a := range tt.allow {
				if !iampolicy.Allows(doc, a) {
					t.Errorf("does not allow %s", a)
				}
			}
			for _, a := range tt.deny {
				if iampolicy.Allows(doc, a) {
					t.Errorf("allows %s", a)
				}
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("policy lacks %s", s)
				}
			}
		})
	}
}

func TestIAMPolicyForSmokeTestReadsOnlyStateAndSaysWhy(t *testing.T) {
	code, out, stderr := run(t, "iam-policy", "--for", "smoke-test")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var doc iampolicy.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not a policy: %q (%v)", out, err)
	}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if !slices.Contains([]string{"sts:GetCallerIdentity", "s3:ListBucket", "s3:GetObject"}, a) {
				t.Errorf("smoke-test's policy allows %s", a)
			}
		}
	}
	if !iampolicy.Allows(doc, "s3:GetObject") {
		t.Error("smoke-test's policy cannot read the state it finds the stack in")
	}
	if !strings.Contains(stderr, "smoke-test reads only the stack's state") {
		t.Errorf("stderr does not say why:\n%s", stderr)
	}
}

func TestIAMPolicyNameFromEnvironment(t *testing.T) {
	t.Setenv("GRAVITON_CD_NAME", "envstack")
	code, out, stderr := run(t, "iam-policy", "--for", "provision")
	if code != ExitOK || !strings.Contains(out, "role/envstack-*-ecs-instance") {
		t.Fatalf("exit %d, policy not scoped to GRAVITON_CD_NAME:\n%s\n%s", code, out, stderr)
	}
}

func TestIAMPolicyBadInputExits2(t *testing.T) {
	t.Setenv("GRAVITON_CD_NAME", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown step", []string{"--for", "deploy,rollout"}, `--for: "rollout" is not a step: use provision, deploy, smoke-test, destroy, status, logs, rollback or run-task`},
		{"bad stack name", []string{"--name", "My_Stack"}, `--name: "My_Stack" is not a stack name`},
		{"wildcard stack name", []string{"--name", "demo*"}, `--name: "demo*" is not a stack name`},
		{"short account", []string{"--account-id", "1234"}, `--account-id: "1234" is not an AWS account ID`},
		{"bad region", []string{"--region", "mars-1"}, "region"},
		{"bad bucket", []string{"--state-bucket", "Bad_Bucket"}, `--state-bucket: "Bad_Bucket" is not an S3 bucket name`},
		{"bucket with local state", []string{"--state-backend", "local", "--state-bucket", "tf-state"}, "--state-bucket: --state-bucket and --state-key describe S3 state"},
		{"unknown backend", []string{"--state-backend", "gcs"}, "use s3 (default) or local"},
		{"wildcard key", []string{"--state-bucket", "tf-state", "--state-key", "a/*"}, `--state-key: "a/*" is not a state key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := run(t, append([]string{"iam-policy"}, tt.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d\n%s", code, ExitUsage, stderr)
			}
			if out != "" {
				t.Errorf("printed a policy for bad input: %s", out)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", stderr, tt.want)
			}
		})
	}
}
