package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// ResourceNames are the names a stack's resources get in AWS. They derive
// from the stack name (and, where AWS scopes a name to the whole account,
// the region); NamedResources in hclgen and the IAM policy use the same.
type ResourceNames struct {
	Cluster           string
	Service           string
	TaskFamily        string
	LogGroup          string
	LaunchTemplate    string
	AutoScalingGroup  string
	CapacityProvider  string
	LoadBalancer      string
	TargetGroup       string
	InstanceRole      string
	TaskExecutionRole string
	TaskRole          string // only when Provision.TaskRole()
	InstanceProfile   string
}

// Names derives every resource name of the stack. IAM names are global to
// the account, so they carry the region: one stack name works in two regions.
// The target group's name carries a hash of what forces its replacement, so
// a replacement can be created before the old one is destroyed.
func (p Provision) Names() ResourceNames {
	iam := p.Name + "-" + p.Region
	return ResourceNames{
		Cluster:           p.Name,
		Service:           p.Name,
		TaskFamily:        p.Name,
		LogGroup:          "/ecs/" + p.Name,
		LaunchTemplate:    p.Name,
		AutoScalingGroup:  p.Name,
		CapacityProvider:  p.Name,
		LoadBalancer:      p.Name + "-alb",
		TargetGroup:       p.Name + "-tg-" + p.targetGroupSuffix(),
		InstanceRole:      iam + "-ecs-instance",
		TaskExecutionRole: iam + "-task-execution",
		TaskRole:          iam + "-task",
		InstanceProfile:   iam + "-ecs-instance",
	}
}

// TargetType is the load balancer target type of the stack's tasks: ip for
// awsvpc (a task ENI), instance for bridge (a host port).
func (p Provision) TargetType() string {
	if p.NetworkMode == NetworkModeBridge {
		return "instance"
	}
	return "ip"
}

// targetGroupSuffix is eight hex digits of a hash over the target group's
// settings that force its replacement (port, protocol, target type, VPC):
// a changed port gives a new name, so the new group can exist beside the old
// one while the listener and the service move over.
func (p Provision) targetGroupSuffix() string {
	vpc := "new:" + p.VPCCIDR
	if p.VPCID != "" {
		vpc = "existing:" + p.VPCID
	}
	sum := sha256.Sum256([]byte("port=" + strconv.Itoa(p.ContainerPort) + ";protocol=HTTP;target=" + p.TargetType() + ";vpc=" + vpc))
	return hex.EncodeToString(sum[:4])
}

// nameLimit is one derived name and the most characters its service allows.
type nameLimit struct {
	what  string
	name  string
	limit int
}

// nameLimits pairs every derived name with its service's limit (from each
// service's API reference: CreateLoadBalancer and CreateTargetGroup 32,
// IAM CreateRole 64 and CreateInstanceProfile 128, CreateAutoScalingGroup,
// CreateCluster, CreateService, RegisterTaskDefinition and
// CreateCapacityProvider 255, CreateLaunchTemplate 128, CreateLogGroup 512).
func (n ResourceNames) nameLimits() []nameLimit {
	return []nameLimit{
		{"load balancer", n.LoadBalancer, 32},
		{"target group", n.TargetGroup, 32},
		{"IAM role", n.InstanceRole, 64},
		{"IAM role", n.TaskExecutionRole, 64},
		{"IAM role", n.TaskRole, 64},
		{"IAM instance profile", n.InstanceProfile, 128},
		{"launch template", n.LaunchTemplate, 128},
		{"Auto Scaling group", n.AutoScalingGroup, 255},
		{"ECS cluster", n.Cluster, 255},
		{"ECS service", n.Service, 255},
		{"task definition family", n.TaskFamily, 255},
		{"capacity provider", n.CapacityProvider, 255},
		{"log group", n.LogGroup, 512},
	}
}

// checkNames holds every derived name to its service's limit, so that a long
// name or region fails here and not halfway through an apply.
func (p *Provision) checkNames() error {
	var first *nameLimit
	over := 0
	for _, l := range p.Names().nameLimits() {
		if len(l.name) > l.limit {
			if first == nil {
				first = &l
			}
			over = max(over, len(l.name)-l.limit)
		}
	}
	if first == nil {
		return nil
	}
	advice := fmt.Sprintf("shorten --name by %d characters", over)
	if len(p.Name)-over < minStackName {
		advice = "this region's name is too long for the stack's IAM names; report it to graviton-cd"
	}
	return Usagef("name", "the %s name %q would be %d characters and AWS allows %d: %s", first.what, first.name, len(first.name), first.limit, advice)
}
