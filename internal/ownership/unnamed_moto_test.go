package ownership

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestUnnamedAgainstMoto runs the lookups of resources without a fixed name
// with the real SDK clients against moto: the network of a --private-subnets
// stack and its listener, created with the stack's identity as a killed
// apply leaves them, are all found with the import IDs the provider takes;
// same-named VPCs without the identity or with another stack's are ignored
// (moto ignores tag filters on NAT gateways: the check reads the tags
// itself); a second subnet under one Name is refused.
func TestUnnamedAgainstMoto(t *testing.T) {
	cfg := localstack.AWSConfig(t)
	ctx := t.Context()
	name := localstack.UniqueName(t, "un")
	stackID := name + "-id"
	ec2c, elbc := ec2.NewFromConfig(cfg), elbv2.NewFromConfig(cfg)
	var undo []func(context.Context) error
	t.Cleanup(func() {
		for i := len(undo) - 1; i >= 0; i-- {
			if err := undo[i](context.Background()); err != nil {
				t.Logf("clean-up: %v", err)
			}
		}
	})
	spec := func(typ ec2types.ResourceType, tags map[string]string) []ec2types.TagSpecification {
		ts := ec2types.TagSpecification{ResourceType: typ}
		for k, v := range tags {
			ts.Tags = append(ts.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		return []ec2types.TagSpecification{ts}
	}
	ourTags := func(n string) map[string]string { return map[string]string{config.StackIDTagKey: stackID, "Name": n} }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{}

	newVPC := func(tags map[string]string, cidr string) string {
		out, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(cidr), TagSpecifications: spec(ec2types.ResourceTypeVpc, tags)})
		must(err)
		id := aws.ToString(out.Vpc.VpcId)
		undo = append(undo, func(ctx context.Context) error {
			_, err := ec2c.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(id)})
			return err
		})
		return id
	}
	vpc := newVPC(ourTags(name), "10.0.0.0/16")
	want["aws_vpc.this"] = vpc
	newVPC(map[string]string{"Name": name}, "10.1.0.0/16")                                           // a stranger's
	newVPC(map[string]string{"Name": name, config.StackIDTagKey: stackID + "-other"}, "10.2.0.0/16") // another stack's

	igw, err := ec2c.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{TagSpecifications: spec(ec2types.ResourceTypeInternetGateway, ourTags(name))})
	must(err)
	igwID := aws.ToString(igw.InternetGateway.InternetGatewayId)
	undo = append(undo, func(ctx context.Context) error {
		_, err := ec2c.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(igwID)})
		return err
	})
	want["aws_internet_gateway.this"] = igwID

	subnets := map[string][]string{}
	for t0, tier := range []string{"public", "private"} {
		rt, err := ec2c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpc), TagSpecifications: spec(ec2types.ResourceTypeRouteTable, ourTags(name+"-"+tier))})
		must(err)
		rtb := aws.ToString(rt.RouteTable.RouteTableId)
		undo = append(undo, func(ctx context.Context) error {
			_, err := ec2c.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(rtb)})
			return err
		})
		want["aws_route_table."+tier] = rtb
		for i := range 2 {
			sn, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(fmt.Sprintf("10.0.%d.0/24", 2*t0+i)),
				TagSpecifications: spec(ec2types.ResourceTypeSubnet, ourTags(fmt.Sprintf("%s-%s-%d", name, tier, i)))})
			must(err)
			id := aws.ToString(sn.Subnet.SubnetId)
			subnets[tier] = append(subnets[tier], id)
			a, err := ec2c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(rtb), SubnetId: aws.String(id)})
			must(err)
			undo = append(undo, func(ctx context.Context) error {
				_, err := ec2c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})
				return err
			}, func(ctx context.Context) error {
				_, err := ec2c.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.AssociationId})
				return err
			})
			want[fmt.Sprintf("aws_subnet.%s[%d]", tier, i)] = id
			want[fmt.Sprintf("aws_route_table_association.%s[%d]", tier, i)] = id + "/" + rtb
		}
	}

	eip, err := ec2c.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc, TagSpecifications: spec(ec2types.ResourceTypeElasticIp, ourTags(name+"-nat"))})
	must(err)
	undo = append(undo, func(ctx context.Context) error {
		_, err := ec2c.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId})
		return err
	})
	want["aws_eip.nat"] = aws.ToString(eip.AllocationId)
	nat, err := ec2c.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(subnets["public"][0]), AllocationId: eip.AllocationId,
		TagSpecifications: spec(ec2types.ResourceTypeNatgateway, ourTags(name))})
	must(err)
	undo = append(undo, func(ctx context.Context) error {
		_, err := ec2c.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGateway.NatGatewayId})
		return err
	})
	want["aws_nat_gateway.this"] = aws.ToString(nat.NatGateway.NatGatewayId)

	elbTags := []elbv2types.Tag{{Key: aws.String(config.StackIDTagKey), Value: aws.String(stackID)}}
	lb, err := elbc.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name + "-alb"), Subnets: subnets["public"], Tags: elbTags})
	must(err)
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	undo = append(undo, func(ctx context.Context) error {
		_, err := elbc.DeleteLoadBalancer(ctx, &elbv2.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbARN)})
		return err
	})
	want["aws_lb.this"] = lbARN
	tg, err := elbc.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name + "-tg"), Port: aws.Int32(80), Protocol: elbv2types.ProtocolEnumHttp,
		VpcId: aws.String(vpc), TargetType: elbv2types.TargetTypeEnumIp})
	must(err)
	tgARN := tg.TargetGroups[0].TargetGroupArn
	undo = append(undo, func(ctx context.Context) error {
		_, err := elbc.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tgARN})
		return err
	})
	ln, err := elbc.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(lbARN), Port: aws.Int32(80), Protocol: elbv2types.ProtocolEnumHttp,
		DefaultActions: []elbv2types.Action{{Type: elbv2types.ActionTypeEnumForward, TargetGroupArn: tgARN}}, Tags: elbTags})
	must(err)
	undo = append(undo, func(ctx context.Context) error {
		_, err := elbc.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: ln.Listeners[0].ListenerArn})
		return err
	})
	want["aws_lb_listener.http"] = aws.ToString(ln.Listeners[0].ListenerArn)

	p := config.Provision{Name: name, Region: localstack.Region, PrivateSubnets: true, StackID: stackID}
	in := Input{Resources: []hclgen.NamedResource{{Address: "aws_lb.this", Kind: hclgen.KindLoadBalancer, Name: name + "-alb"}},
		Unnamed: hclgen.UnnamedResources(p), StackID: stackID, ProviderMajor: 6}
	c := NewChecker(cfg)
	res, err := c.Check(ctx, in)
	if err != nil || res.Err() != nil {
		t.Fatalf("Check = %v, %v", err, res.Err())
	}
	got := map[string]string{}
	for _, im := range res.Imports {
		t.Logf("import %s", im)
		got[im.Address] = im.ID
	}
	if !maps.Equal(got, want) {
		t.Errorf("imports = %v\nwant      %v", got, want)
	}

	// A second subnet under demo-public-1's Name, as a rerun without this
	// recovery would have created: neither is imported.
	dup, err := ec2c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String("10.0.9.0/24"),
		TagSpecifications: spec(ec2types.ResourceTypeSubnet, ourTags(name+"-public-1"))})
	must(err)
	undo = append(undo, func(ctx context.Context) error {
		_, err := ec2c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: dup.Subnet.SubnetId})
		return err
	})
	res, err = c.Check(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	err = res.Err()
	if err == nil || config.IsUsage(err) || !strings.Contains(err.Error(), aws.ToString(dup.Subnet.SubnetId)) || !strings.Contains(err.Error(), "aws_subnet.public[1]") {
		t.Errorf("with two subnets named %s-public-1: %v, want them refused (exit 1)", name, err)
	}
}
