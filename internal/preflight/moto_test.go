package preflight

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// TestCheckSubnetsOnLocalStack runs the check with the real EC2 client
// against moto: a VPC whose main route table has no default route, public
// subnets (own table to an internet gateway), private subnets (own table to
// a NAT gateway) and one subnet left on the main table.
func TestCheckSubnetsOnLocalStack(t *testing.T) {
	api := ec2.NewFromConfig(localstack.AWSConfig(t))
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpcOut, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.77.0.0/16")})
	must(err)
	vpcID := aws.ToString(vpcOut.Vpc.VpcId)
	t.Cleanup(func() { _, _ = api.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpcID)}) })

	newSubnet := func(cidr, az string, publicIP bool) string {
		out, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
		must(err)
		id := aws.ToString(out.Subnet.SubnetId)
		t.Cleanup(func() { _, _ = api.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)}) })
		if publicIP {
			_, err := api.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(id), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			must(err)
		}
		return id
	}
	pubA, pubB := newSubnet("10.77.0.0/24", "us-east-1a", true), newSubnet("10.77.1.0/24", "us-east-1b", true)
	privA, privB := newSubnet("10.77.2.0/24", "us-east-1a", false), newSubnet("10.77.3.0/24", "us-east-1b", false)
	onMain := newSubnet("10.77.4.0/24", "us-east-1a", true)

	igw, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	igwID := aws.ToString(igw.InternetGateway.InternetGatewayId)
	t.Cleanup(func() {
		_, _ = api.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(igwID)})
	})
	_, err = api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})
	must(err)
	t.Cleanup(func() {
		_, _ = api.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(igwID), VpcId: aws.String(vpcID)})
	})
	eip, err := api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	must(err)
	t.Cleanup(func() { _, _ = api.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId}) })
	nat, err := api.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(pubA), AllocationId: eip.AllocationId})
	must(err)
	t.Cleanup(func() {
		_, _ = api.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGateway.NatGatewayId})
	})

	table := func(route *ec2.CreateRouteInput, subnets ...string) {
		rt, err := api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpcID)})
		must(err)
		t.Cleanup(func() {
			_, _ = api.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId})
		})
		route.RouteTableId = rt.RouteTable.RouteTableId
		route.DestinationCidrBlock = aws.String("0.0.0.0/0")
		_, err = api.CreateRoute(ctx, route)
		must(err)
		for _, s := range subnets {
			a, err := api.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(s)})
			must(err)
			t.Cleanup(func() {
				_, _ = api.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: a.AssociationId})
			})
		}
	}
	table(&ec2.CreateRouteInput{GatewayId: aws.String(igwID)}, pubA, pubB)
	table(&ec2.CreateRouteInput{NatGatewayId: nat.NatGateway.NatGatewayId}, privA, privB)

	if err := CheckSubnets(ctx, api, []string{pubA, pubB}, []string{privA, privB}); err != nil {
		t.Fatalf("public ALB subnets, private instance subnets behind NAT: %v", err)
	}
	err = CheckSubnets(ctx, api, []string{privA, privB}, []string{onMain})
	var se *SubnetError
	if !errors.As(err, &se) || len(se.Problems) != 3 {
		t.Fatalf("err = %v, want 3 problems (two private ALB subnets, one instance subnet on a main table without a default route)", err)
	}
	for _, want := range []string{
		privA + " (load balancer): ", "not to an internet gateway",
		onMain + " (instances and tasks): ", "the VPC's main route table, as the subnet has none of its own) has no route 0.0.0.0/0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%s", want, err)
		}
	}
}
