package hclgen

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// ECS-native blue/green, canary and linear deployments (provision
// --strategy). ECS shifts traffic between two target groups by changing the
// weights of the production listener rule's forward action, and sends
// requests that match the test listener rule to the new revision before
// production traffic moves; it does so with an infrastructure role that
// carries AWS's managed policy for load balancers. Sources: the ECS
// developer guide's "Amazon ECS blue/green deployments" and "Amazon ECS
// infrastructure IAM role for load balancers", and aws_ecs_service's
// deployment_configuration and load_balancer.advanced_configuration in the
// AWS provider (CHANGELOG 6.4.0 and 6.21.0).

// TestTrafficHeader is the request header, with the value "1", that the test
// listener rule matches: deploy --verify-checks sends it so that its checks
// reach the new revision while production traffic still reaches the old.
const TestTrafficHeader = "X-Graviton-CD-Test"

// Provider versions that know the strategies' blocks: BLUE_GREEN with
// load_balancer.advanced_configuration came in 6.4.0, CANARY and LINEAR in
// 6.21.0. A rolling stack keeps ProviderConstraint (5.100 works).
const (
	ProviderConstraintBlueGreen     = ">= 6.4.0, < 7.0"
	ProviderConstraintCanaryLinear  = ">= 6.21.0, < 7.0"
	infrastructureRolePolicy        = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
	productionRulePriority          = 100
	testRulePriority                = 10 // before the production rule: it matches only the header
	alternateTargetGroupAddress     = "aws_lb_target_group.alternate"
	infrastructureRoleAddress       = "aws_iam_role.ecs_infrastructure"
	infrastructureAttachmentAddress = "aws_iam_role_policy_attachment.ecs_infrastructure"
)

// providerConstraint is the AWS provider versions the module needs.
func (r renderer) providerConstraint() string {
	switch r.p.Strategy.Kind {
	case config.StrategyBlueGreen:
		return ProviderConstraintBlueGreen
	case config.StrategyCanary, config.StrategyLinear:
		return ProviderConstraintCanaryLinear
	}
	return ProviderConstraint
}

// strategyResources renders, for a traffic-shifting strategy, the second
// target group, the production and test listener rules and the
// infrastructure role; for rolling, nothing.
func (r renderer) strategyResources(root *hclwrite.Body) {
	if !r.p.Strategy.Shifting() {
		return
	}
	root.AppendNewline()
	r.targetGroup(root, "alternate", r.p.AlternateTargetGroupName())
	root.AppendNewline()

	r.listenerRule(root, "production", productionRulePriority, func(cond *hclwrite.Body) {
		set(block(cond, "path_pattern"), "values", []string{"/*"})
	})
	root.AppendNewline()
	r.listenerRule(root, "test", testRulePriority, func(cond *hclwrite.Body) {
		set(block(cond, "http_header"), "http_header_name", TestTrafficHeader, "values", []string{"1"})
	})
	root.AppendNewline()

	role := block(root, "resource", "aws_iam_role", "ecs_infrastructure")
	set(role,
		"name", r.p.InfrastructureRoleName(),
		"assume_role_policy", call("jsonencode", object(
			kv{"Version", lit("2012-10-17")},
			kv{"Statement", tuple(object(
				kv{"Effect", lit("Allow")},
				kv{"Principal", object(kv{"Service", lit("ecs.amazonaws.com")})},
				kv{"Action", lit("sts:AssumeRole")},
			))},
		)),
	)
	root.AppendNewline()
	att := block(root, "resource", "aws_iam_role_policy_attachment", "ecs_infrastructure")
	set(att,
		"role", expr(infrastructureRoleAddress+".name"),
		"policy_arn", call("format", lit("arn:%s:iam::aws:policy/"+infrastructureRolePolicy), expr("data.aws_partition.current.partition")),
	)
}

