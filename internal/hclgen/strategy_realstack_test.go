package hclgen

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestBlueGreenModuleOnLocalStack applies a blue/green module against moto:
// both target groups and the two listener rules exist (the test rule matches
// the test header), a second plan shows no changes, and destroy removes the
// service before the rules and the infrastructure role's policy that ECS
// shifts traffic with. moto keeps no strategy and shifts nothing: this proves
// the rendered resources and their order, not ECS's deployments.
func TestBlueGreenModuleOnLocalStack(t *testing.T) {
	tools := localstack.Terraform(t)
	if !strings.HasPrefix(os.Getenv("GRAVITON_CD_TEST_PROVIDER_VERSION"), "6.") {
		t.Skip("needs AWS provider 6.x (GRAVITON_CD_TEST_PROVIDER_VERSION)")
	}
	moto := localstack.Moto(t)
	localstack.SetAWSEnv(t)
	t.Setenv(localstack.EnvCLIConfig, tools.CLIConfigFile)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	ctx := t.Context()

	name := localstack.UniqueName(t, "bg")
	dir := t.TempDir()
	p := validated(t, func(in *config.ProvisionInput) {
		in.Name, in.EndpointURL = name, moto
		in.StateBackend, in.StateBucket = "local", ""
		in.Strategy = config.StrategyInput{Strategy: "blue-green", BakeTime: "5m"}
	})
	p.StackID = "realstack-" + name
	if err := os.WriteFile(filepath.Join(dir, ModuleFile), mustRender(t, p), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, tools.Binary)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	tf.SetStdout(&log)
	tf.SetStderr(&log)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, localstack.Tail(log.String()))
		}
	}
	step("init", tf.Init(ctx))
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_ = tf.Destroy(ctx)
		}
	})
	step("apply", tf.Apply(ctx))

	elb := elbv2.NewFromConfig(localstack.AWSConfig(t))
	tgs, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{p.Names().TargetGroup, p.AlternateTargetGroupName()}})
	if err != nil || len(tgs.TargetGroups) != 2 {
		t.Fatalf("target groups: %v, %v", tgs, err)
	}
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{p.Names().LoadBalancer}})
	step("describe load balancer", err)
	ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lbs.LoadBalancers[0].LoadBalancerArn})
	step("describe listeners", err)
	rules, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: ls.Listeners[0].ListenerArn})
	step("describe rules", err)
	header := false
	for _, r := range rules.Rules {
		for _, c := range r.Conditions {
			if c.HttpHeaderConfig != nil && aws.ToString(c.HttpHeaderConfig.HttpHeaderName) == TestTrafficHeader {
				header = aws.ToString(r.Priority) == "10"
			}
		}
	}
	if !header {
		t.Errorf("no test listener rule on %s at priority 10: %+v", TestTrafficHeader, rules.Rules)
	}

	log.Reset()
	changed, err := tf.Plan(ctx)
	step("second plan", err)
	if changed {
		t.Errorf("a second plan with the same inputs shows changes:\n%s", localstack.Tail(log.String()))
	}

	log.Reset()
	step("destroy", tf.Destroy(ctx))
	destroyed = true
	order := destroyOrder(log.String())
	pos := func(addr string) int { return slices.Index(order, addr) }
	for _, later := range []string{"aws_lb_listener_rule.production", "aws_lb_listener_rule.test", infrastructureAttachmentAddress, alternateTargetGroupAddress} {
		if pos("aws_ecs_service.app") < 0 || pos(later) < 0 || pos("aws_ecs_service.app") > pos(later) {
			t.Errorf("aws_ecs_service.app (at %d) destroyed after %s (at %d): %v", pos("aws_ecs_service.app"), later, pos(later), order)
		}
	}
}
