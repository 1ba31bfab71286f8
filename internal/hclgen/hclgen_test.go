package hclgen

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current renderer")

// validated builds a Provision through the real validation, so goldens show
// what users get from the defaults.
func validated(t *testing.T, edit func(*config.ProvisionInput)) config.Provision {
	t.Helper()
	in := config.ProvisionInput{
		Name: "demo", Region: "us-east-1", Dir: filepath.Join(t.TempDir(), "stack"),
		InstanceType: config.DefaultInstanceType, MinSize: 1, MaxSize: 2, DesiredCapacity: 1,
		Image: config.DefaultImage, ContainerName: config.DefaultContainerName, ContainerPort: config.DefaultContainerPort,
		DesiredCount: 1, CPU: config.DefaultCPU, Memory: config.DefaultMemory,
		HealthCheckPath: config.DefaultHealthCheckPath, LogRetentionDays: config.DefaultLogRetentionDays,
		Tags: "team=web,env=test", Timeout: time.Hour,
		// The lifecycle names the default state bucket before it renders.
		StateBucket: "graviton-cd-state-123456789012-us-east-1",
	}
	if edit != nil {
		edit(&in)
	}
	p, err := config.ValidateProvision(in)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return p
}

// appInput is a real app: environment, secrets (one SSM parameter, one
// Secrets Manager secret) with their KMS key, a task role, ECS Exec, HTTPS
// with a redirect and an alias record, and auto scaling.
func appInput(in *config.ProvisionInput) {
	in.Env = []string{"LOG_LEVEL=info", "GREETING=hello", "world"}
	in.Secrets = []string{
		"DB_PASSWORD=arn:aws:ssm:us-east-1:123456789012:parameter/demo/db-password",
		"API_TOKEN=arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/api-token-AbCdEf",
	}
	in.SecretsKMSKeyARN = "arn:aws:kms:us-east-1:123456789012:key/0123abcd-4567-89ef-0123-456789abcdef"
	in.TaskRolePolicyARNs = []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/demo-app"}
	in.EnableExec = true
	in.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
	in.Domain, in.HostedZoneID = "app.example.com", "Z0123456789ABCDEFGHIJ"
	in.DesiredCount, in.MaxCount, in.CPUTarget = 2, 6, 60
	in.MaxSize = 4
}

// goldenCases are the names of testdata/<name>.tf.golden.
func goldenCases() []string {
	return []string{"new-vpc", "existing-subnets", "bridge", "emulator-s3-state", "private-subnets", "alb-subnets", "app"}
}

// withIdentity gives p what the stack lifecycle sets: an identity and the
// ephemeral mark.
func withIdentity(p config.Provision) config.Provision {
	p.StackID = "0123456789abcdef0123456789abcdef"
	p.Ephemeral = true
	return p
}

func TestRenderRootModuleGolden(t *testing.T) {
	cases := []struct {
		name string
		edit func(*config.ProvisionInput)
	}{
		{"new-vpc", nil},
		{"existing-subnets", func(in *config.ProvisionInput) {
			in.VPCID = "vpc-0123456789abcdef0"
			in.SubnetIDs = "subnet-0123456789abcdef0,subnet-0fedcba9876543210"
			in.InstanceType = "c7g.large"
			in.ContainerPort = 8080
			in.HealthCheckPath = "/healthz"
		}},
		{"bridge", func(in *config.ProvisionInput) {
			in.NetworkMode = "bridge"
			in.StateBackend, in.StateBucket = "local", "" // a throwaway stack's state in its directory
		}},
		{"emulator-s3-state", func(in *config.ProvisionInput) {
			in.EndpointURL = "http://127.0.0.1:5055"
			in.StateBackend = "s3"
			in.StateBucket = "tf-state"
		}},
		{"private-subnets", func(in *config.ProvisionInput) { in.PrivateSubnets = true }},
		{"alb-subnets", func(in *config.ProvisionInput) {
			in.VPCID = "vpc-0123456789abcdef0"
			in.SubnetIDs = "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2"
			in.ALBSubnetIDs = "subnet-0bbbbbbbbbbbbbbb1,subnet-0bbbbbbbbbbbbbbb2"
		}},
		{"app", appInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RenderRootModule(withIdentity(validated(t, tc.edit)))
			if err != nil {
				t.Fatal(err)
			}
			again, _ := RenderRootModule(withIdentity(validated(t, tc.edit)))
			if !bytes.Equal(got, again) {
				t.Fatal("two renders of the same input differ")
			}
			parseModule(t, got)
			golden := filepath.Join("testdata", tc.name+".tf.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test ./internal/hclgen -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("render differs from %s (run with -update if the change is intended):\n%s", golden, diffLines(string(want), string(got)))
			}
			parseModule(t, want)
		})
	}
}

