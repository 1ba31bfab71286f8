package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/imagecheck"
	"github.com/graviton-cd/graviton-cd/internal/leftover"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// knownPrefixes are the IAM service prefixes graviton-cd has any business
// with; anything else in the policy is a typo or scope creep.
var knownPrefixes = []string{"application-autoscaling", "autoscaling", "cloudwatch", "ec2", "ecr", "ecs", "elasticloadbalancing", "iam", "logs", "route53", "s3", "ssm", "sts", "tag"}

// whoCalls finds the caller named in a justification.
var whoCalls = regexp.MustCompile(`\b(provider|tool|terraform|AWS|Auto Scaling|ECS|STS)\b`)

var actionRE = regexp.MustCompile(`^([a-z0-9-]+):([A-Z][A-Za-z0-9]+)$`)

func allOptions() Options {
	return Options{StateBucket: "tf-state"}
}

func TestEveryActionIsWellFormedAndJustified(t *testing.T) {
	sids := map[string]bool{}
	for _, g := range catalogue() {
		if !regexp.MustCompile(`^[A-Za-z0-9]+$`).MatchString(g.sid) || sids[g.sid] {
			t.Errorf("Sid %q is not alphanumeric or not unique", g.sid)
		}
		sids[g.sid] = true
		if len(g.actions) == 0 {
			t.Errorf("%s: no actions", g.sid)
		}
		seen := map[string]bool{}
		for _, a := range g.actions {
			m := actionRE.FindStringSubmatch(a.name)
			switch {
			case m == nil:
				t.Errorf("%s: %q is not service:Action", g.sid, a.name)
			case !slices.Contains(knownPrefixes, m[1]):
				t.Errorf("%s: %q has an unknown service prefix %q", g.sid, a.name, m[1])
			}
			if strings.Contains(a.name, "*") {
				t.Errorf("%s: %q: list actions by name, not by wildcard", g.sid, a.name)
			}
			if !whoCalls.MatchString(a.why) {
				t.Errorf("%s: %s: the justification %q should say who calls it (provider, tool, terraform or the AWS service)", g.sid, a.name, a.why)
			}
			if a.by == 0 {
				t.Errorf("%s: %s is needed by no step", g.sid, a.name)
			}
			if seen[a.name] {
				t.Errorf("%s: %s listed twice", g.sid, a.name)
			}
			seen[a.name] = true
		}
	}
}

func TestPolicyJSONIsValidAndDeterministic(t *testing.T) {
	opts := Options{Stack: "demo", AccountID: "123456789012", Region: "eu-west-1", StateBucket: "acme-tf-state"}
	first, err := Policy(opts).JSON()
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, _ := Policy(opts).JSON()
		if !bytes.Equal(first, again) {
			t.Fatal("two renders of the same policy differ")
		}
	}
	var back Document
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("policy JSON does not parse back: %v", err)
	}
	if back.Version != "2012-10-17" || len(back.Statement) == 0 {
		t.Fatalf("parsed back %+v", back)
	}
	for _, st := range back.Statement {
		if st.Effect != "Allow" || st.Sid == "" || len(st.Action) == 0 || len(st.Resource) == 0 {
			t.Errorf("incomplete statement %+v", st)
		}
		if !slices.IsSorted(st.Action) || !slices.IsSorted(st.Resource) {
			t.Errorf("%s: actions or resources not sorted", st.Sid)
		}
	}
	golden(t, "scoped.json", first)
	all, _ := Policy(Options{}).JSON()
	golden(t, "unscoped.json", all)
}

// golden compares got with testdata/name.golden (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/iampolicy -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("policy differs from %s (run with -update if the change is meant):\n%s", path, got)
	}
}