// listenerRule renders one listener rule that forwards to both target
// groups, all weight on the first. ECS moves the weights during a deployment
// and leaves them on whichever group won, so Terraform ignores the action
// after creating it.
func (r renderer) listenerRule(root *hclwrite.Body, label string, priority int, condition func(*hclwrite.Body)) {
	rule := block(root, "resource", "aws_lb_listener_rule", label)
	set(rule, "listener_arn", expr(r.listener()+".arn"), "priority", priority)
	rule.AppendNewline()
	action := block(rule, "action")
	set(action, "type", "forward")
	fwd := block(action, "forward")
	set(block(fwd, "target_group"), "arn", expr("aws_lb_target_group.app.arn"), "weight", 100)
	set(block(fwd, "target_group"), "arn", expr(alternateTargetGroupAddress+".arn"), "weight", 0)
	rule.AppendNewline()
	condition(block(rule, "condition"))
	rule.AppendNewline()
	set(block(rule, "lifecycle"), "ignore_changes", expr("[action]"))
}

// deploymentConfiguration renders the service's strategy and, with rollback
// alarms, the alarms ECS watches.
func (r renderer) deploymentConfiguration(svc *hclwrite.Body) {
	s := r.p.Strategy
	if !s.Shifting() {
		return
	}
	dc := block(svc, "deployment_configuration")
	set(dc, "strategy", s.ECSName(), "bake_time_in_minutes", fmt.Sprint(s.BakeMinutes))
	switch s.Kind {
	case config.StrategyCanary:
		dc.AppendNewline()
		c := block(dc, "canary_configuration")
		set(c, "canary_percent", cty.NumberFloatVal(s.StepPercent), "canary_bake_time_in_minutes", fmt.Sprint(s.StepMinutes))
	case config.StrategyLinear:
		dc.AppendNewline()
		l := block(dc, "linear_configuration")
		set(l, "step_percent", cty.NumberFloatVal(s.StepPercent), "step_bake_time_in_minutes", fmt.Sprint(s.StepMinutes))
	}
	svc.AppendNewline()
	if len(s.RollbackAlarms) > 0 {
		set(block(svc, "alarms"), "alarm_names", s.RollbackAlarms, "enable", true, "rollback", true)
		svc.AppendNewline()
	}
}

// advancedConfiguration renders the load balancer's second target group,
// listener rules and the role ECS shifts traffic with.
func (r renderer) advancedConfiguration(lb *hclwrite.Body) {
	if !r.p.Strategy.Shifting() {
		return
	}
	lb.AppendNewline()
	set(block(lb, "advanced_configuration"),
		"alternate_target_group_arn", expr(alternateTargetGroupAddress+".arn"),
		"production_listener_rule", expr("aws_lb_listener_rule.production.arn"),
		"test_listener_rule", expr("aws_lb_listener_rule.test.arn"),
		"role_arn", expr(infrastructureRoleAddress+".arn"),
	)
}

// strategyDependsOn adjusts the service's depends_on for a traffic-shifting
// strategy: the service needs the listener rules (which need the listener,
// so that edge goes) and the infrastructure role's policy, without which ECS
// cannot shift traffic.
func (r renderer) strategyDependsOn(deps []string) []string {
	if !r.p.Strategy.Shifting() {
		return deps
	}
	out := []string{"aws_lb_listener_rule.production", "aws_lb_listener_rule.test"}
	for _, d := range deps {
		if d != r.listener() {
			out = append(out, d)
		}
	}
	return append(out, infrastructureAttachmentAddress)
}

// strategyIgnore adds load_balancer to the service's ignore_changes list
// (written "[a, b]") for a traffic-shifting strategy: after each deployment
// ECS swaps the primary and alternate target groups, which Terraform must not
// swap back.
func (r renderer) strategyIgnore(list string) string {
	if !r.p.Strategy.Shifting() {
		return list
	}
	return strings.TrimSuffix(list, "]") + ", load_balancer]"
}

// strategyNamedResources are the fixed-name resources of the strategy.
func strategyNamedResources(p config.Provision) []NamedResource {
	if !p.Strategy.Shifting() {
		return nil
	}
	return []NamedResource{
		{alternateTargetGroupAddress, KindTargetGroup, p.AlternateTargetGroupName()},
		{infrastructureRoleAddress, KindIAMRole, p.InfrastructureRoleName()},
	}
}
