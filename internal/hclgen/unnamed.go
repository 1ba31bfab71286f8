package hclgen

import (
	"fmt"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// UnnamedResource is one resource of the rendered module that has no fixed
// name in AWS, with what recognises it there as this stack's once its
// graviton-cd:stack-id tag is checked. Exactly one of the three ways is set:
//
//   - NameTag: the resource's Name tag (VPC, internet gateway, subnets, route
//     tables, Elastic IP, NAT gateway). The module sets it on the resource
//     itself, so a user's --tags Name=… cannot change it.
//   - Subnet and RouteTable: a route table association, which carries no
//     tags: it is the association between these two resources of the module
//     (addresses), once both are known to be this stack's.
//   - LoadBalancer and Port: a listener, the one on this port of this load
//     balancer of the module (address).
//
// Left out on purpose, because a rerun converges without importing them:
// aws_ecs_task_definition (a new revision is harmless; deploy registers its
// own), aws_iam_role_policy_attachment (attaching an attached policy
// succeeds) and aws_ecs_cluster_capacity_providers (it sets the cluster's
// list, whatever it held).
type UnnamedResource struct {
	Address string // e.g. aws_subnet.public[0]
	Type    string // e.g. aws_subnet
	NameTag string

	Subnet, RouteTable string

	LoadBalancer string
	Port         int
}

// UnnamedResources lists, in module order, every resource RenderRootModule
// creates without a fixed name and that a killed apply can leave in AWS
// outside the state (see UnnamedResource for what is left out and why). A
// test keeps the list in step with the module.
func UnnamedResources(p config.Provision) []UnnamedResource {
	var rs []UnnamedResource
	if p.VPCID == "" {
		rs = append(rs,
			UnnamedResource{Address: "aws_vpc.this", Type: "aws_vpc", NameTag: p.Name},
			UnnamedResource{Address: "aws_internet_gateway.this", Type: "aws_internet_gateway", NameTag: p.Name},
		)
		rs = append(rs, tier(p.Name, "public")...)
		if p.PrivateSubnets {
			rs = append(rs,
				UnnamedResource{Address: "aws_eip.nat", Type: "aws_eip", NameTag: p.Name + "-nat"},
				UnnamedResource{Address: "aws_nat_gateway.this", Type: "aws_nat_gateway", NameTag: p.Name},
			)
			rs = append(rs, tier(p.Name, "private")...)
		}
	}
	return append(rs, UnnamedResource{Address: "aws_lb_listener.http", Type: "aws_lb_listener", LoadBalancer: "aws_lb.this", Port: 80})
}

// tier is the two subnets of one tier, its route table and their
// associations, as network renders them.
func tier(stack, name string) []UnnamedResource {
	var rs []UnnamedResource
	for i := range 2 {
		rs = append(rs, UnnamedResource{
			Address: fmt.Sprintf("aws_subnet.%s[%d]", name, i), Type: "aws_subnet",
			NameTag: fmt.Sprintf("%s-%s-%d", stack, name, i),
		})
	}
	rs = append(rs, UnnamedResource{Address: "aws_route_table." + name, Type: "aws_route_table", NameTag: stack + "-" + name})
	for i := range 2 {
		rs = append(rs, UnnamedResource{
			Address: fmt.Sprintf("aws_route_table_association.%s[%d]", name, i), Type: "aws_route_table_association",
			Subnet: fmt.Sprintf("aws_subnet.%s[%d]", name, i), RouteTable: "aws_route_table." + name,
		})
	}
	return rs
}