// TestPolicyFitsAnInlineRolePolicy keeps the widest policy within IAM's
// quota for a role's inline policies, 10,240 characters without whitespace.
func TestPolicyFitsAnInlineRolePolicy(t *testing.T) {
	// The longest names IAM and the validation allow.
	opts := Options{Stack: strings.Repeat("s", 20), AccountID: "123456789012", Region: "ap-southeast-1", StateBucket: strings.Repeat("b", 63), StateKey: strings.Repeat("k/", 100) + "terraform.tfstate"}
	b, err := json.Marshal(Policy(opts))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 10240 {
		t.Errorf("policy is %d characters, over the 10,240 of an inline role policy", len(b))
	}
	t.Logf("widest policy: %d characters", len(b))
}

func TestStepsSelectTheirActions(t *testing.T) {
	tests := []struct {
		name     string
		steps    []Step
		want     []string
		wantNone []string
	}{
		{
			name:     "deploy only: no provisioning, no deleting",
			steps:    []Step{Deploy},
			want:     []string{"ecs:DescribeServices", "ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:ListTasks", "ecs:DescribeTasks", "logs:GetLogEvents", "ecr:GetAuthorizationToken", "iam:PassRole", "s3:GetObject"},
			wantNone: []string{"ec2:CreateVpc", "ecs:DeleteService", "iam:CreateRole", "ec2:TerminateInstances", "s3:PutObject", "s3:CreateBucket", "tag:GetResources"},
		},
		{
			name:     "destroy only: reads, deletes and the leftover check, no creates",
			steps:    []Step{Destroy},
			want:     []string{"ec2:DeleteVpc", "ec2:TerminateInstances", "ecs:DeregisterTaskDefinition", "tag:GetResources", "iam:ListRoles", "s3:DeleteObject", "ec2:DescribeVpcs"},
			wantNone: []string{"ec2:CreateVpc", "ecs:CreateService", "iam:PassRole", "iam:CreateRole", "ecr:GetAuthorizationToken", "logs:GetLogEvents"},
		},
		{
			name:     "provision only",
			steps:    []Step{Provision},
			want:     []string{"ec2:CreateVpc", "iam:PassRole", "iam:CreateServiceLinkedRole", "ssm:GetParameter", "s3:PutObject", "ec2:RunInstances"},
			wantNone: []string{"tag:GetResources", "ec2:TerminateInstances", "ecs:ListTasks", "ecr:GetAuthorizationToken"},
		},
		{
			name:     "logs only: read the log group, change nothing",
			steps:    []Step{Logs},
			want:     []string{"logs:FilterLogEvents", "ecs:DescribeServices", "ecs:DescribeTaskDefinition", "s3:GetObject"},
			wantNone: []string{"ecs:UpdateService", "ecs:RunTask", "iam:PassRole", "ecs:RegisterTaskDefinition", "logs:GetLogEvents"},
		},
		{
			name:     "rollback only: update and follow, no registering",
			steps:    []Step{Rollback},
			want:     []string{"ecs:ListTaskDefinitions", "ecs:UpdateService", "ecs:DescribeServices", "ecs:DescribeTasks", "iam:PassRole", "logs:GetLogEvents"},
			wantNone: []string{"ecs:RegisterTaskDefinition", "ecs:RunTask", "ecs:DeregisterTaskDefinition", "logs:FilterLogEvents"},
		},
		{
			name:     "run-task only: run, stop, follow and read its log",
			steps:    []Step{RunTask},
			want:     []string{"ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks", "iam:PassRole", "logs:FilterLogEvents"},
			wantNone: []string{"ecs:UpdateService", "ecs:RegisterTaskDefinition", "ecs:DeleteService"},
		},
		{
			name:  "all by default",
			steps: nil,
			want:  []string{"ec2:CreateVpc", "ecs:ListTasks", "tag:GetResources", "ec2:TerminateInstances"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := allOptions()
			o.Steps = tt.steps
			p := Policy(o)
			for _, a := range tt.want {
				if !Allows(p, a) {
					t.Errorf("does not allow %s", a)
				}
			}
			for _, a := range tt.wantNone {
				if Allows(p, a) {
					t.Errorf("allows %s, which these steps never call", a)
				}
			}
		})
	}
}

