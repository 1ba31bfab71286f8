// Package preflight checks, before provision applies anything, that what the
// user points the stack at in AWS can work: today, that an existing VPC's
// subnets route where the load balancer and the instances need.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// EC2API is the part of the EC2 client the subnet check uses.
type EC2API interface {
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error)
}

var _ EC2API = (*ec2.Client)(nil)

// SubnetProblem is one subnet that cannot serve its role, and why.
type SubnetProblem struct {
	SubnetID string
	Role     string // "load balancer" or "instances and tasks"
	Reason   string
}

// SubnetError lists every subnet that cannot serve its role. It is bad input
// (exit 2): errors.As finds a *config.UsageError in it.
type SubnetError struct {
	Problems []SubnetProblem
}

func (e *SubnetError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = fmt.Sprintf("%s (%s): %s", p.SubnetID, p.Role, p.Reason)
	}
	return fmt.Sprintf("check subnets: %d problem(s): %s", len(e.Problems), strings.Join(lines, "; "))
}

// Unwrap makes the error a usage error for callers that map those to exit 2.
func (e *SubnetError) Unwrap() error { return &config.UsageError{Msg: e.Error()} }

const (
	roleALB       = "load balancer"
	roleInstances = "instances and tasks"
)

// CheckSubnets checks the subnets of an existing VPC before anything is
// created. The load balancer's subnets need a default route (0.0.0.0/0) to
// an internet gateway, in two or more availability zones: the load balancer
// is internet-facing. The instances' subnets need a way out to register with
// ECS and pull images: an internet gateway with public IPv4 addresses
// assigned at launch, or a NAT gateway (or another target: a NAT instance,
// a transit gateway). A subnet without an explicit route table association
// uses its VPC's main route table, as EC2 does. Subnets reached only through
// VPC endpoints are refused: this check cannot tell whether all the
// endpoints ECS needs exist. Every problem is reported at once, each naming
// the subnet and what to change; AWS errors other than unknown subnets are
// returned as they are (not bad input).
func CheckSubnets(ctx context.Context, api EC2API, albSubnets, instanceSubnets []string) error {
	all := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(albSubnets), instanceSubnets...))))
	subnets, missing, err := describeSubnets(ctx, api, all)
	if err != nil {
		return err
	}
	var problems []SubnetProblem
	for _, id := range missing {
		problems = append(problems, SubnetProblem{id, roleOf(id, albSubnets), "no such subnet in this account and region: check the ID and --region"})
	}
	vpcs := map[string]bool{}
	for _, s := range subnets {
		vpcs[aws.ToString(s.VpcId)] = true
	}
	if len(vpcs) > 1 {
		return &SubnetError{Problems: append(problems, SubnetProblem{strings.Join(all, ","), "all", fmt.Sprintf("the subnets are in %d VPCs (%s): give subnets of one VPC, the one --vpc-id names", len(vpcs), strings.Join(slices.Sorted(maps.Keys(vpcs)), ", "))})}
	}
	routes, err := describeRouteTables(ctx, api, slices.Sorted(maps.Keys(vpcs)))
	if err != nil {
		return err
	}

	azs := map[string]bool{}
	for _, id := range albSubnets {
		s, ok := subnets[id]
		if !ok {
			continue
		}
		azs[aws.ToString(s.AvailabilityZone)] = true
		rt, where := routes.tableOf(s)
		switch target := defaultRoute(rt); {
		case rt == nil:
			problems = append(problems, SubnetProblem{id, roleALB, "its VPC has no route table for it (no main route table found)"})
		case !strings.HasPrefix(target, "igw-"):
			problems = append(problems, SubnetProblem{id, roleALB, fmt.Sprintf("%s (%s) %s, not to an internet gateway, so an internet-facing load balancer there is unreachable: give public subnets (0.0.0.0/0 to an igw-) as --alb-subnet-ids",
				aws.ToString(rt.RouteTableId), where, describeTarget(target))})
		}
	}
	// Only when every subnet was found: a missing one is reported already.
	if len(azs) == 1 && !slices.ContainsFunc(albSubnets, func(id string) bool { return slices.Contains(missing, id) }) {
		for az := range azs {
			problems = append(problems, SubnetProblem{strings.Join(albSubnets, ","), roleALB, fmt.Sprintf("all in %s: an Application Load Balancer needs subnets in two or more availability zones", az)})
		}
	}

	for _, id := range instanceSubnets {
		s, ok := subnets[id]
		if !ok {
			continue
		}
		rt, where := routes.tableOf(s)
		target := defaultRoute(rt)
		switch {
		case rt == nil:
			problems = append(problems, SubnetProblem{id, roleInstances, "its VPC has no route table for it (no main route table found)"})
		case target == "":
			problems = append(problems, SubnetProblem{id, roleInstances, fmt.Sprintf("%s (%s) has no route 0.0.0.0/0, so instances cannot reach ECS to register or pull images: route 0.0.0.0/0 to a NAT gateway, or give other --subnet-ids",
				aws.ToString(rt.RouteTableId), where)})
		case strings.HasPrefix(target, "igw-") && !aws.ToBool(s.MapPublicIpOnLaunch):
			problems = append(problems, SubnetProblem{id, roleInstances, fmt.Sprintf("%s (%s) sends 0.0.0.0/0 to internet gateway %s but the subnet assigns no public IPv4 address at launch, so instances cannot reach ECS to register: turn on auto-assign public IPv4 for the subnet, or give private subnets routed through a NAT gateway as --subnet-ids",
				aws.ToString(rt.RouteTableId), where, target)})
		}
	}
	if len(problems) > 0 {
		return &SubnetError{Problems: problems}
	}
	return nil
}

