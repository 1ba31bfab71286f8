package iampolicy

// What a blue/green, canary or linear stack (provision --strategy) needs on
// top of a rolling one: the second target group and the listener rules, the
// ECS infrastructure role (created, given AWS's managed load balancer policy,
// and passed to ECS only), and deploy's service deployments calls. Action
// names and resource types follow the Service Authorization Reference for
// Amazon ECS and Elastic Load Balancing v2; the provider calls follow
// aws_lb_target_group, aws_lb_listener_rule, aws_iam_role and
// aws_ecs_service in the AWS provider.

// infrastructureRolePolicy is the AWS managed policy the module attaches to
// the infrastructure role (hclgen: infrastructureRolePolicy).
const infrastructureRolePolicy = "AmazonECSInfrastructureRolePolicyForLoadBalancers"

func (s scope) infrastructureRole() string { return s.iam("role/" + s.iamPrefix() + "-ecs-infra") }

// strategyCatalogue lists the grants only a traffic-shifting stack needs.
func strategyCatalogue() []grant {
	return []grant{
		{
			// ListServiceDeployments is authorized on the service,
			// DescribeServiceDeployments and StopServiceDeployment on the
			// service deployment (service-deployment/<cluster>/<service>/<id>);
			// the module names cluster and service after the stack.
			sid: "ECSServiceDeployments",
			resources: func(s scope) []string {
				return []string{
					s.arn("ecs", "service/"+s.stack+"/"+s.stack),
					s.arn("ecs", "service-deployment/"+s.stack+"/"+s.stack+"/*"),
				}
			},
			actions: []action{
				{"ecs:ListServiceDeployments", depl, "tool: deploy finds the service deployment its UpdateService started on a blue/green, canary or linear service"},
				{"ecs:DescribeServiceDeployments", depl, "tool: deploy follows the service deployment's status, lifecycle stage and traffic share to a verdict"},
				{"ecs:StopServiceDeployment", depl, "tool: deploy --verify-checks (on a failed check) and --rollback-on-failure stop it with stopType ROLLBACK, so ECS shifts traffic back to the old revision"},
			},
		},
		{
			sid:       "ELBRulesRead",
			resources: anyResource,
			actions: []action{
				{"elasticloadbalancing:DescribeRules", tfRead, "provider: aws_lb_listener_rule (production and test rules)"},
			},
		},
		{
			// The second target group is <stack>-tg2-<7 hex>; the rules live
			// on the stack's load balancer's listeners.
			sid: "ELBStrategyResources",
			resources: func(s scope) []string {
				return []string{
					s.arn("elasticloadbalancing", "targetgroup/"+s.stack+"-tg2-???????/*"),
					s.arn("elasticloadbalancing", "listener-rule/app/"+s.stack+"-alb/*"),
					s.arn("elasticloadbalancing", "listener/app/"+s.stack+"-alb/*"),
				}
			},
			actions: []action{
				{"elasticloadbalancing:CreateTargetGroup", prov, "provider: aws_lb_target_group.alternate"},
				{"elasticloadbalancing:ModifyTargetGroup", prov, "provider: aws_lb_target_group.alternate health check settings"},
				{"elasticloadbalancing:ModifyTargetGroupAttributes", prov, "provider: aws_lb_target_group.alternate deregistration delay"},
				{"elasticloadbalancing:DeleteTargetGroup", tfDelete, "provider: aws_lb_target_group.alternate"},
				{"elasticloadbalancing:CreateRule", prov, "provider: aws_lb_listener_rule (CreateRule is authorized on the listener too)"},
				{"elasticloadbalancing:ModifyRule", prov, "provider: aws_lb_listener_rule condition changes"},
				{"elasticloadbalancing:DeleteRule", tfDelete, "provider: aws_lb_listener_rule"},
				{"elasticloadbalancing:AddTags", prov, "provider: tags the second target group and the rules at creation (default_tags)"},
				{"elasticloadbalancing:RemoveTags", prov, "provider: removes tags dropped from --tags"},
			},
		},
		{
			// The infrastructure role <stack>-<region>-ecs-infra: nothing else.
			sid:       "IAMInfrastructureRole",
			resources: func(s scope) []string { return []string{s.infrastructureRole()} },
			actions: []action{
				{"iam:CreateRole", prov, "provider: aws_iam_role.ecs_infrastructure"},
				{"iam:GetRole", tfRead, "provider: aws_iam_role.ecs_infrastructure"},
				{"iam:TagRole", prov, "provider: tags the role at creation (default_tags)"},
				{"iam:UntagRole", prov, "provider: removes tags dropped from --tags"},
				{"iam:ListRolePolicies", tfRead, "provider: aws_iam_role reads inline policies"},
				{"iam:ListAttachedRolePolicies", tfRead, "provider: reads the role's managed policies"},
				{"iam:ListInstanceProfilesForRole", tfDelete, "provider: checks the role's instance profiles before deleting it"},
				{"iam:DeleteRole", tfDelete, "provider: aws_iam_role.ecs_infrastructure"},
			},
		},
		{
			// Only AWS's managed load balancer policy for ECS, only on that role.
			sid:       "IAMAttachInfrastructurePolicy",
			resources: func(s scope) []string { return []string{s.infrastructureRole()} },
			condition: func(s scope) Condition {
				return Condition{"ArnEquals": {"iam:PolicyARN": {"arn:" + s.partition + ":iam::aws:policy/" + infrastructureRolePolicy}}}
			},
			actions: []action{
				{"iam:AttachRolePolicy", prov, "provider: aws_iam_role_policy_attachment.ecs_infrastructure"},
				{"iam:DetachRolePolicy", tfDelete, "provider: aws_iam_role_policy_attachment.ecs_infrastructure delete"},
			},
		},
		{
			// CreateService and UpdateService check PassRole for the role in
			// load_balancer.advanced_configuration; only ECS may receive it.
			sid:       "IAMPassInfrastructureRole",
			resources: func(s scope) []string { return []string{s.infrastructureRole()} },
			condition: func(scope) Condition {
				return Condition{"StringEquals": {"iam:PassedToService": {"ecs.amazonaws.com"}}}
			},
			actions: []action{
				{"iam:PassRole", prov, "ECS CreateService/UpdateService check it for advanced_configuration.role_arn (provider: aws_ecs_service)"},
			},
		},
	}
}