// TestSmokeTestReadsOnlyTheState: smoke-test --name reads the stack's URL
// from its state and calls nothing else; with local state (--stack-dir or
// --url) it needs no permissions.
func TestSmokeTestReadsOnlyTheState(t *testing.T) {
	p := Policy(Options{Steps: []Step{SmokeTest}, StateBucket: "b-b-b"})
	var got []string
	for _, st := range p.Statement {
		got = append(got, st.Action...)
	}
	slices.Sort(got)
	if want := []string{"s3:GetObject", "s3:ListBucket", "sts:GetCallerIdentity"}; !slices.Equal(got, want) {
		t.Errorf("smoke-test alone allows %v, want %v", got, want)
	}
	// With local state there is nothing to read but who the caller is (which
	// STS answers to any principal anyway).
	local := Policy(Options{Steps: []Step{SmokeTest}, LocalState: true})
	for _, st := range local.Statement {
		for _, a := range st.Action {
			if a != "sts:GetCallerIdentity" {
				t.Errorf("smoke-test with local state allows %s", a)
			}
		}
	}
	b, err := local.JSON()
	if err != nil || !json.Valid(b) {
		t.Errorf("smoke-test policy %s (%v)", b, err)
	}
}

func TestScopedResources(t *testing.T) {
	p := Policy(Options{Stack: "demo", AccountID: "123456789012", Region: "cn-north-1", StateBucket: "tf-state", StateKey: "env/prod.tfstate"})
	byID := map[string]Statement{}
	for _, st := range p.Statement {
		byID[st.Sid] = st
	}
	tests := []struct {
		sid       string
		resources []string
	}{
		{"IAMStackRoles", []string{
			"arn:aws-cn:iam::123456789012:instance-profile/demo-cn-north-1-ecs-instance",
			"arn:aws-cn:iam::123456789012:role/demo-cn-north-1-ecs-instance",
			"arn:aws-cn:iam::123456789012:role/demo-cn-north-1-task",
			"arn:aws-cn:iam::123456789012:role/demo-cn-north-1-task-execution",
		}},
		{"IAMPassInstanceRole", []string{"arn:aws-cn:iam::123456789012:role/demo-cn-north-1-ecs-instance"}},
		{"IAMPassTaskExecutionRole", []string{"arn:aws-cn:iam::123456789012:role/demo-cn-north-1-task", "arn:aws-cn:iam::123456789012:role/demo-cn-north-1-task-execution"}},
		{"TerraformStateBucket", []string{"arn:aws-cn:s3:::tf-state"}},
		{"TerraformStateObjects", []string{"arn:aws-cn:s3:::tf-state/env/prod.tfstate", "arn:aws-cn:s3:::tf-state/env/prod.tfstate.stack.json", "arn:aws-cn:s3:::tf-state/env/prod.tfstate.tflock"}},
		{"TerraformStateLock", []string{"arn:aws-cn:s3:::tf-state/env/prod.tfstate.tflock"}},
		{"SSMECSOptimizedAMI", []string{"arn:aws-cn:ssm:cn-north-1::parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"}},
		{"AutoScalingStackGroup", []string{"arn:aws-cn:autoscaling:cn-north-1:123456789012:autoScalingGroup:*:autoScalingGroupName/demo"}},
		{"LogsReadTaskLogs", []string{"arn:aws-cn:logs:cn-north-1:123456789012:log-group:/ecs/demo:log-stream:*"}},
	}
	for _, tt := range tests {
		t.Run(tt.sid, func(t *testing.T) {
			st, ok := byID[tt.sid]
			if !ok {
				t.Fatalf("no statement %s", tt.sid)
			}
			if !slices.Equal(st.Resource, tt.resources) {
				t.Errorf("resources %q, want %q", st.Resource, tt.resources)
			}
		})
	}
	if got := byID["IAMPassInstanceRole"].Condition["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, []string{"ec2.amazonaws.com"}) {
		t.Errorf("instance role PassRole condition %v", got)
	}
	if got := byID["IAMPassTaskExecutionRole"].Condition["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, []string{"ecs-tasks.amazonaws.com"}) {
		t.Errorf("task execution role PassRole condition %v", got)
	}
	// deploy passes the execution role only.
	for _, st := range Policy(Options{Steps: []Step{Deploy}}).Statement {
		if st.Sid == "IAMPassInstanceRole" {
			t.Error("deploy alone may pass the instance role")
		}
	}
	if got := byID["EC2DeleteStackResources"].Condition["StringEquals"]["aws:ResourceTag/graviton-cd:stack"]; !slices.Equal(got, []string{"demo"}) {
		t.Errorf("EC2 delete condition %v", got)
	}
	// Without a name, deletes still need the stack tag to be there.
	any := Policy(Options{})
	for _, st := range any.Statement {
		if st.Sid == "EC2DeleteStackResources" && !slices.Equal(st.Condition["Null"]["aws:ResourceTag/graviton-cd:stack"], []string{"false"}) {
			t.Errorf("unnamed EC2 delete condition %v", st.Condition)
		}
		if strings.HasPrefix(st.Sid, "IAM") && st.Sid != "IAMLeftoverCheck" && slices.Contains(st.Resource, "*") {
			t.Errorf("%s grants IAM actions on every resource", st.Sid)
		}
	}
	// Without --state-bucket: the default bucket, which provision creates.
	for _, st := range any.Statement {
		if st.Sid == "StateBucketBootstrap" && !slices.Equal(st.Resource, []string{"arn:aws:s3:::graviton-cd-state-*-*"}) {
			t.Errorf("default bucket bootstrap on %q", st.Resource)
		}
	}
	if !Allows(any, "s3:CreateBucket") {
		t.Error("no s3:CreateBucket for the default state bucket")
	}
	// No bootstrap of a bucket the user named, and no S3 at all for local state.
	if Allows(Policy(Options{StateBucket: "tf-state"}), "s3:CreateBucket") {
		t.Error("s3:CreateBucket on a bucket given with --state-bucket")
	}
	for _, st := range Policy(Options{LocalState: true}).Statement {
		for _, a := range st.Action {
			if strings.HasPrefix(a, "s3:") {
				t.Errorf("%s allows %s with local state", st.Sid, a)
			}
		}
	}
}

