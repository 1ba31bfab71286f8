package preflight

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// fakeEC2 answers DescribeSubnets and DescribeRouteTables from fixed data as
// EC2 does: an unknown subnet ID fails the whole call; route tables are
// filtered by vpc-id and served a page at a time.
type fakeEC2 struct {
	subnets     []types.Subnet
	routeTables []types.RouteTable
	err         error // returned by every call when set
	calls       []string
}

func (f *fakeEC2) DescribeSubnets(_ context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	f.calls = append(f.calls, "DescribeSubnets")
	if f.err != nil {
		return nil, f.err
	}
	out := &ec2.DescribeSubnetsOutput{}
	for _, id := range in.SubnetIds {
		i := slices.IndexFunc(f.subnets, func(s types.Subnet) bool { return aws.ToString(s.SubnetId) == id })
		if i < 0 {
			return nil, &smithy.GenericAPIError{Code: "InvalidSubnetID.NotFound", Message: "The subnet ID '" + id + "' does not exist"}
		}
		out.Subnets = append(out.Subnets, f.subnets[i])
	}
	return out, nil
}

func (f *fakeEC2) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	f.calls = append(f.calls, "DescribeRouteTables")
	if f.err != nil {
		return nil, f.err
	}
	var vpcs []string
	for _, flt := range in.Filters {
		if aws.ToString(flt.Name) == "vpc-id" {
			vpcs = flt.Values
		}
	}
	var match []types.RouteTable
	for _, rt := range f.routeTables {
		if slices.Contains(vpcs, aws.ToString(rt.VpcId)) {
			match = append(match, rt)
		}
	}
	// One table per page, to exercise NextToken.
	start := 0
	if in.NextToken != nil {
		start = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &ec2.DescribeRouteTablesOutput{}
	if start < len(match) {
		out.RouteTables = match[start : start+1]
		if start+1 < len(match) {
			out.NextToken = aws.String(string(rune('0' + start + 1)))
		}
	}
	return out, nil
}

func subnet(id, vpc, az string, publicIP bool) types.Subnet {
	return types.Subnet{SubnetId: aws.String(id), VpcId: aws.String(vpc), AvailabilityZone: aws.String(az), MapPublicIpOnLaunch: aws.Bool(publicIP)}
}

// table is a route table with a default route to target (none when "") and
// explicit associations; main marks the VPC's main route table.
func table(id, vpc, target string, main bool, subnets ...string) types.RouteTable {
	rt := types.RouteTable{RouteTableId: aws.String(id), VpcId: aws.String(vpc)}
	rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: aws.String("local"), State: types.RouteStateActive})
	switch {
	case strings.HasPrefix(target, "igw-"):
		rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String(target), State: types.RouteStateActive})
	case strings.HasPrefix(target, "nat-"):
		rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(target), State: types.RouteStateActive})
	case strings.HasPrefix(target, "tgw-"):
		rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), TransitGatewayId: aws.String(target), State: types.RouteStateActive})
	case strings.HasPrefix(target, "blackhole:"):
		rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String(strings.TrimPrefix(target, "blackhole:")), State: types.RouteStateBlackhole})
	}
	if main {
		rt.Associations = append(rt.Associations, types.RouteTableAssociation{Main: aws.Bool(true)})
	}
	for _, s := range subnets {
		rt.Associations = append(rt.Associations, types.RouteTableAssociation{Main: aws.Bool(false), SubnetId: aws.String(s)})
	}
	return rt
}

const vpc = "vpc-0123456789abcdef0"

// world is a VPC with public subnets pub-a/pub-b (igw, public IPs), private
// subnets priv-a/priv-b (NAT), public-without-IP subnet noip-a, isolated
// subnet iso-a (explicit table without a default route) and main-table
// subnet main-a (no association: the main table, routed to the igw).
func world() *fakeEC2 {
	return &fakeEC2{
		subnets: []types.Subnet{
			subnet("subnet-pub-a", vpc, "us-east-1a", true),
			subnet("subnet-pub-b", vpc, "us-east-1b", true),
			subnet("subnet-priv-a", vpc, "us-east-1a", false),
			subnet("subnet-priv-b", vpc, "us-east-1b", false),
			subnet("subnet-noip-a", vpc, "us-east-1a", false),
			subnet("subnet-iso-a", vpc, "us-east-1a", false),
			subnet("subnet-main-a", vpc, "us-east-1a", true),
			subnet("subnet-main-b", vpc, "us-east-1b", false),
			subnet("subnet-tgw-a", vpc, "us-east-1a", false),
			subnet("subnet-hole-a", vpc, "us-east-1a", false),
			subnet("subnet-other-vpc", "vpc-0fedcba9876543210", "us-east-1a", true),
		},
		routeTables: []types.RouteTable{
			table("rtb-main", vpc, "igw-1", true),
			table("rtb-public", vpc, "igw-1", false, "subnet-pub-a", "subnet-pub-b", "subnet-noip-a"),
			table("rtb-private", vpc, "nat-1", false, "subnet-priv-a", "subnet-priv-b"),
			table("rtb-isolated", vpc, "", false, "subnet-iso-a"),
			table("rtb-tgw", vpc, "tgw-1", false, "subnet-tgw-a"),
			table("rtb-hole", vpc, "blackhole:nat-dead", false, "subnet-hole-a"),
		},
	}
}

