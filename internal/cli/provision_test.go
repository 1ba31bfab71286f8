package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// isolateAWS keeps the machine's AWS settings out of a test, and makes the
// default Terraform a stub that fails: input that wrongly passes validation
// fails the test instead of reaching a network.
func isolateAWS(t *testing.T) {
	t.Helper()
	stub := filepath.Join(t.TempDir(), "terraform-stub")
	if err := os.WriteFile(stub, []byte("#!/bin/sh\necho stub terraform must not run >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GRAVITON_CD_TERRAFORM_BINARY", stub)
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_REGION", "GRAVITON_CD_REGION"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
}

// TestProvisionRejectsBadInput: every flag's plausible bad values exit 2
// with a message that says what would be right, and nothing is written.
func TestProvisionRejectsBadInput(t *testing.T) {
	aFile := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("k", 129)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		msg  string
	}{
		{"name missing", []string{"--name", ""}, nil, "a stack name is required"},
		{"name uppercase", []string{"--name", "Demo"}, nil, "lowercase letters"},
		{"name starts with digit", []string{"--name", "1demo"}, nil, "starting with a letter"},
		{"name underscore", []string{"--name", "my_app"}, nil, "lowercase letters, digits and hyphens"},
		{"name too long", []string{"--name", "abcdefghij-abcdefghij"}, nil, "at most 20"},
		{"name trailing hyphen", []string{"--name", "demo-"}, nil, "ends with a hyphen"},
		{"name reserved ecs", []string{"--name", "ecs-app"}, nil, "ECS reserves"},
		{"name reserved aws", []string{"--name", "awsome"}, nil, "ECS reserves"},
		{"name from env", nil, map[string]string{"GRAVITON_CD_NAME": "Bad Name"}, "--name"},
		{"region missing", nil, map[string]string{"AWS_REGION": ""}, "no AWS region"},
		{"region malformed", []string{"--region", "useast1"}, nil, "us-east-1"},
		{"dir empty", []string{"--dir", " "}, nil, "stack directory is required"},
		{"dir is a file", []string{"--dir", aFile}, nil, "is a file"},
		{"x86 burstable", []string{"--instance-type", "t3.micro"}, nil, "not a Graviton (arm64) instance type and the stack runs arm64 images only: use t4g.micro"},
		{"x86 general", []string{"--instance-type", "m5.large"}, nil, "use m7g.large"},
		{"x86 compute", []string{"--instance-type", "c6i.xlarge"}, nil, "use c7g.xlarge"},
		{"x86 from env", nil, map[string]string{"GRAVITON_CD_INSTANCE_TYPE": "r5.2xlarge"}, "use r7g.2xlarge"},
		{"instance no size", []string{"--instance-type", "t4g"}, nil, "FAMILY.SIZE"},
		{"instance bad size", []string{"--instance-type", "t4g.huge"}, nil, "no size"},
		{"instance unknown", []string{"--instance-type", "banana.large"}, nil, "Graviton (arm64)"},
		{"min-size negative", []string{"--min-size", "-1"}, nil, "negative"},
		{"min-size not a number", []string{"--min-size", "one"}, nil, "min-size"},
		{"min-size env not a number", nil, map[string]string{"GRAVITON_CD_MIN_SIZE": "1.5"}, "MIN_SIZE"},
		{"max-size zero", []string{"--max-size", "0"}, nil, "use 1 or more"},
		{"max-size huge", []string{"--max-size", "500"}, nil, "100"},
		{"min above max", []string{"--min-size", "3", "--max-size", "2", "--desired-capacity", "2"}, nil, "min-size <= desired-capacity <= max-size"},
		{"desired above max", []string{"--desired-capacity", "5"}, nil, "outside"},
		{"vpc-cidr no prefix", []string{"--vpc-cidr", "10.0.0.0"}, nil, "not an IPv4 CIDR"},
		{"vpc-cidr too big", []string{"--vpc-cidr", "10.0.0.0/8"}, nil, "/16 to /24"},
		{"vpc-cidr host bits", []string{"--vpc-cidr", "10.0.0.1/16"}, nil, "use 10.0.0.0/16"},
		{"vpc-cidr ipv6", []string{"--vpc-cidr", "fd00::/56"}, nil, "IPv4"},
		{"vpc-id malformed", []string{"--vpc-id", "vpc-xyz", "--subnet-ids", "subnet-0123456789abcdef0,subnet-0123456789abcdef1"}, nil, "not a VPC ID"},
		{"subnets without vpc", []string{"--subnet-ids", "subnet-0123456789abcdef0,subnet-0123456789abcdef1"}, nil, "needs --vpc-id"},
		{"vpc without subnets", []string{"--vpc-id", "vpc-0123456789abcdef0"}, nil, "at least two subnets"},
		{"one subnet", []string{"--vpc-id", "vpc-0123456789abcdef0", "--subnet-ids", "subnet-0123456789abcdef0"}, nil, "at least two subnets"},
		{"subnet malformed", []string{"--vpc-id", "vpc-0123456789abcdef0", "--subnet-ids", "subnet-0123456789abcdef0,sub-1"}, nil, "not a subnet ID"},
		{"subnet twice", []string{"--vpc-id", "vpc-0123456789abcdef0", "--subnet-ids", "subnet-0123456789abcdef0,subnet-0123456789abcdef0"}, nil, "listed twice"},
		{"cidr and vpc", []string{"--vpc-cidr", "10.1.0.0/16", "--vpc-id", "vpc-0123456789abcdef0", "--subnet-ids", "subnet-0123456789abcdef0,subnet-0123456789abcdef1"}, nil, "conflicts with --vpc-id"},
		{"image blank", []string{"--image", " "}, nil, "not an image reference"},
		{"image uppercase", []string{"--image", "Nginx:latest"}, nil, "not an image reference"},
		{"image empty tag", []string{"--image", "nginx:"}, nil, "not an image reference"},
		{"image space", []string{"--image", "nginx latest"}, nil, "not an image reference"},
		{"container-name space", []string{"--container-name", "my app"}, nil, "not a container name"},
		{"container-name too long", []string{"--container-name", strings.Repeat("a", 256)}, nil, "1-255"},
		{"container-port zero", []string{"--container-port", "0"}, nil, "1-65535"},
		{"container-port big", []string{"--container-port", "70000"}, nil, "1-65535"},
		{"desired-count negative", []string{"--desired-count", "-1"}, nil, "0-100"},
		{"cpu too small", []string{"--cpu", "64"}, nil, "128-16384"},
		{"cpu as vcpu", []string{"--cpu", "0"}, nil, "1024 is one vCPU"},
		{"memory in GB", []string{"--memory", "2"}, nil, "MiB"},
		{"health path relative", []string{"--health-check-path", "healthz"}, nil, "start it with /"},
		{"health path space", []string{"--health-check-path", "/a b"}, nil, "percent-encode"},
		{"health path URL", []string{"--health-check-path", "http://x/health"}, nil, "start it with /"},
		{"network-mode host", []string{"--network-mode", "host"}, nil, "awsvpc (default) or bridge"},
		{"log retention", []string{"--log-retention-days", "10"}, nil, "use one of 1 3 5 7 14 30"},
		{"env without =", []string{"--env", "LOG_LEVEL"}, nil, "not KEY=VALUE"},
		{"env bad name", []string{"--env", "LOG-LEVEL=info"}, nil, "not a variable name"},
		{"env twice", []string{"--env", "A=1", "--env", "A=2"}, nil, "given twice"},
		{"env reserved prefix", []string{"--env", "AWS_REGION=eu-west-1"}, nil, "AWS_ and ECS_ prefixes"},
		{"secret is a value", []string{"--secret", "DB_PASSWORD=hunter2"}, nil, "never the secret's value"},
		{"secret without name", []string{"--secret", "arn:aws:ssm:us-east-1:123456789012:parameter/app/db"}, nil, "not NAME=ARN"},
		{"secret s3 arn", []string{"--secret", "X=arn:aws:s3:::bucket/key"}, nil, "not an SSM parameter or Secrets Manager secret ARN"},
		{"secret ssm malformed", []string{"--secret", "X=arn:aws:ssm:us-east-1:123456789012:document/x"}, nil, "not an SSM parameter ARN"},
		{"secret sm partial arn", []string{"--secret", "X=arn:aws:secretsmanager:us-east-1:123456789012:secret:app/token"}, nil, "six random characters"},
		{"secret other region", []string{"--secret", "X=arn:aws:ssm:eu-west-1:123456789012:parameter/app/db"}, nil, "in region eu-west-1 and the stack in us-east-1"},
		{"secret other account", []string{"--secret", "A=arn:aws:ssm:us-east-1:123456789012:parameter/app/db", "--secret", "B=arn:aws:secretsmanager:us-east-1:210987654321:secret:app/token-AbCdEf"}, nil, "is in account 210987654321"},
		{"secret also env", []string{"--env", "X=1", "--secret", "X=arn:aws:ssm:us-east-1:123456789012:parameter/app/db"}, nil, "given twice"},
		{"kms without secrets", []string{"--secrets-kms-key-arn", "arn:aws:kms:us-east-1:123456789012:key/0123abcd-4567-89ef-0123-456789abcdef"}, nil, "only applies with --secret"},
		{"kms alias", []string{"--secret", "X=arn:aws:ssm:us-east-1:123456789012:parameter/app/db", "--secrets-kms-key-arn", "arn:aws:kms:us-east-1:123456789012:alias/app"}, nil, "not a KMS key ARN"},
		{"kms other account", []string{"--secret", "X=arn:aws:ssm:us-east-1:123456789012:parameter/app/db", "--secrets-kms-key-arn", "arn:aws:kms:us-east-1:210987654321:key/0123abcd-4567-89ef-0123-456789abcdef"}, nil, "is in account 210987654321"},
		{"task policy not iam", []string{"--task-role-policy-arn", "AmazonS3ReadOnlyAccess"}, nil, "not an IAM policy ARN"},
		{"task policy is a role", []string{"--task-role-policy-arn", "arn:aws:iam::123456789012:role/app"}, nil, "not an IAM policy ARN"},
		{"task policy other account", []string{"--secret", "X=arn:aws:ssm:us-east-1:123456789012:parameter/app/db", "--task-role-policy-arn", "arn:aws:iam::210987654321:policy/app"}, nil, "is in account 210987654321"},
		{"certificate not acm", []string{"--certificate-arn", "arn:aws:iam::123456789012:server-certificate/app"}, nil, "not an ACM certificate ARN"},
		{"certificate malformed", []string{"--certificate-arn", "arn:aws:acm:us-east-1:123456789012:certificate/xyz"}, nil, "not an ACM certificate ARN"},
		{"certificate other region", []string{"--certificate-arn", "arn:aws:acm:eu-west-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"}, nil, "in region eu-west-1"},
		{"zone without domain", []string{"--hosted-zone-id", "Z0123456789ABCDEFGHIJ"}, nil, "needs --domain"},
		{"zone malformed", []string{"--domain", "app.example.com", "--hosted-zone-id", "/hostedzone/Z1"}, nil, "not a Route 53 hosted zone ID"},
		{"domain malformed", []string{"--domain", "app_1.example.com"}, nil, "not a domain name"},
		{"max-count below desired", []string{"--desired-count", "2", "--max-count", "1"}, nil, "below --desired-count 2"},
		{"min-count without max", []string{"--min-count", "1"}, nil, "only applies with --max-count"},
		{"min-count above desired", []string{"--max-count", "4", "--min-count", "2"}, nil, "min-count <= desired-count <= max-count"},
		{"cpu-target out of range", []string{"--max-count", "4", "--cpu-target", "95"}, nil, "10-90"},
		{"tag without value", []string{"--tags", "team"}, nil, "not key=value"},
		{"tag without key", []string{"--tags", "=web"}, nil, "not key=value"},
		{"tag aws prefix", []string{"--tags", "aws:team=web"}, nil, "reserves"},
		{"tag stack key", []string{"--tags", "graviton-cd:stack=other"}, nil, "set by graviton-cd"},
		{"tag twice", []string{"--tags", "a=1,a=2"}, nil, "given twice"},
		{"tag key too long", []string{"--tags", long + "=v"}, nil, "AWS allows 128"},
		{"tag control char", []string{"--tags", "a=b\x01"}, nil, "control character"},
		{"state backend unknown", []string{"--state-backend", "gcs"}, nil, "local (state in --dir) or s3"},
		{"s3 bad bucket", []string{"--state-backend", "s3", "--state-bucket", "My_Bucket"}, nil, "not an S3 bucket name"},
		{"s3 key absolute", []string{"--state-backend", "s3", "--state-bucket", "tf-state", "--state-key", "/x.tfstate"}, nil, "leading or trailing slash"},
		{"s3 region bad", []string{"--state-backend", "s3", "--state-bucket", "tf-state", "--state-region", "moon"}, nil, "--state-region"},
		{"bucket with local", []string{"--state-backend", "local", "--state-bucket", "tf-state"}, nil, "only applies to --state-backend s3"},
		{"render and plan", []string{"--render-only", "--plan-only"}, nil, "conflicts with --render-only"},
		{"terraform missing", []string{"--terraform-binary", "/nonexistent/terraform"}, nil, "not an executable file"},
		{"terraform not on PATH", []string{"--terraform-binary", "no-such-terraform"}, nil, "not on PATH"},
		{"terraform version word", []string{"--terraform-version", "latest"}, nil, "MAJOR.MINOR.PATCH"},
		{"terraform version short", []string{"--terraform-version", "1.11"}, nil, "MAJOR.MINOR.PATCH"},
		{"terraform too old for s3 lock", []string{"--terraform-version", "1.9.8", "--state-backend", "s3", "--state-bucket", "tf-state"}, nil, "1.10.0 or later"},
		{"endpoint no scheme", []string{"--endpoint-url", "localhost:5000"}, nil, "not an http(s) URL"},
		{"endpoint ftp", []string{"--endpoint-url", "ftp://127.0.0.1"}, nil, "not an http(s) URL"},
		{"endpoint from env", nil, map[string]string{"AWS_ENDPOINT_URL": "127.0.0.1:5000"}, "not an http(s) URL"},
		{"force-unlock spaces", []string{"--force-unlock", "lock id"}, nil, "not a lock ID"},
		{"timeout too short", []string{"--timeout", "10s"}, nil, "1m to 24h"},
		{"timeout no unit", []string{"--timeout", "45"}, nil, "timeout"},
		{"timeout too long", []string{"--timeout", "48h"}, nil, "1m to 24h"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "stack")
			args := []string{"provision", "--dir", dir}
			if _, ok := tc.env["GRAVITON_CD_NAME"]; !ok {
				args = append(args, "--name", "demo")
			}
			args = append(args, tc.args...)
			code, stdout, stderr := run(t, args...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr: %s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q does not say %q", stderr, tc.msg)
			}
			if stdout != "" {
				t.Errorf("stdout should be empty on bad input, got %q", stdout)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s was created on bad input", dir)
			}
		})
	}
}

