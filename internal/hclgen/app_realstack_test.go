package hclgen

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// fixtureSecretValue is what the fixtures store in SSM and Secrets Manager:
// it must never reach the stack's module, plan, state or outputs.
const fixtureSecretValue = "fixture-s3cr3t-7f3a"

// appFixtures is a Terraform config that makes, in moto, what an app stack
// refers to by ARN: an SSM SecureString, a Secrets Manager secret, a KMS
// key, an ACM certificate and a Route 53 zone. The module itself never
// creates them (they are the user's).
func appFixtures(endpoint, name string) string {
	return `provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    acm            = "` + endpoint + `"
    kms            = "` + endpoint + `"
    route53        = "` + endpoint + `"
    secretsmanager = "` + endpoint + `"
    ssm            = "` + endpoint + `"
    sts            = "` + endpoint + `"
  }
}

resource "aws_kms_key" "app" {
  description = "` + name + ` secrets"
}

resource "aws_ssm_parameter" "db" {
  name   = "/` + name + `/db-password"
  type   = "SecureString"
  key_id = aws_kms_key.app.id
  value  = "` + fixtureSecretValue + `"
}

resource "aws_secretsmanager_secret" "token" {
  name                    = "` + name + `/api-token"
  kms_key_id              = aws_kms_key.app.arn
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "token" {
  secret_id     = aws_secretsmanager_secret.token.id
  secret_string = "` + fixtureSecretValue + `"
}

resource "aws_acm_certificate" "app" {
  domain_name       = "` + name + `.example.com"
  validation_method = "DNS"
}

resource "aws_route53_zone" "app" {
  name = "` + name + `.example.com"
}

output "ssm_arn" { value = aws_ssm_parameter.db.arn }
output "secret_arn" { value = aws_secretsmanager_secret.token.arn }
output "kms_arn" { value = aws_kms_key.app.arn }
output "cert_arn" { value = aws_acm_certificate.app.arn }
output "zone_id" { value = aws_route53_zone.app.zone_id }
`
}