// parseModule parses the module back and checks its top-level shape.
func parseModule(t *testing.T, src []byte) *hcl.File {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, ModuleFile)
	if diags.HasErrors() {
		t.Fatalf("rendered module does not parse: %s", diags)
	}
	return f
}

func TestRenderRootModuleResources(t *testing.T) {
	f := parseModule(t, mustRender(t, validated(t, nil)))
	body := f.Body.(*hclsyntax.Body)
	got := map[string]bool{}
	for _, b := range body.Blocks {
		if b.Type == "resource" || b.Type == "data" {
			got[b.Type+"."+strings.Join(b.Labels, ".")] = true
		}
	}
	for _, want := range []string{
		"resource.aws_vpc.this", "resource.aws_subnet.public", "resource.aws_internet_gateway.this",
		"resource.aws_route_table.public", "resource.aws_route_table_association.public",
		"data.aws_ssm_parameter.ecs_ami", "resource.aws_launch_template.this", "resource.aws_autoscaling_group.this",
		"resource.aws_ecs_capacity_provider.this", "resource.aws_ecs_cluster_capacity_providers.this",
		"resource.aws_ecs_cluster.this", "resource.aws_ecs_task_definition.app", "resource.aws_cloudwatch_log_group.app",
		"resource.aws_ecs_service.app", "resource.aws_lb.this", "resource.aws_lb_target_group.app", "resource.aws_lb_listener.http",
		"resource.aws_security_group.alb", "resource.aws_security_group.instances", "resource.aws_security_group.tasks",
		"resource.aws_iam_role.instance", "resource.aws_iam_role.task_execution", "resource.aws_iam_instance_profile.instance",
	} {
		if !got[want] {
			t.Errorf("module lacks %s", want)
		}
	}
}

func TestRenderRootModuleHardening(t *testing.T) {
	src := string(mustRender(t, validated(t, nil)))
	for _, want := range []string{
		`http_tokens                 = "required"`,
		`encrypted             = true`,
		`volume_type           = "gp3"`,
		`retention_in_days = 30`,
		`cpu_architecture        = "ARM64"`,
		`protect_from_scale_in = true`,
		`managed_termination_protection = "ENABLED"`,
		`ignore_changes = [task_definition, desired_count, capacity_provider_strategy]`,
		`echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config`,
		`create_before_destroy = true`,
		`"graviton-cd:stack" = "demo"`,
		`version = ">= 5.100, < 7.0"`,
		"AmazonEC2ContainerServiceforEC2Role",
		"AmazonECSTaskExecutionRolePolicy",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("module lacks %q", want)
		}
	}
	for _, bad := range []string{"from_port   = 22", "ami-", "skip_credentials_validation", "endpoints"} {
		if strings.Contains(src, bad) {
			t.Errorf("module holds %q", bad)
		}
	}
}

