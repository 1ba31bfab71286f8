package hclgen

import "github.com/graviton-cd/graviton-cd/internal/config"

// Kinds of the resources the module creates under a fixed name. A name that
// already exists in AWS outside the stack's state is a collision (or, when it
// carries the stack's own identity, an orphan to import).
const (
	KindECSCluster          = "ecs-cluster"
	KindIAMRole             = "iam-role"
	KindIAMInstanceProfile  = "iam-instance-profile"
	KindLoadBalancer        = "load-balancer"
	KindTargetGroup         = "target-group"
	KindLogGroup            = "log-group"
	KindLaunchTemplate      = "launch-template"
	KindAutoScalingGroup    = "autoscaling-group"
	KindECSCapacityProvider = "capacity-provider"
)

// NamedResource is one resource of the rendered module that has a fixed,
// user-visible name in AWS.
type NamedResource struct {
	Address string // Terraform address in the root module, e.g. aws_ecs_cluster.this
	Kind    string // one of the Kind constants
	Name    string // the name the module gives it in AWS
}

// NamedResources lists, in module order, every resource RenderRootModule
// creates under a fixed name. A test keeps the list in step with the module.
func NamedResources(p config.Provision) []NamedResource {
	r := renderer{p: p}
	return []NamedResource{
		{"aws_iam_role.instance", KindIAMRole, r.named("ecs-instance")},
		{"aws_iam_role.task_execution", KindIAMRole, r.named("task-execution")},
		{"aws_iam_instance_profile.instance", KindIAMInstanceProfile, r.named("ecs-instance")},
		{"aws_cloudwatch_log_group.app", KindLogGroup, "/ecs/" + p.Name},
		{"aws_ecs_cluster.this", KindECSCluster, p.Name},
		{"aws_launch_template.this", KindLaunchTemplate, p.Name},
		{"aws_autoscaling_group.this", KindAutoScalingGroup, p.Name},
		{"aws_ecs_capacity_provider.this", KindECSCapacityProvider, p.Name},
		{"aws_lb.this", KindLoadBalancer, r.named("alb")},
		{"aws_lb_target_group.app", KindTargetGroup, r.named("tg")},
	}
}