func TestCheckSubnetsAccepts(t *testing.T) {
	cases := []struct {
		name           string
		alb, instances []string
	}{
		{"public ALB, private instances behind NAT", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-priv-a", "subnet-priv-b"}},
		{"all public with public IPs", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-pub-a", "subnet-pub-b"}},
		{"main route table to the igw, public IPs", []string{"subnet-pub-a", "subnet-main-b"}, []string{"subnet-main-a"}},
		{"instances behind a transit gateway", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-tgw-a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := CheckSubnets(t.Context(), world(), tc.alb, tc.instances); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCheckSubnetsRefuses(t *testing.T) {
	cases := []struct {
		name           string
		alb, instances []string
		want           []string // one substring per expected problem
	}{
		{"private ALB subnets", []string{"subnet-priv-a", "subnet-priv-b"}, []string{"subnet-priv-a"}, []string{
			"subnet-priv-a (load balancer): rtb-private (associated with the subnet) sends 0.0.0.0/0 to nat-1, not to an internet gateway",
			"subnet-priv-b (load balancer): rtb-private",
		}},
		{"instances in a public subnet without public IPs", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-noip-a"}, []string{
			"subnet-noip-a (instances and tasks): rtb-public (associated with the subnet) sends 0.0.0.0/0 to internet gateway igw-1 but the subnet assigns no public IPv4 address at launch",
		}},
		{"main route table fallback without public IPs", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-main-b"}, []string{
			"subnet-main-b (instances and tasks): rtb-main (the VPC's main route table, as the subnet has none of its own) sends 0.0.0.0/0 to internet gateway igw-1",
		}},
		{"isolated instances", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-iso-a"}, []string{
			"subnet-iso-a (instances and tasks): rtb-isolated (associated with the subnet) has no route 0.0.0.0/0",
		}},
		{"blackhole route is no route", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-hole-a"}, []string{
			"subnet-hole-a (instances and tasks): rtb-hole (associated with the subnet) has no route 0.0.0.0/0",
		}},
		{"ALB in one AZ", []string{"subnet-pub-a", "subnet-main-a"}, []string{"subnet-priv-a"}, []string{
			"subnet-pub-a,subnet-main-a (load balancer): all in us-east-1a: an Application Load Balancer needs subnets in two or more availability zones",
		}},
		{"unknown subnet", []string{"subnet-pub-a", "subnet-gone"}, []string{"subnet-priv-a"}, []string{
			"subnet-gone (load balancer): no such subnet in this account and region",
		}},
		{"two VPCs", []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-other-vpc"}, []string{
			"the subnets are in 2 VPCs (vpc-0123456789abcdef0, vpc-0fedcba9876543210)",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSubnets(t.Context(), world(), tc.alb, tc.instances)
			var se *SubnetError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SubnetError", err)
			}
			if !config.IsUsage(err) {
				t.Error("a subnet problem is not a usage error (exit 2)")
			}
			if len(se.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d: %v", len(se.Problems), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestCheckSubnetsAPIErrorIsNotUsage(t *testing.T) {
	f := world()
	f.err = &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "not allowed"}
	err := CheckSubnets(t.Context(), f, []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-priv-a"})
	if err == nil || config.IsUsage(err) || !strings.Contains(err.Error(), "ec2:DescribeSubnets") {
		t.Fatalf("err = %v, want an operational error naming the permission", err)
	}
}

func TestCheckSubnetsPagesRouteTables(t *testing.T) {
	f := world()
	if err := CheckSubnets(t.Context(), f, []string{"subnet-pub-a", "subnet-pub-b"}, []string{"subnet-priv-a"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f.calls {
		if c == "DescribeRouteTables" {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d DescribeRouteTables calls, want 6 (one page per table)", n)
	}
}
