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
	KindSecurityGroup       = "security-group" // unique within its VPC
	KindECSService          = "ecs-service"    // unique within its cluster
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
	n := p.Names()
	groups := []NamedResource{
		{"aws_security_group.alb", KindSecurityGroup, p.Name + "-alb"},
		{"aws_security_group.instances", KindSecurityGroup, p.Name + "-instances"},
	}
	if p.NetworkMode != config.NetworkModeBridge {
		groups = append(groups, NamedResource{"aws_security_group.tasks", KindSecurityGroup, p.Name + "-tasks"})
	}
	roles := []NamedResource{
		{"aws_iam_role.instance", KindIAMRole, n.InstanceRole},
		{"aws_iam_role.task_execution", KindIAMRole, n.TaskExecutionRole},
	}
	if p.TaskRole() {
		roles = append(roles, NamedResource{"aws_iam_role.task", KindIAMRole, n.TaskRole})
	}
	groups = append(groups, roles...)
	return append(groups, []NamedResource{
		{"aws_iam_instance_profile.instance", KindIAMInstanceProfile, n.InstanceProfile},
		{"aws_cloudwatch_log_group.app", KindLogGroup, n.LogGroup},
		{"aws_ecs_cluster.this", KindECSCluster, n.Cluster},
		{"aws_launch_template.this", KindLaunchTemplate, n.LaunchTemplate},
		{"aws_autoscaling_group.this", KindAutoScalingGroup, n.AutoScalingGroup},
		{"aws_ecs_capacity_provider.this", KindECSCapacityProvider, n.CapacityProvider},
		{"aws_lb.this", KindLoadBalancer, n.LoadBalancer},
		{"aws_lb_target_group.app", KindTargetGroup, n.TargetGroup},
		{"aws_ecs_service.app", KindECSService, n.Service},
	}...)
}