func TestAllows(t *testing.T) {
	d := Document{Statement: []Statement{
		{Effect: "Allow", Action: []string{"ec2:Describe*", "ecs:UpdateService", "logs:Get?ogEvents"}},
		{Effect: "Deny", Action: []string{"iam:*"}},
	}}
	tests := []struct {
		action string
		want   bool
	}{
		{"ec2:DescribeVpcs", true},
		{"ec2:describevpcs", true},
		{"ec2:Describe", true},
		{"ec2:CreateVpc", false},
		{"ecs:UpdateService", true},
		{"ecs:UpdateServicePrimaryTaskSet", false},
		{"ecs:Update", false},
		{"logs:GetLogEvents", true},
		{"logs:GetLLogEvents", false},
		{"iam:PassRole", false},
		{"Ec2:DescribeVpcs", true},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			if got := Allows(d, tt.action); got != tt.want {
				t.Errorf("Allows(%s) = %v, want %v", tt.action, got, tt.want)
			}
		})
	}
	star := Document{Statement: []Statement{{Effect: "Allow", Action: []string{"*"}}}}
	if !Allows(star, "s3:GetObject") {
		t.Error(`"*" does not allow s3:GetObject`)
	}
}

func TestAllowsOn(t *testing.T) {
	d := Policy(Options{Stack: "demo", AccountID: "123456789012", Region: "us-east-1", StateBucket: "tf-state"})
	tests := []struct {
		action, arn string
		want        bool
	}{
		{"s3:GetObject", "arn:aws:s3:::tf-state/graviton-cd/demo/terraform.tfstate", true},
		{"s3:DeleteObject", "arn:aws:s3:::tf-state/graviton-cd/demo/terraform.tfstate.tflock", true},
		{"s3:DeleteObject", "arn:aws:s3:::tf-state/graviton-cd/demo/terraform.tfstate", false},
		{"s3:GetObject", "arn:aws:s3:::tf-state/graviton-cd/other/terraform.tfstate", false},
		{"s3:ListBucket", "arn:aws:s3:::tf-state", true},
		{"s3:ListBucket", "arn:aws:s3:::tf-state-2", false},
		{"iam:CreateRole", "arn:aws:iam::123456789012:role/demo-us-east-1-ecs-instance", true},
		{"iam:CreateRole", "arn:aws:iam::123456789012:role/demo-eu-west-1-ecs-instance", false},
		{"iam:CreateRole", "arn:aws:iam::123456789012:role/Admin", false},
		{"iam:PassRole", "arn:aws:iam::123456789012:role/demo-us-east-1-task-execution", true},
		{"elasticloadbalancing:DeleteTargetGroup", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo-tg-772bb50f/50dc6c495c0c9188", true},
		{"elasticloadbalancing:DeleteTargetGroup", "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo-tg-x-tg-772bb50f/50dc6c495c0c9188", false},
		{"elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/demo-alb/50dc6c495c0c9188", true},
		{"elasticloadbalancing:DeleteLoadBalancer", "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188", false},
		{"ec2:DescribeVpcs", "*", true},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.arn, func(t *testing.T) {
			if got := AllowsOn(d, tt.action, tt.arn); got != tt.want {
				t.Errorf("AllowsOn = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		field string
	}{
		{"ok", Options{Stack: "demo-app", AccountID: "123456789012", Region: "us-east-1", StateBucket: "tf.state-1", StateKey: "a/b.tfstate"}, ""},
		{"empty is ok", Options{}, ""},
		{"wildcard stack", Options{Stack: "*"}, "stack"},
		{"upper-case stack", Options{Stack: "Demo"}, "stack"},
		{"stack too long", Options{Stack: strings.Repeat("a", 21)}, "stack"},
		{"stack ends with hyphen", Options{Stack: "demo-"}, "stack"},
		{"short account", Options{AccountID: "12345"}, "account-id"},
		{"account with letters", Options{AccountID: "12345678901a"}, "account-id"},
		{"region", Options{Region: "us-east"}, "region"},
		{"region wildcard", Options{Region: "us-*-1"}, "region"},
		{"bucket upper", Options{StateBucket: "TF"}, "state-bucket"},
		{"bucket wildcard", Options{StateBucket: "tf-*"}, "state-bucket"},
		{"bucket dots", Options{StateBucket: "a..b"}, "state-bucket"},
		{"key in the default bucket", Options{StateKey: "a"}, ""},
		{"bucket with local state", Options{LocalState: true, StateBucket: "tf-state"}, "state-bucket"},
		{"key wildcard", Options{StateBucket: "tf-state", StateKey: "a/*"}, "state-key"},
		{"key leading slash", Options{StateBucket: "tf-state", StateKey: "/a"}, "state-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			var fe *FieldError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Errorf("error %v, want one about %s", err, tt.field)
			}
		})
	}
}

// TestPolicyCoversTheToolsAPIInterfaces checks every method of the narrow
// AWS interfaces the tool's packages call through, including paths the local
// stack cannot reach (moto never stops a task, and ECR needs real AWS).
func TestPolicyCoversTheToolsAPIInterfaces(t *testing.T) {
	tests := []struct {
		prefix string
		iface  any
		steps  []Step
	}{
		{"ecs", (*ecsdeploy.ECSAPI)(nil), []Step{Deploy}},
		{"logs", (*ecsdeploy.LogsAPI)(nil), []Step{Deploy}},
		{"ecr", (*imagecheck.ECRAPI)(nil), []Step{Deploy}},
		{"tag", (*leftover.TaggingAPI)(nil), []Step{Destroy}},
		{"ec2", (*leftover.EC2API)(nil), []Step{Destroy}},
		{"autoscaling", (*leftover.AutoScalingAPI)(nil), []Step{Destroy}},
		{"ecs", (*leftover.ECSAPI)(nil), []Step{Destroy}},
		{"elasticloadbalancing", (*leftover.ELBAPI)(nil), []Step{Destroy}},
		{"iam", (*leftover.IAMAPI)(nil), []Step{Destroy}},
		{"logs", (*leftover.LogsAPI)(nil), []Step{Destroy}},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.iface).Elem()
		t.Run(typ.String(), func(t *testing.T) {
			p := Policy(Options{Steps: tt.steps})
			for i := range typ.NumMethod() {
				a := tt.prefix + ":" + typ.Method(i).Name
				if !Allows(p, a) {
					t.Errorf("%s calls %s, which the policy for %v does not allow", typ, a, tt.steps)
				}
			}
		})
	}
}

func TestParseStep(t *testing.T) {
	for _, s := range Steps() {
		if got, err := ParseStep(string(s)); err != nil || got != s {
			t.Errorf("ParseStep(%s) = %s, %v", s, got, err)
		}
	}
	if _, err := ParseStep("smoketest"); err == nil || !strings.Contains(err.Error(), "smoke-test") {
		t.Errorf("ParseStep(smoketest) error %v should list the steps", err)
	}
}

// TestPolicyNamesMatchTheRenderedModule guards the scoping against drift: the
// names the policy's ARNs assume must be the names the module gives.
func TestPolicyNamesMatchTheRenderedModule(t *testing.T) {
	p, err := config.ValidateProvision(config.ProvisionInput{
		Name: "demo", Region: "us-east-1", Dir: filepath.Join(t.TempDir(), "stack"),
		InstanceType: config.DefaultInstanceType, MinSize: 1, MaxSize: 2, DesiredCapacity: 1,
		Image: config.DefaultImage, ContainerName: config.DefaultContainerName, ContainerPort: config.DefaultContainerPort,
		DesiredCount: 1, CPU: config.DefaultCPU, Memory: config.DefaultMemory,
		HealthCheckPath: config.DefaultHealthCheckPath, LogRetentionDays: config.DefaultLogRetentionDays,
		StateBackend: "s3", StateBucket: "tf-state", Timeout: time.Hour,
	})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	module, err := hclgen.RenderRootModule(p)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	policy, err := Policy(Options{Stack: "demo", StateBucket: "tf-state"}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		inModule string // a regular expression over the rendered module
		inPolicy string
	}{
		{"instance role", `resource "aws_iam_role" "instance" \{\s+name\s+= "demo-us-east-1-ecs-instance"`, "role/demo-*-ecs-instance"},
		{"instance profile", `resource "aws_iam_instance_profile" "instance" \{\s+name\s+= "demo-us-east-1-ecs-instance"`, "instance-profile/demo-*-ecs-instance"},
		{"task execution role", `resource "aws_iam_role" "task_execution" \{\s+name\s+= "demo-us-east-1-task-execution"`, "role/demo-*-task-execution"},
		{"instance role trusts EC2", `Service = "ec2.amazonaws.com"`, `"ec2.amazonaws.com"`},
		{"execution role trusts ECS tasks", `Service = "ecs-tasks.amazonaws.com"`, `"ecs-tasks.amazonaws.com"`},
		{"instance managed policy", `policy/service-role/AmazonEC2ContainerServiceforEC2Role`, "policy/service-role/AmazonEC2ContainerServiceforEC2Role"},
		{"execution managed policy", `policy/service-role/AmazonECSTaskExecutionRolePolicy`, "policy/service-role/AmazonECSTaskExecutionRolePolicy"},
		{"load balancer", `resource "aws_lb" "this" \{\s+name\s+= "demo-alb"`, "loadbalancer/app/demo-alb/*"},
		{"target group", `resource "aws_lb_target_group" "app" \{\s+name\s+= "demo-tg-[0-9a-f]{8}"`, "targetgroup/demo-tg-????????/*"},
		{"auto scaling group", `resource "aws_autoscaling_group" "this" \{\s+name\s+= "demo"`, "autoScalingGroupName/demo"},
		{"log group", `resource "aws_cloudwatch_log_group" "app" \{\s+name\s+= "/ecs/demo"`, "log-group:/ecs/demo"},
		{"AMI parameter", `name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"`, "parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"},
		{"stack tag", `"` + regexp.QuoteMeta(StackTagKey) + `" = "demo"`, "aws:ResourceTag/" + StackTagKey},
		{"state key and lock", `key\s+= "graviton-cd/demo/terraform.tfstate"[\s\S]*use_lockfile\s+= true`, "tf-state/graviton-cd/demo/terraform.tfstate.tflock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !regexp.MustCompile(tt.inModule).Match(module) {
				t.Errorf("the rendered module no longer matches %s: update the policy's ARNs with it", tt.inModule)
			}
			if !strings.Contains(string(policy), tt.inPolicy) {
				t.Errorf("the policy does not name %s", tt.inPolicy)
			}
		})
	}
}