func roleOf(id string, albSubnets []string) string {
	if slices.Contains(albSubnets, id) {
		return roleALB
	}
	return roleInstances
}

// describeSubnets returns the subnets that exist and the IDs that do not.
// EC2 fails the whole call on one unknown ID, so then each is asked alone.
func describeSubnets(ctx context.Context, api EC2API, ids []string) (map[string]types.Subnet, []string, error) {
	found := map[string]types.Subnet{}
	list := func(ids []string) error {
		in := &ec2.DescribeSubnetsInput{SubnetIds: ids}
		for {
			out, err := api.DescribeSubnets(ctx, in)
			if err != nil {
				return err
			}
			for _, s := range out.Subnets {
				found[aws.ToString(s.SubnetId)] = s
			}
			if aws.ToString(out.NextToken) == "" {
				return nil
			}
			in.NextToken = out.NextToken
		}
	}
	err := list(ids)
	if err == nil {
		return found, nil, nil
	}
	if !isNotFound(err) {
		return nil, nil, fmt.Errorf("describe subnets %s: %w (the role needs ec2:DescribeSubnets)", strings.Join(ids, ","), err)
	}
	var missing []string
	for _, id := range ids {
		if err := list([]string{id}); err != nil {
			if !isNotFound(err) {
				return nil, nil, fmt.Errorf("describe subnet %s: %w", id, err)
			}
			missing = append(missing, id)
		}
	}
	return found, missing, nil
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "InvalidSubnetID.NotFound" || ae.ErrorCode() == "InvalidSubnetID.Malformed")
}

// routeTables indexes a VPC's route tables by explicit subnet association and
// by VPC for the main route table.
type routeTables struct {
	bySubnet map[string]*types.RouteTable
	mainOf   map[string]*types.RouteTable
}

func describeRouteTables(ctx context.Context, api EC2API, vpcs []string) (routeTables, error) {
	rts := routeTables{bySubnet: map[string]*types.RouteTable{}, mainOf: map[string]*types.RouteTable{}}
	if len(vpcs) == 0 {
		return rts, nil
	}
	in := &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: vpcs}}}
	for {
		out, err := api.DescribeRouteTables(ctx, in)
		if err != nil {
			return rts, fmt.Errorf("describe route tables of %s: %w (the role needs ec2:DescribeRouteTables)", strings.Join(vpcs, ","), err)
		}
		for i := range out.RouteTables {
			rt := &out.RouteTables[i]
			for _, a := range rt.Associations {
				switch {
				case aws.ToBool(a.Main):
					rts.mainOf[aws.ToString(rt.VpcId)] = rt
				case aws.ToString(a.SubnetId) != "":
					rts.bySubnet[aws.ToString(a.SubnetId)] = rt
				}
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return rts, nil
		}
		in.NextToken = out.NextToken
	}
}

// tableOf returns the route table EC2 applies to s, and which kind it is.
func (r routeTables) tableOf(s types.Subnet) (*types.RouteTable, string) {
	if rt, ok := r.bySubnet[aws.ToString(s.SubnetId)]; ok {
		return rt, "associated with the subnet"
	}
	return r.mainOf[aws.ToString(s.VpcId)], "the VPC's main route table, as the subnet has none of its own"
}

// defaultRoute returns the target of rt's active 0.0.0.0/0 route, or "".
func defaultRoute(rt *types.RouteTable) string {
	if rt == nil {
		return ""
	}
	for _, r := range rt.Routes {
		if aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" || r.State == types.RouteStateBlackhole {
			continue
		}
		targets := []*string{r.GatewayId, r.NatGatewayId, r.TransitGatewayId, r.NetworkInterfaceId, r.InstanceId, r.VpcPeeringConnectionId, r.LocalGatewayId, r.CarrierGatewayId, r.CoreNetworkArn}
		for _, t := range targets {
			if aws.ToString(t) != "" {
				return aws.ToString(t)
			}
		}
	}
	return ""
}

// describeTarget says where a default route goes, for messages.
func describeTarget(target string) string {
	if target == "" {
		return "has no route 0.0.0.0/0"
	}
	return "sends 0.0.0.0/0 to " + target
}
