package hclgen

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/preflight"
)

// TestRenderedModuleOnLocalStack applies the rendered module with Terraform
// directly (no graviton-cd lifecycle) against moto: a new VPC with
// --private-subnets (NAT gateway, EIP), then a changed --container-port on
// the live stack (the target group is replaced, created before the old one
// goes), a plan that shows no changes, and a destroy whose log shows the
// service and the Auto Scaling group gone before the routes, the NAT and
// internet gateways and the IAM policy attachments they need.
func TestRenderedModuleOnLocalStack(t *testing.T) {
	tools := localstack.Terraform(t)
	moto := localstack.Moto(t)
	localstack.SetAWSEnv(t)
	t.Setenv(localstack.EnvCLIConfig, tools.CLIConfigFile)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	ctx := t.Context()

	name := localstack.UniqueName(t, "rs")
	dir := t.TempDir()
	render := func(port int) config.Provision {
		t.Helper()
		p := validated(t, func(in *config.ProvisionInput) {
			in.Name, in.EndpointURL, in.PrivateSubnets, in.ContainerPort = name, moto, true, port
			in.StateBackend, in.StateBucket = "local", "" // terraform runs here directly, no lifecycle
		})
		p.StackID = "realstack-" + name
		src := mustRender(t, p)
		if err := os.WriteFile(filepath.Join(dir, ModuleFile), src, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tf, err := tfexec.NewTerraform(dir, tools.Binary)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	tf.SetStdout(&log)
	tf.SetStderr(&log)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, localstack.Tail(log.String()))
		}
	}

	first := render(80)
	step("init", tf.Init(ctx))
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_ = tf.Destroy(ctx)
		}
	})
	step("apply", tf.Apply(ctx))

	outs, err := tf.Output(ctx)
	step("output", err)
	if got := string(outs[OutputStackID].Value); got != `"realstack-`+name+`"` {
		t.Errorf("output stack_id = %s", got)
	}
	if got := string(outs[OutputEphemeral].Value); got != `"false"` {
		t.Errorf("output ephemeral = %s", got)
	}

	elb := elbv2.NewFromConfig(localstack.AWSConfig(t))
	targetGroupPort := func(tgName string) (int32, bool) {
		t.Helper()
		out, err := elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{tgName}})
		if err != nil || len(out.TargetGroups) == 0 {
			return 0, false
		}
		return aws.ToInt32(out.TargetGroups[0].Port), true
	}
	if port, ok := targetGroupPort(first.Names().TargetGroup); !ok || port != 80 {
		t.Fatalf("target group %s: port %d, found %v", first.Names().TargetGroup, port, ok)
	}

	// A new container port on the live stack: the target group is replaced,
	// the new one created before the old one (which the listener and service
	// use) is destroyed.
	second := render(8080)
	if second.Names().TargetGroup == first.Names().TargetGroup {
		t.Fatal("a new port kept the target group's name")
	}
	log.Reset()
	step("apply with --container-port 8080", tf.Apply(ctx))
	if port, ok := targetGroupPort(second.Names().TargetGroup); !ok || port != 8080 {
		t.Errorf("new target group %s: port %d, found %v", second.Names().TargetGroup, port, ok)
	}
	if _, ok := targetGroupPort(first.Names().TargetGroup); ok {
		t.Errorf("old target group %s still exists", first.Names().TargetGroup)
	}
	applyLog := log.String()
	created := strings.Index(applyLog, "aws_lb_target_group.app: Creation complete")
	deposed := strings.Index(applyLog, "aws_lb_target_group.app (deposed object")
	if created < 0 || deposed < 0 || created > deposed {
		t.Errorf("want the new target group created before the old one is destroyed:\n%s", localstack.Tail(applyLog))
	}

	log.Reset()
	changed, err := tf.Plan(ctx)
	step("plan after the port change", err)
	if changed {
		t.Errorf("a second plan with the same inputs shows changes:\n%s", localstack.Tail(log.String()))
	}

	log.Reset()
	step("destroy", tf.Destroy(ctx))
	destroyed = true
	order := destroyOrder(log.String())
	t.Logf("destroy order: %s", strings.Join(order, ", "))
	pos := func(addr string) int { return slices.Index(order, addr) }
	instanceNeeds := []string{
		"aws_route_table_association.private", "aws_route_table_association.public", "aws_route_table.private", "aws_route_table.public",
		"aws_nat_gateway.this", "aws_internet_gateway.this", "aws_iam_role_policy_attachment.instance", "aws_iam_instance_profile.instance",
	}
	for _, first := range []string{"aws_ecs_service.app", "aws_autoscaling_group.this", "aws_ecs_capacity_provider.this", "aws_ecs_cluster_capacity_providers.this"} {
		later := instanceNeeds
		if first == "aws_ecs_service.app" {
			// The tasks also need the execution role's policy.
			later = append(slices.Clone(instanceNeeds), "aws_iam_role_policy_attachment.task_execution")
		}
		for _, l := range later {
			if pos(first) < 0 || pos(l) < 0 || pos(first) > pos(l) {
				t.Errorf("%s (at %d) destroyed after %s (at %d)", first, pos(first), l, pos(l))
			}
		}
	}
}

var destroyedRE = regexp.MustCompile(`(?m)^([a-z0-9_]+\.[a-z0-9_]+)(\[[0-9]+\])?: Destruction complete`)

// destroyOrder lists resource addresses (without count index) in the order
// Terraform's log reports their destruction complete, each once, at the
// last of its instances.
func destroyOrder(log string) []string {
	var order []string
	for _, m := range destroyedRE.FindAllStringSubmatch(log, -1) {
		order = slices.DeleteFunc(order, func(s string) bool { return s == m[1] })
		order = append(order, m[1])
	}
	return order
}

