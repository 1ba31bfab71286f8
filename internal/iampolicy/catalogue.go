package iampolicy

import (
	"path"
	"slices"
)

// need says which steps call an action.
type need uint8

const (
	prov need = 1 << iota // graviton-cd provision (terraform plan + apply)
	depl                  // graviton-cd deploy
	dest                  // graviton-cd destroy (terraform destroy, clean-up, leftover check)
	stat                  // graviton-cd status (read only)
	smok                  // graviton-cd smoke-test --name: finds the stack's URL in its state
	logv                  // graviton-cd logs
	rbck                  // graviton-cd rollback
	runt                  // graviton-cd run-task

	// What every debugging verb does: find the stack (--name reads its
	// state) and describe the service.
	verbs = logv | rbck | runt

	// Terraform refreshes every resource before it plans, so its reads are
	// needed by provision and destroy alike.
	tfRead = prov | dest
	// A later provision that changes a setting AWS cannot update in place
	// replaces the resource, so provision deletes too.
	tfDelete = prov | dest
)

// action is one IAM action and why graviton-cd needs it.
type action struct {
	name string
	by   need
	why  string
}

// needOf is the mask of what the steps need.
func needOf(steps []Step) need {
	var n need
	for _, s := range steps {
		switch s {
		case Provision:
			n |= prov
		case Deploy:
			n |= depl
		case Destroy:
			n |= dest
		case Status:
			n |= stat
		case SmokeTest:
			n |= smok
		case Logs:
			n |= logv
		case Rollback:
			n |= rbck
		case RunTask:
			n |= runt
		}
	}
	return n
}

// grant is one statement of the policy: actions on the same resources.
type grant struct {
	sid          string
	needsState   bool // only with an S3 state bucket
	defaultState bool // only with the default state bucket, which provision creates
	resources    func(scope) []string
	condition    func(scope) Condition
	actions      []action
	// only, when set, says whether the stack needs the statement at all
	// (a feature the stack may not use, or one scoped to values it names).
	only func(scope) bool
}

func anyResource(scope) []string { return []string{"*"} }