func TestDestroyRejectsBadInput(t *testing.T) {
	withModule := t.TempDir()
	if err := os.WriteFile(filepath.Join(withModule, "main.tf"), []byte("# module\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withStack := t.TempDir()
	if err := os.WriteFile(filepath.Join(withStack, "main.tf"), []byte("# module\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(withStack, stack.SettingsFile), []byte(`{"name":"demo","region":"us-east-1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"stack-dir missing", []string{"--stack-dir", filepath.Join(t.TempDir(), "nope")}, "holds no main.tf"},
		{"stack-dir without stack.json", []string{"--stack-dir", withModule}, "stack.json not found"},
		{"stack-dir and another name", []string{"--stack-dir", withStack, "--name", "other"}, `holds stack "demo"`},
		{"stack-dir and another dir", []string{"--stack-dir", withStack, "--dir", withModule}, "give one stack directory"},
		{"no stack-dir, no name", nil, "a stack name is required"},
		{"no stack-dir, x86 instance", []string{"--name", "demo", "--instance-type", "t3.small"}, "use t4g.small"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolateAWS(t)
			code, _, stderr := run(t, append([]string{"destroy"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, ExitUsage, tc.msg)
			}
		})
	}
}

// TestProvisionRenderOnly writes the module and settings without running
// anything (PATH is empty: no terraform could run), and a hostile tag value
// stays a literal string.
func TestProvisionRenderOnly(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	const evil = `"}${file("/etc/passwd")}`
	dir := filepath.Join(t.TempDir(), "stack")
	code, stdout, stderr := run(t, "--output", "json", "provision", "--name", "inj", "--dir", dir, "--render-only", "--state-backend", "local", "--tags", "evil="+evil)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res provisionResult
	if err := json.Unmarshal(resultOf(t, stdout), &res); err != nil || res.Mode != "render-only" || res.Stack != "inj" {
		t.Fatalf("result %q (%v)", stdout, err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		t.Fatalf("main.tf does not parse: %s", diags)
	}
	found := false
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "locals" {
			continue
		}
		v, diags := b.Body.Attributes["stack_tags"].Expr.Value(nil)
		if diags.HasErrors() {
			t.Fatalf("stack_tags is not a literal: %s", diags)
		}
		if got := v.GetAttr("evil").AsString(); got != evil {
			t.Errorf("tag evil = %q, want %q", got, evil)
		}
		found = true
	}
	if !found {
		t.Fatal("no locals block")
	}
	s, err := stack.ReadSettings(dir)
	if err != nil || s.Name != "inj" || s.Region != "us-east-1" {
		t.Errorf("stack.json = %+v, %v", s, err)
	}
	for _, absent := range []string{"terraform.tfstate", "tfplan", "outputs.json", ".terraform"} {
		if _, err := os.Stat(filepath.Join(dir, absent)); !os.IsNotExist(err) {
			t.Errorf("--render-only left %s", absent)
		}
	}
}

// TestProvisionAcceptsEmptyOrbParameters: the orb passes every parameter as
// an environment variable, empty when unused; empty means "not given".
func TestProvisionAcceptsEmptyOrbParameters(t *testing.T) {
	isolateAWS(t)
	for _, f := range provisionFlags() {
		name := f.Names()[0]
		if name != "render-only" && name != "plan-only" {
			t.Setenv(envVars(name)[0], "")
		}
	}
	dir := filepath.Join(t.TempDir(), "stack")
	t.Setenv("GRAVITON_CD_NAME", "orb")
	t.Setenv("GRAVITON_CD_DIR", dir)
	t.Setenv("GRAVITON_CD_VPC_ID", "vpc-0123456789abcdef0")
	t.Setenv("GRAVITON_CD_SUBNET_IDS", "subnet-0123456789abcdef0,subnet-0123456789abcdef1")
	t.Setenv("GRAVITON_CD_RENDER_ONLY", "true")
	t.Setenv("GRAVITON_CD_STATE_BACKEND", "local") // the S3 default would ask STS for the account
	code, _, stderr := run(t, "provision")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.tf")); err != nil {
		t.Error(err)
	}
}