// TestExistingVPCPlanOnLocalStack: in an existing VPC (made in moto with the
// SDK) with public subnets for the load balancer and private ones behind a
// NAT gateway for the instances, the subnet preflight passes and a plan of
// the rendered module puts the load balancer in --alb-subnet-ids and the
// instances and tasks in --subnet-ids.
func TestExistingVPCPlanOnLocalStack(t *testing.T) {
	tools := localstack.Terraform(t)
	moto := localstack.Moto(t)
	localstack.SetAWSEnv(t)
	t.Setenv(localstack.EnvCLIConfig, tools.CLIConfigFile)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	ctx := t.Context()

	api := ec2.NewFromConfig(localstack.AWSConfig(t))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	vpcOut, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.88.0.0/16")})
	must(err)
	vpcID := aws.ToString(vpcOut.Vpc.VpcId)
	t.Cleanup(func() { _, _ = api.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(vpcID)}) })
	newSubnet := func(cidr, az string) string {
		out, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
		must(err)
		id := aws.ToString(out.Subnet.SubnetId)
		t.Cleanup(func() { _, _ = api.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)}) })
		return id
	}
	pubA, pubB := newSubnet("10.88.0.0/24", "us-east-1a"), newSubnet("10.88.1.0/24", "us-east-1b")
	privA, privB := newSubnet("10.88.2.0/24", "us-east-1a"), newSubnet("10.88.3.0/24", "us-east-1b")
	igw, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	igwID := igw.InternetGateway.InternetGatewayId
	t.Cleanup(func() {
		_, _ = api.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: igwID})
	})
	_, err = api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igwID, VpcId: aws.String(vpcID)})
	must(err)
	t.Cleanup(func() {
		_, _ = api.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: igwID, VpcId: aws.String(vpcID)})
	})
	eip, err := api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	must(err)
	t.Cleanup(func() { _, _ = api.ReleaseAddress(ctx, &ec2.ReleaseAddressInput{AllocationId: eip.AllocationId}) })
	nat, err := api.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(pubA), AllocationId: eip.AllocationId})
	must(err)
	t.Cleanup(func() {
		_, _ = api.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: nat.NatGateway.NatGatewayId})
	})
	routeTable := func(route *ec2.CreateRouteInput, subnets ...string) {
		rt, err := api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpcID)})
		must(err)
		t.Cleanup(func() {
			_, _ = api.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId})
		})
		route.RouteTableId, route.DestinationCidrBlock = rt.RouteTable.RouteTableId, aws.String("0.0.0.0/0")
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
	routeTable(&ec2.CreateRouteInput{GatewayId: igwID}, pubA, pubB)
	routeTable(&ec2.CreateRouteInput{NatGatewayId: nat.NatGateway.NatGatewayId}, privA, privB)

	p := validated(t, func(in *config.ProvisionInput) {
		in.Name, in.EndpointURL = localstack.UniqueName(t, "rs"), moto
		in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = vpcID, privA+","+privB, pubA+","+pubB
		in.StateBackend, in.StateBucket = "local", "" // terraform runs here directly, no lifecycle
	})
	if err := preflight.CheckSubnets(ctx, api, p.ALBSubnetIDs, p.SubnetIDs); err != nil {
		t.Fatalf("subnet preflight: %v", err)
	}
	// The same subnets the other way round fail the preflight.
	if err := preflight.CheckSubnets(ctx, api, p.SubnetIDs, p.ALBSubnetIDs); err == nil {
		t.Error("private subnets for the load balancer passed the preflight")
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ModuleFile), mustRender(t, p), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, tools.Binary)
	must(err)
	var log bytes.Buffer
	tf.SetStdout(&log)
	tf.SetStderr(&log)
	if err := tf.Init(ctx); err != nil {
		t.Fatalf("init: %v\n%s", err, localstack.Tail(log.String()))
	}
	planFile := filepath.Join(dir, "tfplan")
	if _, err := tf.Plan(ctx, tfexec.Out(planFile)); err != nil {
		t.Fatalf("plan: %v\n%s", err, localstack.Tail(log.String()))
	}
	plan, err := tf.ShowPlanFile(ctx, planFile)
	must(err)
	after := map[string]map[string]any{}
	for _, rc := range plan.ResourceChanges {
		if m, ok := rc.Change.After.(map[string]any); ok {
			after[rc.Address] = m
		}
	}
	asList := func(v any) []string {
		var out []string
		for _, x := range v.([]any) {
			out = append(out, x.(string))
		}
		slices.Sort(out)
		return out
	}
	if got := asList(after["aws_lb.this"]["subnets"]); !slices.Equal(got, slices.Sorted(slices.Values([]string{pubA, pubB}))) {
		t.Errorf("load balancer subnets = %v, want the public %s, %s", got, pubA, pubB)
	}
	if got := asList(after["aws_autoscaling_group.this"]["vpc_zone_identifier"]); !slices.Equal(got, slices.Sorted(slices.Values([]string{privA, privB}))) {
		t.Errorf("Auto Scaling group subnets = %v, want the private %s, %s", got, privA, privB)
	}
	netCfg := after["aws_ecs_service.app"]["network_configuration"].([]any)[0].(map[string]any)
	if got := asList(netCfg["subnets"]); !slices.Equal(got, slices.Sorted(slices.Values([]string{privA, privB}))) {
		t.Errorf("task subnets = %v, want the private ones", got)
	}
	for _, addr := range []string{"aws_vpc.this", "aws_subnet.public", "aws_nat_gateway.this"} {
		for a := range after {
			if strings.HasPrefix(a, addr) {
				t.Errorf("plan creates %s in an existing VPC", a)
			}
		}
	}
}