// catalogue lists every action graviton-cd needs, grouped by the resources
// it can be scoped to. "tool" means graviton-cd's own Go code calls it;
// "provider" means the Terraform AWS provider does, for the resource named.
func catalogue() []grant {
	return []grant{
		{
			// STS answers GetCallerIdentity to any principal (IAM cannot deny
			// it); listed so that the policy says everything that is called.
			sid:       "Identity",
			resources: anyResource,
			actions: []action{
				{"sts:GetCallerIdentity", tfRead | depl | stat | smok | verbs, "provider: learns the account ID for ARNs and checks the credentials at start-up; tool: names the default state bucket graviton-cd-state-<account>-<region>"},
			},
		},
		{
			// EC2 Describe* calls support no resource-level permissions:
			// AWS requires Resource "*" for them.
			sid:       "EC2Read",
			resources: anyResource,
			actions: []action{
				{"ec2:DescribeAvailabilityZones", tfRead, "provider: data aws_availability_zones picks two AZs for the public subnets"},
				{"ec2:DescribeVpcs", tfRead | dest, "provider: aws_vpc; tool: leftover check after destroy"},
				{"ec2:DescribeVpcAttribute", tfRead, "provider: aws_vpc reads enable_dns_support, enable_dns_hostnames and address-usage metrics"},
				{"ec2:DescribeNetworkAcls", tfRead, "provider: aws_vpc reads the VPC's default network ACL"},
				{"ec2:DescribeSubnets", tfRead | dest, "provider: aws_subnet; tool: leftover check"},
				{"ec2:DescribeNatGateways", tfRead, "provider: aws_nat_gateway (--private-subnets)"},
				{"ec2:DescribeAddresses", tfRead, "provider: aws_eip, the NAT gateway's address (--private-subnets)"},
				{"ec2:DescribeAddressesAttribute", tfRead, "provider: aws_eip reads its reverse DNS record"},
				{"ec2:DescribeInternetGateways", tfRead | dest, "provider: aws_internet_gateway and its attachment; tool: leftover check"},
				{"ec2:DescribeRouteTables", tfRead | dest, "provider: aws_route_table, aws_route_table_association and the VPC's main route table; tool: leftover check"},
				{"ec2:DescribeSecurityGroups", tfRead | dest, "provider: aws_security_group and the VPC's default group; tool: leftover check"},
				{"ec2:DescribeNetworkInterfaces", tfDelete, "provider: before deleting a subnet or security group, and after deleting the load balancer, it waits for ENIs to go"},
				{"ec2:DescribeLaunchTemplates", tfRead | dest, "provider: aws_launch_template; tool: leftover check"},
				{"ec2:DescribeLaunchTemplateVersions", tfRead, "provider: aws_launch_template reads its latest version; Auto Scaling checks the template the group uses"},
				{"ec2:DescribeInstances", dest, "tool: finds instances of the Auto Scaling group destroy removed that still run, and the leftover check"},
			},
		},
		{
			// EC2 create calls authorize against resources that do not exist
			// yet, and with --vpc-id against the user's own VPC and subnets,
			// which carry no stack tag: these stay on Resource "*".
			sid:       "EC2Write",
			resources: anyResource,
			actions: []action{
				{"ec2:CreateVpc", prov, "provider: aws_vpc (new-VPC stacks)"},
				{"ec2:ModifyVpcAttribute", prov, "provider: aws_vpc enables DNS support and host names"},
				{"ec2:CreateSubnet", prov, "provider: aws_subnet, two public subnets"},
				{"ec2:ModifySubnetAttribute", prov, "provider: aws_subnet sets map_public_ip_on_launch"},
				{"ec2:CreateInternetGateway", prov, "provider: aws_internet_gateway"},
				{"ec2:AttachInternetGateway", prov, "provider: aws_internet_gateway attaches to the VPC"},
				{"ec2:AllocateAddress", prov, "provider: aws_eip for the NAT gateway (--private-subnets)"},
				{"ec2:CreateNatGateway", prov, "provider: aws_nat_gateway (--private-subnets)"},
				{"ec2:CreateRouteTable", prov, "provider: aws_route_table"},
				{"ec2:CreateRoute", prov, "provider: aws_route_table's default route to the internet gateway"},
				{"ec2:AssociateRouteTable", prov, "provider: aws_route_table_association"},
				{"ec2:DisassociateRouteTable", tfDelete, "provider: deleting aws_route_table_association (the association has no tags to scope by)"},
				{"ec2:CreateSecurityGroup", prov, "provider: aws_security_group for the ALB, the instances and the tasks"},
				{"ec2:AuthorizeSecurityGroupIngress", prov, "provider: inline ingress rules (HTTP to the ALB, container port from the ALB)"},
				{"ec2:AuthorizeSecurityGroupEgress", prov, "provider: inline egress rules"},
				{"ec2:RevokeSecurityGroupIngress", prov, "provider: removes ingress rules that changed"},
				{"ec2:RevokeSecurityGroupEgress", prov, "provider: removes the default allow-all egress rule AWS adds to a new group, and egress rules that changed"},
				{"ec2:CreateLaunchTemplate", prov, "provider: aws_launch_template"},
				{"ec2:CreateLaunchTemplateVersion", prov, "provider: aws_launch_template updates create a new version"},
				{"ec2:ModifyLaunchTemplate", prov, "provider: aws_launch_template sets the default version (update_default_version)"},
				{"ec2:RunInstances", prov, "Auto Scaling checks that the caller may launch from the launch template when the group is created or updated"},
				{"ec2:CreateTags", prov, "provider: tags every EC2 resource at creation (default_tags) and updates them"},
				{"ec2:DeleteTags", prov, "provider: removes tags that were dropped from --tags"},
			},
		},
		{
			// Deletions are limited to resources tagged with the stack:
			// the provider's default_tags put graviton-cd:stack on each one.
			sid:       "EC2DeleteStackResources",
			resources: anyResource,
			condition: func(s scope) Condition { return s.stackTagged() },
			actions: []action{
				{"ec2:DeleteVpc", tfDelete, "provider: aws_vpc"},
				{"ec2:DeleteSubnet", tfDelete, "provider: aws_subnet"},
				{"ec2:DetachInternetGateway", tfDelete, "provider: aws_internet_gateway detaches before it is deleted"},
				{"ec2:DeleteInternetGateway", tfDelete, "provider: aws_internet_gateway"},
				{"ec2:DeleteRoute", tfDelete, "provider: aws_route_table removes routes that changed"},
				{"ec2:DeleteRouteTable", tfDelete, "provider: aws_route_table"},
				{"ec2:DeleteNatGateway", tfDelete, "provider: aws_nat_gateway"},
				{"ec2:DisassociateAddress", tfDelete, "provider: aws_eip detaches from the NAT gateway's association before release"},
				{"ec2:ReleaseAddress", tfDelete, "provider: aws_eip"},
				{"ec2:DeleteSecurityGroup", tfDelete, "provider: aws_security_group"},
				{"ec2:DeleteLaunchTemplate", tfDelete, "provider: aws_launch_template"},
				{"ec2:TerminateInstances", dest, "tool: terminates instances still running after their Auto Scaling group is gone"},
			},
		},
		{
			// Auto Scaling Describe* calls take Resource "*" only.
			sid:       "AutoScalingRead",
			resources: anyResource,
			actions: []action{
				{"autoscaling:DescribeAutoScalingGroups", tfRead | dest, "provider: aws_autoscaling_group; tool: destroy lists the group's instances before removing it, leftover check"},
				{"autoscaling:DescribeScalingActivities", tfRead, "provider: reports why instances failed to launch while it waits for capacity"},
				{"autoscaling:DescribeInstanceRefreshes", prov, "provider: aws_autoscaling_group instance_refresh looks for a refresh in progress before it starts one"},
			},
		},
		{
			// The group's ARN holds a generated ID, so it is matched by name.
			sid: "AutoScalingStackGroup",
			resources: func(s scope) []string {
				return []string{s.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+s.stack)}
			},
			actions: []action{
				{"autoscaling:CreateAutoScalingGroup", prov, "provider: aws_autoscaling_group"},
				{"autoscaling:UpdateAutoScalingGroup", prov, "provider: updates sizes and the launch template version (force_delete spares the drain to 0 on destroy)"},
				{"autoscaling:DeleteAutoScalingGroup", tfDelete, "provider: aws_autoscaling_group (force_delete)"},
				{"autoscaling:CreateOrUpdateTags", prov, "provider: the group's propagated tags (AmazonECSManaged, the stack tag)"},
				{"autoscaling:DeleteTags", prov, "provider: removes tags dropped from --tags"},
				{"autoscaling:StartInstanceRefresh", prov, "provider: aws_autoscaling_group instance_refresh replaces the instances when the launch template changes"},
				{"autoscaling:CancelInstanceRefresh", prov, "provider: cancels a refresh in progress before it starts the next one"},
			},
		},
		{
			// Several of these accept no resource ARN (RegisterTaskDefinition,
			// DescribeTaskDefinition, DeregisterTaskDefinition, ListClusters,
			// ListTaskDefinitions), and deploy works on whatever --cluster and
			// --service name, not only provisioned stacks: Resource "*". The
			// cluster, service and capacity provider calls could be narrowed
			// to ARNs named after the stack, at the price of a deploy role
			// that serves provisioned stacks only.
			sid:       "ECS",
			resources: anyResource,
			actions: []action{
				{"ecs:CreateCluster", prov, "provider: aws_ecs_cluster"},
				{"ecs:DescribeClusters", tfRead | dest, "provider: aws_ecs_cluster, aws_ecs_cluster_capacity_providers; tool: leftover check"},
				{"ecs:DeleteCluster", tfDelete, "provider: aws_ecs_cluster"},
				{"ecs:UpdateCluster", prov, "provider: aws_ecs_cluster settings (Container Insights on a cluster created before it was the default)"},
				{"ecs:ListClusters", dest, "tool: leftover check lists clusters to find those tagged with the stack"},
				{"ecs:PutClusterCapacityProviders", tfDelete, "provider: aws_ecs_cluster_capacity_providers sets (and on delete clears) the default strategy"},
				{"ecs:CreateCapacityProvider", prov, "provider: aws_ecs_capacity_provider"},
				{"ecs:UpdateCapacityProvider", prov, "provider: aws_ecs_capacity_provider managed scaling settings"},
				{"ecs:DescribeCapacityProviders", tfRead | dest, "provider: aws_ecs_capacity_provider; tool: leftover check"},
				{"ecs:DeleteCapacityProvider", tfDelete, "provider: aws_ecs_capacity_provider"},
				{"ecs:RegisterTaskDefinition", prov | depl, "provider: aws_ecs_task_definition; tool: deploy registers a revision with the new image"},
				{"ecs:DescribeTaskDefinition", tfRead | depl | dest | stat | verbs, "provider: aws_ecs_task_definition; tool: deploy copies the current revision, destroy reads a revision's tags (its stack identity), status shows images; logs reads the awslogs group, rollback its target, run-task the revision it runs"},
				{"ecs:ListTaskDefinitions", dest | rbck, "tool: finds the revisions deploy registered, to deregister them; rollback finds the previous ACTIVE revision"},
				{"ecs:DeregisterTaskDefinition", tfDelete, "provider: aws_ecs_task_definition; tool: deregisters deploy's revisions on destroy"},
				{"ecs:CreateService", prov, "provider: aws_ecs_service"},
				{"ecs:UpdateService", prov | depl | dest | rbck, "provider: aws_ecs_service updates, and drains to 0 tasks before delete; tool: deploy ships the new revision, --rollback-on-failure; rollback puts the service on the earlier revision"},
				{"ecs:DescribeServices", tfRead | depl | dest | stat | verbs, "provider: aws_ecs_service; tool: deploy follows the deployment, destroy reads the revisions the service runs, status; logs, rollback, run-task find the service (rollback follows its deployment)"},
				{"ecs:DeleteService", tfDelete, "provider: aws_ecs_service"},
				{"ecs:ListTasks", depl | stat | rbck, "tool: deploy and status list the service's stopped tasks to say why they stopped, as does rollback"},
				{"ecs:DescribeTasks", depl | stat | rbck | runt, "tool: deploy and status read stoppedReason and container reasons; rollback too, and run-task follows its task to STOPPED"},
				{"ecs:RunTask", runt, "tool: run-task starts the one-off task (startedBy graviton-cd)"},
				{"ecs:StopTask", runt, "tool: run-task stops its task when --timeout passes"},
				{"ecs:TagResource", prov | depl, "ECS requires it to create a cluster, capacity provider, task definition or service with tags (provider default_tags; deploy carries the revision's tags over)"},
				{"ecs:UntagResource", prov, "provider: removes tags dropped from --tags"},
				{"ecs:ListTagsForResource", prov, "provider: reads an ECS resource's tags before it changes them (recorded when --tags changes)"},
			},
		},
		{
			// Describe* calls of Elastic Load Balancing take Resource "*" only.
			sid:       "ELBRead",
			resources: anyResource,
			actions: []action{
				{"elasticloadbalancing:DescribeLoadBalancers", tfRead | dest, "provider: aws_lb; tool: leftover check"},
				{"elasticloadbalancing:DescribeLoadBalancerAttributes", tfRead, "provider: aws_lb attributes (drop_invalid_header_fields, ...)"},
				{"elasticloadbalancing:DescribeTargetGroups", tfRead | dest, "provider: aws_lb_target_group; tool: leftover check"},
				{"elasticloadbalancing:DescribeTargetHealth", stat, "tool: status shows the health of the service's targets"},
				{"elasticloadbalancing:DescribeTargetGroupAttributes", tfRead, "provider: aws_lb_target_group attributes (deregistration delay)"},
				{"elasticloadbalancing:DescribeListeners", tfRead, "provider: aws_lb_listener"},
				{"elasticloadbalancing:DescribeListenerAttributes", tfRead, "provider: aws_lb_listener attributes"},
				{"elasticloadbalancing:DescribeTags", tfRead | dest, "provider: tags of the load balancer, target group and listener; tool: leftover check"},
				{"elasticloadbalancing:DescribeCapacityReservation", tfRead, "provider: aws_lb reads its minimum capacity"},
			},
		},
		{
			// Load balancer, target group and listener ARNs start with the
			// names the module gives them: <stack>-alb and <stack>-tg-<8 hex>
			// (config.Provision.Names; ? matches exactly one character).
			sid: "ELBStackResources",
			resources: func(s scope) []string {
				return []string{
					s.arn("elasticloadbalancing", "loadbalancer/app/"+s.stack+"-alb/*"),
					s.arn("elasticloadbalancing", "listener/app/"+s.stack+"-alb/*"),
					s.arn("elasticloadbalancing", "targetgroup/"+s.stack+"-tg-????????/*"),
				}
			},
			actions: []action{
				{"elasticloadbalancing:CreateLoadBalancer", prov, "provider: aws_lb"},
				{"elasticloadbalancing:ModifyLoadBalancerAttributes", prov, "provider: aws_lb attributes"},
				{"elasticloadbalancing:SetSecurityGroups", prov, "provider: aws_lb security group changes"},
				{"elasticloadbalancing:SetSubnets", prov, "provider: aws_lb subnet changes"},
				{"elasticloadbalancing:DeleteLoadBalancer", tfDelete, "provider: aws_lb"},
				{"elasticloadbalancing:CreateTargetGroup", prov, "provider: aws_lb_target_group"},
				{"elasticloadbalancing:ModifyTargetGroup", prov, "provider: aws_lb_target_group health check settings"},
				{"elasticloadbalancing:ModifyTargetGroupAttributes", prov, "provider: aws_lb_target_group deregistration delay"},
				{"elasticloadbalancing:DeleteTargetGroup", tfDelete, "provider: aws_lb_target_group"},
				{"elasticloadbalancing:CreateListener", prov, "provider: aws_lb_listener"},
				{"elasticloadbalancing:ModifyListener", prov, "provider: aws_lb_listener default action"},
				{"elasticloadbalancing:DeleteListener", tfDelete, "provider: aws_lb_listener"},
				{"elasticloadbalancing:AddTags", prov, "provider: tags at creation (default_tags) and updates"},
				{"elasticloadbalancing:RemoveTags", prov, "provider: removes tags dropped from --tags"},
			},
		},
		{
			// The module names its roles <stack>-<region>-ecs-instance,
			// <stack>-<region>-task-execution and <stack>-<region>-task, and the instance profile
			// <stack>-<region>-ecs-instance (IAM names are global to the
			// account): nothing else can be touched.
			sid: "IAMStackRoles",
			resources: func(s scope) []string {
				return []string{
					s.iam("role/" + s.iamPrefix() + "-ecs-instance"),
					s.iam("role/" + s.iamPrefix() + "-task-execution"),
					s.iam("role/" + s.iamPrefix() + "-task"),
					s.iam("instance-profile/" + s.iamPrefix() + "-ecs-instance"),
				}
			},
			actions: []action{
				{"iam:CreateRole", prov, "provider: aws_iam_role (instance role, task execution role)"},
				{"iam:GetRole", tfRead, "provider: aws_iam_role"},
				{"iam:TagRole", prov, "provider: tags the roles at creation (default_tags) and updates"},
				{"iam:UntagRole", prov, "provider: removes tags dropped from --tags"},
				{"iam:ListRolePolicies", tfRead, "provider: aws_iam_role reads inline policies"},
				{"iam:ListAttachedRolePolicies", tfRead, "provider: aws_iam_role and aws_iam_role_policy_attachment read managed policies"},
				{"iam:ListInstanceProfilesForRole", tfDelete, "provider: removes a role from its instance profiles before deleting it"},
				{"iam:DeleteRole", tfDelete, "provider: aws_iam_role"},
				{"iam:CreateInstanceProfile", prov, "provider: aws_iam_instance_profile"},
				{"iam:GetInstanceProfile", tfRead, "provider: aws_iam_instance_profile"},
				{"iam:TagInstanceProfile", prov, "provider: tags the instance profile (default_tags)"},
				{"iam:UntagInstanceProfile", prov, "provider: removes tags dropped from --tags"},
				{"iam:AddRoleToInstanceProfile", prov, "provider: aws_iam_instance_profile role"},
				{"iam:RemoveRoleFromInstanceProfile", tfDelete, "provider: aws_iam_instance_profile delete"},
				{"iam:DeleteInstanceProfile", tfDelete, "provider: aws_iam_instance_profile"},
				// Inline policies: the execution role's read access to
				// exactly the --secret ARNs, the task role's ECS Exec
				// channels. (A statement of their own, on those two roles,
				// would not fit the widest policy in an inline role policy.)
				{"iam:PutRolePolicy", prov, "provider: aws_iam_role_policy (--secret on the execution role, --enable-exec on the task role)"},
				{"iam:GetRolePolicy", tfRead, "provider: aws_iam_role_policy"},
				{"iam:DeleteRolePolicy", tfDelete, "provider: aws_iam_role_policy, and aws_iam_role removes inline policies before it deletes the role"},
			},
		},
		{
			// Only the three AWS managed policies the module attaches: the CI
			// role cannot attach AdministratorAccess to a role it creates.
			sid: "IAMAttachECSManagedPolicies",
			resources: func(s scope) []string {
				return []string{s.iam("role/" + s.iamPrefix() + "-ecs-instance"), s.iam("role/" + s.iamPrefix() + "-task-execution")}
			},
			condition: func(s scope) Condition {
				return Condition{"ArnEquals": {"iam:PolicyARN": {
					"arn:" + s.partition + ":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
					"arn:" + s.partition + ":iam::aws:policy/AmazonSSMManagedInstanceCore",
					"arn:" + s.partition + ":iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
				}}}
			},
			actions: []action{
				{"iam:AttachRolePolicy", prov, "provider: aws_iam_role_policy_attachment"},
				{"iam:DetachRolePolicy", tfDelete, "provider: aws_iam_role_policy_attachment delete"},
			},
		},
		{
			// The task role gets exactly the policies provision names with
			// --task-role-policy-arn, given here too (iam-policy
			// --task-role-policy-arn): without them no statement, so the CI
			// role cannot attach anything to the task role.
			sid:  "IAMAttachTaskRolePolicies",
			only: func(s scope) bool { return len(s.taskRolePolicies) > 0 },
			resources: func(s scope) []string {
				return []string{s.iam("role/" + s.iamPrefix() + "-task")}
			},
			condition: func(s scope) Condition {
				return Condition{"ArnEquals": {"iam:PolicyARN": slices.Clone(s.taskRolePolicies)}}
			},
			actions: []action{
				{"iam:AttachRolePolicy", prov, "provider: aws_iam_role_policy_attachment.task (--task-role-policy-arn)"},
				{"iam:DetachRolePolicy", tfDelete, "provider: aws_iam_role_policy_attachment.task delete"},
			},
		},
		{
			// PassRole for the instance role only, and only to EC2: IAM
			// checks it when the role is added to the instance profile, and
			// Auto Scaling when the group is created from a launch template
			// naming that profile.
			sid: "IAMPassInstanceRole",
			resources: func(s scope) []string {
				return []string{s.iam("role/" + s.iamPrefix() + "-ecs-instance")}
			},
			condition: func(scope) Condition {
				return Condition{"StringEquals": {"iam:PassedToService": {"ec2.amazonaws.com"}}}
			},
			actions: []action{
				{"iam:PassRole", prov, "AWS checks it for AddRoleToInstanceProfile (provider: aws_iam_instance_profile) and, by Auto Scaling, for the launch template's instance profile when the group is created"},
			},
		},
		{
			// PassRole for the task execution role and the task role only,
			// and only to ECS tasks: RegisterTaskDefinition checks it, from
			// the provider and from deploy.
			sid: "IAMPassTaskExecutionRole",
			resources: func(s scope) []string {
				return []string{s.iam("role/" + s.iamPrefix() + "-task-execution"), s.iam("role/" + s.iamPrefix() + "-task")}
			},
			condition: func(scope) Condition {
				return Condition{"StringEquals": {"iam:PassedToService": {"ecs-tasks.amazonaws.com"}}}
			},
			actions: []action{
				{"iam:PassRole", prov | depl | rbck | runt, "ECS RegisterTaskDefinition checks it for the execution role (provider: aws_ecs_task_definition; tool: deploy's new revision), UpdateService for rollback's revision and RunTask for run-task's task"},
			},
		},
		{
			// The first Auto Scaling group, ECS cluster or load balancer of an
			// account creates that service's service-linked role.
			sid: "IAMServiceLinkedRoles",
			resources: func(s scope) []string {
				return []string{s.iam("role/aws-service-role/*")}
			},
			condition: func(scope) Condition {
				return Condition{"StringEquals": {"iam:AWSServiceName": {"autoscaling.amazonaws.com", "ecs.amazonaws.com", "ecs.application-autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com"}}}
			},
			actions: []action{
				{"iam:CreateServiceLinkedRole", prov, "AWS creates AWSServiceRoleForAutoScaling, AWSServiceRoleForECS, AWSServiceRoleForApplicationAutoScaling_ECSService (--max-count) or AWSServiceRoleForElasticLoadBalancing on first use, as the caller"},
			},
		},
		{
			// Listing roles and instance profiles is account-wide: IAM offers
			// no narrower resource for List calls that take no name.
			sid:       "IAMLeftoverCheck",
			resources: anyResource,
			actions: []action{
				{"iam:ListRoles", dest, "tool: leftover check finds roles named after the stack"},
				{"iam:ListInstanceProfiles", dest, "tool: leftover check finds instance profiles named after the stack"},
			},
		},
		{
			sid: "IAMReadStackRoleTags",
			resources: func(s scope) []string {
				return []string{s.iam("role/" + s.stack + "-*")}
			},
			actions: []action{
				{"iam:ListRoleTags", prov | dest, "tool: provision's ownership check reads the stack-id tag of the roles it would create; the leftover check reads the stack tag of roles named <stack>-*"},
			},
		},
		{
			// Service auto scaling (--max-count). Scalable targets and
			// policies have generated ARNs and the Describe calls take no
			// resource: Resource "*". Target tracking's alarms are created
			// by Application Auto Scaling's service-linked role, and the
			// caller needs to be allowed them too (Application Auto Scaling
			// User Guide, "Identity-based policy examples").
			sid:       "ApplicationAutoScaling",
			resources: anyResource,
			actions: []action{
				{"application-autoscaling:RegisterScalableTarget", prov, "provider: aws_appautoscaling_target"},
				{"application-autoscaling:DescribeScalableTargets", tfRead, "provider: aws_appautoscaling_target"},
				{"application-autoscaling:DeregisterScalableTarget", tfDelete, "provider: aws_appautoscaling_target"},
				{"application-autoscaling:PutScalingPolicy", prov, "provider: aws_appautoscaling_policy (target tracking on CPU)"},
				{"application-autoscaling:DescribeScalingPolicies", tfRead, "provider: aws_appautoscaling_policy"},
				{"application-autoscaling:DeleteScalingPolicy", tfDelete, "provider: aws_appautoscaling_policy"},
				{"application-autoscaling:TagResource", prov, "provider: tags the scalable target (default_tags)"},
				{"application-autoscaling:UntagResource", prov, "provider: removes tags dropped from --tags"},
				{"application-autoscaling:ListTagsForResource", tfRead, "provider: reads the scalable target's tags"},
				{"cloudwatch:DescribeAlarms", tfRead, "AWS: Application Auto Scaling checks the caller for the target tracking alarms"},
				{"cloudwatch:PutMetricAlarm", prov, "AWS: Application Auto Scaling creates the target tracking alarms on the caller's authority"},
				{"cloudwatch:DeleteAlarms", tfDelete, "AWS: Application Auto Scaling deletes the target tracking alarms with the policy"},
			},
		},
		{
			// The alias record of --domain in --hosted-zone-id, given here
			// too (iam-policy --hosted-zone-id): only that zone.
			sid:  "Route53AliasRecord",
			only: func(s scope) bool { return s.hostedZone != "" },
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":route53:::hostedzone/" + s.hostedZone}
			},
			actions: []action{
				{"route53:ChangeResourceRecordSets", prov | dest, "provider: aws_route53_record creates, updates and deletes the alias record"},
				{"route53:ListResourceRecordSets", tfRead, "provider: aws_route53_record reads the record"},
				{"route53:GetHostedZone", tfRead, "provider: aws_route53_record reads the zone's name"},
			},
		},
		{
			// Route 53 change IDs are generated: GetChange takes change/*.
			sid:  "Route53Changes",
			only: func(s scope) bool { return s.hostedZone != "" },
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":route53:::change/*"}
			},
			actions: []action{
				{"route53:GetChange", prov | dest, "provider: aws_route53_record waits for the change to be INSYNC"},
			},
		},
		{
			// The one public parameter the module reads; its ARN has no
			// account (AWS owns it).
			sid: "SSMECSOptimizedAMI",
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":ssm:" + s.region + "::parameter/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"}
			},
			actions: []action{
				{"ssm:GetParameter", tfRead, "provider: data aws_ssm_parameter resolves the ECS-optimized AL2023 arm64 AMI"},
			},
		},
		{
			sid: "LogsStackLogGroup",
			resources: func(s scope) []string {
				return []string{
					s.arn("logs", "log-group:/ecs/"+s.stack),
					s.arn("logs", "log-group:/ecs/"+s.stack+":*"),
				}
			},
			actions: []action{
				{"logs:CreateLogGroup", prov, "provider: aws_cloudwatch_log_group"},
				{"logs:PutRetentionPolicy", prov, "provider: aws_cloudwatch_log_group retention_in_days"},
				{"logs:DeleteLogGroup", tfDelete, "provider: aws_cloudwatch_log_group"},
				{"logs:TagResource", prov, "provider: tags the log group at creation (default_tags) and updates"},
				{"logs:UntagResource", prov, "provider: removes tags dropped from --tags"},
				{"logs:ListTagsForResource", tfRead, "provider: reads the log group's tags"},
			},
		},
		{
			// DescribeLogGroups authorizes against every log group of the
			// region: it has no single-group form.
			sid: "LogsDescribe",
			resources: func(s scope) []string {
				return []string{s.arn("logs", "log-group:*")}
			},
			actions: []action{
				{"logs:DescribeLogGroups", tfRead | dest, "provider: aws_cloudwatch_log_group; tool: leftover check"},
			},
		},
		{
			// The failed task's awslogs stream. deploy reads whichever log
			// group the task definition names; for a provisioned stack that
			// is /ecs/<stack>.
			sid: "LogsReadTaskLogs",
			resources: func(s scope) []string {
				if s.stack == "*" {
					return []string{s.arn("logs", "log-group:*:log-stream:*")}
				}
				return []string{s.arn("logs", "log-group:/ecs/"+s.stack+":log-stream:*")}
			},
			actions: []action{
				{"logs:GetLogEvents", depl | rbck, "tool: deploy shows the last lines of a failed task's log, as does rollback"},
			},
		},
		{
			// FilterLogEvents authorizes on the log group: logs reads the
			// stack's (any the task definition names, without a stack), and
			// run-task its task's lines.
			sid: "LogsFilterServiceLogs",
			resources: func(s scope) []string {
				if s.stack == "*" {
					return []string{s.arn("logs", "log-group:*")}
				}
				return []string{s.arn("logs", "log-group:/ecs/"+s.stack), s.arn("logs", "log-group:/ecs/"+s.stack+":*")}
			},
			actions: []action{
				{"logs:FilterLogEvents", logv | runt, "tool: logs reads the service's log group; run-task prints its task's last lines"},
			},
		},
		{
			// GetAuthorizationToken takes Resource "*" only, and the image
			// can be in any registry the user names; ECR's repository
			// policies still decide who may pull.
			sid:       "ECRImageArchCheck",
			resources: anyResource,
			actions: []action{
				{"ecr:GetAuthorizationToken", depl, "tool: deploy --check-image-arch logs in to a private ECR registry"},
				{"ecr:BatchGetImage", depl, "tool: deploy --check-image-arch reads the image's manifest or index"},
				{"ecr:GetDownloadUrlForLayer", depl, "tool: deploy --check-image-arch reads a single-platform image's config blob"},
			},
		},
		{
			// GetResources has no resource-level permissions.
			sid:       "TaggingLeftoverCheck",
			resources: anyResource,
			actions: []action{
				{"tag:GetResources", dest, "tool: leftover check finds anything still tagged graviton-cd:stack=<stack>"},
			},
		},
		{
			sid:        "TerraformStateBucket",
			needsState: true,
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":s3:::" + s.bucket}
			},
			actions: []action{
				{"s3:ListBucket", tfRead | depl | stat | smok | verbs, "terraform S3 backend: lists the state's key (and workspaces) at init; tool: checks that the state bucket exists (HeadBucket)"},
			},
		},
		{
			// Only for the default bucket, which provision creates and sets
			// up on first use; a bucket given with --state-bucket is the
			// user's to set up.
			sid:          "StateBucketBootstrap",
			needsState:   true,
			defaultState: true,
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":s3:::" + s.bucket}
			},
			actions: []action{
				{"s3:CreateBucket", prov, "tool: creates the default state bucket graviton-cd-state-<account>-<region> on first use"},
				{"s3:GetBucketVersioning", prov, "tool: versioning on means the state bucket's set-up is complete"},
				{"s3:PutBucketVersioning", prov, "tool: turns on versioning of the state bucket"},
				{"s3:PutEncryptionConfiguration", prov, "tool: default encryption (SSE-S3) of the state bucket"},
				{"s3:PutBucketPublicAccessBlock", prov, "tool: blocks all public access to the state bucket"},
				{"s3:PutBucketPolicy", prov, "tool: the state bucket's policy denies requests without TLS"},
				{"s3:PutLifecycleConfiguration", prov, "tool: old state versions expire after 90 days"},
			},
		},
		{
			sid:        "TerraformStateObjects",
			needsState: true,
			resources: func(s scope) []string {
				return []string{
					"arn:" + s.partition + ":s3:::" + s.bucket + "/" + s.stateKey,
					"arn:" + s.partition + ":s3:::" + s.bucket + "/" + s.stateKey + ".tflock",
					"arn:" + s.partition + ":s3:::" + s.bucket + "/" + recordKey(s.stateKey),
				}
			},
			actions: []action{
				{"s3:GetObject", tfRead | depl | stat | smok | verbs, "terraform S3 backend: reads the state and checks the .tflock lockfile; tool: reads the state's outputs and the stack record (stack.json) to find a stack by --name"},
				{"s3:PutObject", tfRead, "terraform S3 backend: writes the state, and creates the .tflock lockfile (use_lockfile); tool: writes the stack record before the first apply"},
			},
		},
		{
			// Terraform never deletes the state object itself: only the lock.
			sid:        "TerraformStateLock",
			needsState: true,
			resources: func(s scope) []string {
				return []string{"arn:" + s.partition + ":s3:::" + s.bucket + "/" + s.stateKey + ".tflock"}
			},
			actions: []action{
				{"s3:DeleteObject", tfRead, "terraform S3 backend: removes the .tflock lockfile to release the lock"},
			},
		},
	}
}

// recordKey is the object key of the stack record beside the state: the
// stack lifecycle's stack.RecordKey, repeated here because this package
// describes the lifecycle without depending on it (a test checks they agree).
func recordKey(stateKey string) string {
	if path.Base(stateKey) == "terraform.tfstate" {
		return path.Join(path.Dir(stateKey), "stack.json")
	}
	return stateKey + ".stack.json"
}
