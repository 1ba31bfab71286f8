package iampolicy

import (
	"slices"
	"testing"
)

// A blue/green, canary or linear stack gets exactly the strategy's grants:
// deploy's service deployment calls, the listener rules and second target
// group, and the infrastructure role, passed only to ECS.
func TestStrategyGrants(t *testing.T) {
	o := Options{Stack: "demo", AccountID: "123456789012", Region: "us-east-1"}
	rolling := Policy(o)
	o.Shifting = true
	shifting := Policy(o)
	for _, a := range []string{"ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment", "elasticloadbalancing:CreateRule", "elasticloadbalancing:DescribeRules"} {
		if Allows(rolling, a) {
			t.Errorf("a rolling stack's policy allows %s", a)
		}
		if !Allows(shifting, a) {
			t.Errorf("a shifting stack's policy lacks %s", a)
		}
	}
	infra := "arn:aws:iam::123456789012:role/demo-us-east-1-ecs-infra"
	var pass, attach *Statement
	for i, st := range shifting.Statement {
		switch st.Sid {
		case "IAMPassInfrastructureRole":
			pass = &shifting.Statement[i]
		case "IAMAttachInfrastructurePolicy":
			attach = &shifting.Statement[i]
		}
	}
	if pass == nil || !slices.Equal(pass.Resource, []string{infra}) || !slices.Equal(pass.Condition["StringEquals"]["iam:PassedToService"], []string{"ecs.amazonaws.com"}) {
		t.Errorf("PassRole statement = %+v, want the infrastructure role, passed to ecs.amazonaws.com only", pass)
	}
	if attach == nil || !slices.Equal(attach.Condition["ArnEquals"]["iam:PolicyARN"], []string{"arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"}) {
		t.Errorf("attach statement = %+v, want only the managed load balancer policy", attach)
	}
	if !AllowsOn(shifting, "ecs:StopServiceDeployment", "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/demo/abc") ||
		AllowsOn(shifting, "ecs:StopServiceDeployment", "arn:aws:ecs:us-east-1:123456789012:service-deployment/other/other/abc") {
		t.Errorf("StopServiceDeployment is not scoped to the stack's service")
	}
	deployOnly := Policy(Options{Steps: []Step{Deploy}, Stack: "demo", Shifting: true})
	if Allows(deployOnly, "iam:PassRole") && AllowsOn(deployOnly, "iam:PassRole", "arn:aws:iam::*:role/demo-*-ecs-infra") {
		t.Errorf("deploy alone passes the infrastructure role: it never changes the load balancer settings")
	}
}