// TestAppModuleOnLocalStack applies a module with the app settings against
// moto: environment, secrets (an SSM parameter and a Secrets Manager
// secret, with their KMS key), a task role with a managed policy, ECS Exec,
// and HTTPS with the redirect and an alias record. Not service auto scaling:
// moto 5.2 does not implement Application Auto Scaling's
// ListTagsForResource, which the provider calls after it registers the
// (default-tagged) scalable target, and retries for minutes before it fails.
// The goldens and terraform validate hold the auto scaling resources.
// It checks what moto stores, that a second plan shows no changes, and that
// the secret's value appears nowhere in the stack's module, plan, state or
// outputs. What only AWS shows (the certificate's validation, the alias
// resolving, tasks reading the secrets) is in docs/app-configuration.md.
func TestAppModuleOnLocalStack(t *testing.T) {
	tools := localstack.Terraform(t)
	moto := localstack.Moto(t)
	localstack.SetAWSEnv(t)
	t.Setenv(localstack.EnvCLIConfig, tools.CLIConfigFile)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	ctx := t.Context()
	name := localstack.UniqueName(t, "app")

	var log bytes.Buffer
	terraform := func(dir string) *tfexec.Terraform {
		tf, err := tfexec.NewTerraform(dir, tools.Binary)
		if err != nil {
			t.Fatal(err)
		}
		tf.SetStdout(&log)
		tf.SetStderr(&log)
		return tf
	}
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, localstack.Tail(log.String()))
		}
		t.Logf("%s: done", what)
	}

	fixDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(fixDir, "main.tf"), []byte(appFixtures(moto, name)), 0o644); err != nil {
		t.Fatal(err)
	}
	fix := terraform(fixDir)
	step("fixtures init", fix.Init(ctx))
	t.Cleanup(func() { _ = fix.Destroy(ctx) })
	step("fixtures apply", fix.Apply(ctx))
	fo, err := fix.Output(ctx)
	step("fixtures output", err)
	out := func(k string) string {
		var s string
		if err := json.Unmarshal(fo[k].Value, &s); err != nil {
			t.Fatalf("fixture output %s: %v", k, err)
		}
		return s
	}
	ssmARN, secretARN, kmsARN, certARN, zoneID := out("ssm_arn"), out("secret_arn"), out("kms_arn"), out("cert_arn"), out("zone_id")
	t.Logf("fixtures: %s %s %s %s %s", ssmARN, secretARN, kmsARN, certARN, zoneID)

	dir := t.TempDir()
	p := validated(t, func(in *config.ProvisionInput) {
		in.Name, in.EndpointURL = name, moto
		in.StateBackend, in.StateBucket = "local", ""
		in.Env = []string{"GREETING=hello from " + name}
		in.Secrets = []string{"DB_PASSWORD=" + ssmARN, "API_TOKEN=" + secretARN}
		in.SecretsKMSKeyARN = kmsARN
		in.TaskRolePolicyARNs = []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}
		in.EnableExec = true
		in.CertificateARN = certARN
		in.Domain, in.HostedZoneID = name+".example.com", zoneID
		in.DesiredCount = 1
	})
	p.StackID = "realstack-" + name
	src := mustRender(t, p)
	if err := os.WriteFile(filepath.Join(dir, ModuleFile), src, 0o644); err != nil {
		t.Fatal(err)
	}
	tf := terraform(dir)
	step("init", tf.Init(ctx))
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_ = tf.Destroy(ctx)
		}
	})
	log.Reset()
	_, err = tf.Plan(ctx, tfexec.Out("app.tfplan"))
	step("plan", err)
	step("apply", tf.Apply(ctx, tfexec.DirOrPlan("app.tfplan")))
	applyLog := log.String()

	outs, err := tf.Output(ctx)
	step("output", err)
	if got := string(outs[OutputURL].Value); got != `"https://`+name+`.example.com"` {
		t.Errorf("url = %s", got)
	}

	cfg := localstack.AWSConfig(t)
	n := p.Names()
	// The revision carries the environment and the secrets' ARNs, and the
	// task role.
	td, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(n.TaskFamily)})
	step("describe task definition", err)
	c := td.TaskDefinition.ContainerDefinitions[0]
	if len(c.Environment) != 1 || aws.ToString(c.Environment[0].Value) != "hello from "+name {
		t.Errorf("environment = %+v", c.Environment)
	}
	var from []string
	for _, s := range c.Secrets {
		from = append(from, aws.ToString(s.Name)+"="+aws.ToString(s.ValueFrom))
	}
	if want := []string{"API_TOKEN=" + secretARN, "DB_PASSWORD=" + ssmARN}; !slices.Equal(from, want) {
		t.Errorf("secrets = %v, want %v", from, want)
	}
	if !strings.HasSuffix(aws.ToString(td.TaskDefinition.TaskRoleArn), ":role/"+n.TaskRole) {
		t.Errorf("task role = %s", aws.ToString(td.TaskDefinition.TaskRoleArn))
	}

	// The execution role may read exactly those ARNs.
	pol, err := iam.NewFromConfig(cfg).GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(n.TaskExecutionRole), PolicyName: aws.String("read-secrets")})
	step("get the execution role's policy", err)
	doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
	for _, want := range []string{ssmARN, secretARN, kmsARN, "ssm:GetParameters", "secretsmanager:GetSecretValue", "kms:Decrypt"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the execution role's policy lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, `"*"`) {
		t.Errorf("the execution role's policy has a wildcard:\n%s", doc)
	}

	// HTTPS on 443 with the certificate and policy; 80 redirects.
	elb := elbv2.NewFromConfig(cfg)
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{n.LoadBalancer}})
	step("describe load balancer", err)
	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	step("describe listeners", err)
	for _, l := range ls.Listeners {
		switch aws.ToInt32(l.Port) {
		case 80:
			if len(l.DefaultActions) != 1 || l.DefaultActions[0].RedirectConfig == nil || aws.ToString(l.DefaultActions[0].RedirectConfig.Port) != "443" {
				t.Errorf("port 80 does not redirect to 443: %+v", l.DefaultActions)
			}
		case 443:
			if aws.ToString(l.SslPolicy) != config.TLSPolicy || len(l.Certificates) != 1 || aws.ToString(l.Certificates[0].CertificateArn) != certARN {
				t.Errorf("port 443: policy %s, certificates %+v", aws.ToString(l.SslPolicy), l.Certificates)
			}
		default:
			t.Errorf("unexpected listener on port %d", aws.ToInt32(l.Port))
		}
	}
	if len(ls.Listeners) != 2 {
		t.Errorf("%d listeners, want 80 and 443", len(ls.Listeners))
	}
	for _, want := range []string{"aws_route53_record.app: Creation complete", "aws_iam_role_policy.task_exec: Creation complete"} {
		if !strings.Contains(applyLog, want) {
			t.Errorf("apply log lacks %q", want)
		}
	}

	log.Reset()
	changed, err := tf.Plan(ctx)
	step("second plan", err)
	if changed {
		t.Errorf("a second plan with the same inputs shows changes:\n%s", localstack.Tail(log.String()))
	}

	// No secret value in anything the stack wrote or printed.
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // .terraform is a directory
		}
		if bytes.Contains(b, []byte(fixtureSecretValue)) {
			t.Errorf("%s holds the secret's value", filepath.Base(f))
		}
	}
	if plan, err := tf.ShowPlanFileRaw(ctx, "app.tfplan"); err != nil || strings.Contains(plan, fixtureSecretValue) {
		t.Errorf("the plan holds the secret's value (or cannot be shown: %v)", err)
	}
	if strings.Contains(applyLog, fixtureSecretValue) {
		t.Error("terraform's output holds the secret's value")
	}

	log.Reset()
	step("destroy", tf.Destroy(ctx))
	destroyed = true
}