func TestRenderRootModuleInjection(t *testing.T) {
	const evil = `"}${file("/etc/passwd")}`
	p := validated(t, nil)
	p.Tags = []config.Tag{{Key: "evil", Value: evil}, {Key: `k"ey`, Value: "%{ if true }x%{ endif }"}}
	p.ContainerName = "app"
	p.HealthCheckPath = `/a"b${c}`
	src := mustRender(t, p)
	f := parseModule(t, src)
	if strings.Contains(string(src), "/etc/passwd\")}\"") && !strings.Contains(string(src), `$${file`) {
		t.Fatalf("tag value was not escaped:\n%s", src)
	}
	// Evaluate the provider's default_tags without any functions: a literal
	// needs none, an injected file() call would fail.
	var tags cty.Value
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "provider" {
			continue
		}
		for _, inner := range b.Body.Blocks {
			if inner.Type == "default_tags" {
				v, diags := inner.Body.Attributes["tags"].Expr.Value(nil)
				if diags.HasErrors() {
					t.Fatalf("default_tags is not a literal: %s", diags)
				}
				tags = v
			}
		}
	}
	if !tags.IsKnown() || tags.IsNull() {
		t.Fatal("no default_tags found")
	}
	if got := tags.GetAttr("evil").AsString(); got != evil {
		t.Errorf("tag evil = %q, want %q", got, evil)
	}
	if got := tags.GetAttr(`k"ey`).AsString(); got != "%{ if true }x%{ endif }" {
		t.Errorf("tag k\"ey = %q", got)
	}
	if err := terraformFmtCheck(t, src); err != nil {
		t.Error(err)
	}
}

func TestRenderRootModuleFmtCanonical(t *testing.T) {
	for _, name := range goldenCases() {
		src, err := os.ReadFile(filepath.Join("testdata", name+".tf.golden"))
		if err != nil {
			t.Fatal(err)
		}
		if err := terraformFmtCheck(t, src); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// terraformFmtCheck runs `terraform fmt -check` when a Terraform CLI is at
// hand (GRAVITON_CD_TEST_TERRAFORM, or terraform/tofu on PATH).
func terraformFmtCheck(t *testing.T, src []byte) error {
	t.Helper()
	bin := localstack.FindTerraform()
	if bin == "" {
		t.Log("no terraform or tofu: fmt check skipped")
		return nil
	}
	cmd := exec.Command(bin, "fmt", "-check", "-")
	cmd.Stdin = bytes.NewReader(src)
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+os.DevNull)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return &fmtError{out: string(out), err: err}
	}
	return nil
}

type fmtError struct {
	out string
	err error
}

func (e *fmtError) Error() string { return "terraform fmt -check: " + e.err.Error() + ": " + e.out }

func mustRender(t *testing.T, p config.Provision) []byte {
	t.Helper()
	b, err := RenderRootModule(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			out = append(out, "line "+strconv.Itoa(i+1)+":\n- "+wl+"\n+ "+gl)
		}
	}
	return strings.Join(out, "\n")
}

// TestSubnetSizing: every subnet of a new VPC fits in it, also the four of
// --private-subnets in the smallest VPC (/24: four /26).
func TestSubnetSizing(t *testing.T) {
	cases := []struct {
		cidr    string
		private bool
		want    []string
	}{
		{"10.0.0.0/16", false, []string{"cidrsubnet(aws_vpc.this.cidr_block, 8, count.index)"}},
		{"10.0.0.0/24", false, []string{"cidrsubnet(aws_vpc.this.cidr_block, 1, count.index)"}},
		{"10.0.0.0/16", true, []string{"cidrsubnet(aws_vpc.this.cidr_block, 8, count.index)", "cidrsubnet(aws_vpc.this.cidr_block, 8, count.index + 2)"}},
		{"10.0.0.0/23", true, []string{"cidrsubnet(aws_vpc.this.cidr_block, 2, count.index)", "cidrsubnet(aws_vpc.this.cidr_block, 2, count.index + 2)"}},
		{"10.0.0.0/24", true, []string{"cidrsubnet(aws_vpc.this.cidr_block, 2, count.index)", "cidrsubnet(aws_vpc.this.cidr_block, 2, count.index + 2)"}},
	}
	for _, tc := range cases {
		src := string(mustRender(t, validated(t, func(in *config.ProvisionInput) { in.VPCCIDR, in.PrivateSubnets = tc.cidr, tc.private })))
		for _, w := range tc.want {
			if !strings.Contains(src, w) {
				t.Errorf("%s private=%v: module lacks %q", tc.cidr, tc.private, w)
			}
		}
	}
}