// TestAppStatementsOnlyWhenNamed: the CI role may attach to the task role
// exactly the policies given, and change records in exactly the zone given;
// without them there is no such statement at all.
func TestAppStatementsOnlyWhenNamed(t *testing.T) {
	find := func(d Document, sid string) *Statement {
		for i := range d.Statement {
			if d.Statement[i].Sid == sid {
				return &d.Statement[i]
			}
		}
		return nil
	}
	base := Options{Stack: "demo", AccountID: "123456789012", Region: "us-east-1"}
	plain := Policy(base)
	for _, sid := range []string{"IAMAttachTaskRolePolicies", "Route53AliasRecord", "Route53Changes"} {
		if find(plain, sid) != nil {
			t.Errorf("%s without the option that names its resources", sid)
		}
	}
	withApp := base
	withApp.TaskRolePolicyARNs = []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/app", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
	withApp.HostedZoneID = "Z0123456789ABCDEFGHIJ"
	if err := withApp.Validate(); err != nil {
		t.Fatal(err)
	}
	d := Policy(withApp)
	att := find(d, "IAMAttachTaskRolePolicies")
	if att == nil {
		t.Fatal("no IAMAttachTaskRolePolicies")
	}
	if got := att.Condition["ArnEquals"]["iam:PolicyARN"]; !slices.Equal(got, []string{"arn:aws:iam::123456789012:policy/app", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}) {
		t.Errorf("attachable policies = %v", got)
	}
	if !slices.Equal(att.Resource, []string{"arn:aws:iam::123456789012:role/demo-us-east-1-task"}) {
		t.Errorf("attach resources = %v", att.Resource)
	}
	r53 := find(d, "Route53AliasRecord")
	if r53 == nil || !slices.Equal(r53.Resource, []string{"arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"}) {
		t.Errorf("Route53AliasRecord = %+v", r53)
	}
	for _, bad := range []Options{
		{TaskRolePolicyARNs: []string{"arn:aws:iam::aws:policy/*"}},
		{TaskRolePolicyARNs: []string{"AmazonS3ReadOnlyAccess"}},
		{HostedZoneID: "/hostedzone/Z1"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
