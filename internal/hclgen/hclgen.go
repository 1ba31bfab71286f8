// Package hclgen renders the Terraform root module of a graviton-cd stack from
// validated settings. Rendering is pure (config in, bytes out), deterministic
// and built with hclwrite and cty only: every user value is written as an
// escaped literal, so a quote or "${" in a tag can never inject HCL.
package hclgen

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// ModuleFile is the file name of the rendered root module in the stack directory.
const ModuleFile = "main.tf"

// ProviderConstraint accepts the AWS provider versions the module is proven
// with: 5.100 and later 5.x, and 6.x.
const ProviderConstraint = ">= 5.100, < 7.0"

// emulatorServices are the AWS services the module calls; with an endpoint
// URL (a local emulator) each is pointed at it.
func emulatorServices() []string {
	return []string{"appautoscaling", "autoscaling", "ec2", "ecs", "elbv2", "iam", "logs", "route53", "ssm", "sts"}
}

// AMIParameter is the public SSM parameter holding the current ECS-optimized
// Amazon Linux 2023 arm64 AMI. (The JSON variant of the parameter is broken
// in moto; the image_id one works everywhere.)
const AMIParameter = "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"

// Output names of the rendered module; they match stack.Outputs' JSON names.
const (
	OutputStackName     = "stack_name"
	OutputRegion        = "region"
	OutputClusterName   = "cluster_name"
	OutputServiceName   = "service_name"
	OutputContainerName = "container_name"
	OutputTaskFamily    = "task_definition_family"
	OutputALBDNSName    = "alb_dns_name"
	OutputURL           = "url"
	OutputLogGroup      = "log_group"
	OutputStackID       = "stack_id"  // the stack's identity (config.StackIDTagKey)
	OutputEphemeral     = "ephemeral" // "true" or "false": may destroy --only-if-ephemeral remove it
)

// RenderRootModule renders main.tf for p. The output is terraform-fmt
// canonical and identical for identical input.
func RenderRootModule(p config.Provision) ([]byte, error) {
	if p.State.Kind == config.BackendS3 && p.State.Bucket == "" {
		// The stack lifecycle names the default bucket once it knows the
		// account; a module without one would fail at terraform init.
		return nil, fmt.Errorf("render stack %s: the S3 state backend has no bucket yet", p.Name)
	}
	r := renderer{p: p, f: hclwrite.NewEmptyFile()}
	sections := []func(*hclwrite.Body){
		r.terraformBlock,
		r.provider,
		r.locals,
		r.network,
		r.securityGroups,
		r.iam,
		r.cluster,
		r.capacity,
		r.loadBalancer,
		r.service,
		r.outputs,
	}
	root := r.f.Body()
	for i, s := range sections {
		if i > 0 {
			root.AppendNewline()
		}
		s(root)
	}
	out := hclwrite.Format(r.f.Bytes())
	if _, diags := hclsyntax.ParseConfig(out, ModuleFile, hcl.InitialPos); diags.HasErrors() {
		return nil, fmt.Errorf("render root module: the result does not parse (a bug in graviton-cd, please report it): %s", diags)
	}
	return out, nil
}

type renderer struct {
	p config.Provision
	f *hclwrite.File
}

// names are the AWS names of the stack's resources.
func (r renderer) names() config.ResourceNames { return r.p.Names() }

// named returns a resource name under the stack's prefix.
func (r renderer) named(suffix string) string {
	if suffix == "" {
		return r.p.Name
	}
	return r.p.Name + "-" + suffix
}

// stackTags are the tags every resource carries: the stack tag, the stack's
// identity (once the lifecycle has given it one) and the user's.
func (r renderer) stackTags() cty.Value {
	m := map[string]cty.Value{}
	for _, t := range r.tagList() {
		m[t.Key] = cty.StringVal(t.Value)
	}
	return cty.MapVal(m)
}

// tagList is stackTags as a list sorted by key.
func (r renderer) tagList() []config.Tag {
	tags := []config.Tag{{Key: config.StackTagKey, Value: r.p.Name}}
	if r.p.StackID != "" {
		tags = append(tags, config.Tag{Key: config.StackIDTagKey, Value: r.p.StackID})
	}
	tags = append(tags, r.p.Tags...)
	sort.SliceStable(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags
}

// nameTag is the Name tag of one resource (default_tags adds the rest).
func nameTag(name string) cty.Value {
	return cty.MapVal(map[string]cty.Value{"Name": cty.StringVal(name)})
}

func (r renderer) terraformBlock(root *hclwrite.Body) {
	tf := block(root, "terraform")
	set(tf, "required_version", ">= 1.10")
	rp := block(tf, "required_providers")
	rp.SetAttributeRaw("aws", object(
		kv{"source", lit("hashicorp/aws")},
		kv{"version", lit(r.providerConstraint())},
	))
	tf.AppendNewline()
	switch r.p.State.Kind {
	case config.BackendS3:
		b := block(tf, "backend", "s3")
		set(b,
			"bucket", r.p.State.Bucket,
			"key", r.p.State.Key,
			"region", r.p.State.Region,
			"encrypt", true,
			"use_lockfile", true,
		)
		if r.p.EndpointURL != "" {
			// Only for a local emulator: moto serves S3 path-style on one URL.
			b.SetAttributeRaw("endpoints", object(kv{"s3", lit(r.p.EndpointURL)}))
			set(b,
				"use_path_style", true,
				"skip_credentials_validation", true,
				"skip_metadata_api_check", true,
				"skip_requesting_account_id", true,
			)
		}
	default:
		set(block(tf, "backend", "local"), "path", "terraform.tfstate")
	}
}

func (r renderer) provider(root *hclwrite.Body) {
	pb := block(root, "provider", "aws")
	set(pb, "region", r.p.Region)
	if r.p.EndpointURL != "" {
		// A local emulator (moto) has no real credentials or instance
		// metadata; these settings exist only for it. The account ID is
		// asked of its STS: importers that build an ARN from it (the ECS
		// cluster's) need it, or an imported resource never converges.
		set(pb,
			"skip_credentials_validation", true,
			"skip_metadata_api_check", true,
		)
		ep := block(pb, "endpoints")
		for _, s := range emulatorServices() {
			set(ep, s, r.p.EndpointURL)
		}
	}
	pb.AppendNewline()
	set(block(pb, "default_tags"), "tags", r.stackTags())
}

// locals holds the network every other section refers to, new or existing.
func (r renderer) locals(root *hclwrite.Body) {
	l := block(root, "locals")
	switch {
	case r.p.VPCID != "":
		set(l, "vpc_id", r.p.VPCID, "subnet_ids", r.p.SubnetIDs, "alb_subnet_ids", r.p.ALBSubnetIDs)
	case r.p.PrivateSubnets:
		set(l, "vpc_id", expr("aws_vpc.this.id"), "subnet_ids", expr("aws_subnet.private[*].id"), "alb_subnet_ids", expr("aws_subnet.public[*].id"))
	default:
		set(l, "vpc_id", expr("aws_vpc.this.id"), "subnet_ids", expr("aws_subnet.public[*].id"), "alb_subnet_ids", expr("aws_subnet.public[*].id"))
	}
	set(l, "stack_tags", r.stackTags())
}

func (r renderer) network(root *hclwrite.Body) {
	if r.p.VPCID != "" {
		return
	}
	set(block(root, "data", "aws_availability_zones", "available"), "state", "available")
	root.AppendNewline()

	vpc := block(root, "resource", "aws_vpc", "this")
	set(vpc,
		"cidr_block", r.p.VPCCIDR,
		"enable_dns_support", true,
		"enable_dns_hostnames", true,
		"tags", nameTag(r.named("")),
	)
	root.AppendNewline()

	igw := block(root, "resource", "aws_internet_gateway", "this")
	set(igw, "vpc_id", expr("aws_vpc.this.id"), "tags", nameTag(r.named("")))
	root.AppendNewline()

	// Two subnets per tier in two AZs: an ALB needs two. Each takes a /24 of
	// a /16 (newbits grows for smaller VPCs until all subnets fit).
	subnetBits := 1 // 2 subnets
	if r.p.PrivateSubnets {
		subnetBits = 2 // 4 subnets
	}
	newbits := max(24-vpcPrefixBits(r.p.VPCCIDR), subnetBits)
	r.subnets(root, "public", newbits, 0, !r.p.PrivateSubnets)
	root.AppendNewline()
	r.routeTable(root, "public", "gateway_id", "aws_internet_gateway.this.id")

	if !r.p.PrivateSubnets {
		return
	}
	// Instances and tasks in private subnets reach image registries and AWS
	// APIs through one NAT gateway (one AZ: a NAT per AZ would double its
	// hourly cost; an AZ outage then cuts outbound traffic, not inbound).
	root.AppendNewline()
	eip := block(root, "resource", "aws_eip", "nat")
	set(eip, "domain", "vpc", "tags", nameTag(r.named("nat")))
	root.AppendNewline()
	nat := block(root, "resource", "aws_nat_gateway", "this")
	set(nat,
		"allocation_id", expr("aws_eip.nat.id"),
		"subnet_id", expr("aws_subnet.public[0].id"),
		"tags", nameTag(r.named("")),
	)
	nat.AppendNewline()
	// The NAT gateway forwards through its subnet's route to the internet
	// gateway: create it after that route, destroy it before.
	set(nat, "depends_on", expr("[aws_route_table_association.public]"))
	root.AppendNewline()
	r.subnets(root, "private", newbits, 2, false)
	root.AppendNewline()
	r.routeTable(root, "private", "nat_gateway_id", "aws_nat_gateway.this.id")
}

// subnets writes aws_subnet.<tier>: two subnets in two AZs, numbered from
// first within the VPC's CIDR.
func (r renderer) subnets(root *hclwrite.Body, tier string, newbits, first int, publicIPs bool) {
	index := expr("count.index")
	if first > 0 {
		index = expr(fmt.Sprintf("count.index + %d", first))
	}
	sn := block(root, "resource", "aws_subnet", tier)
	set(sn,
		"count", 2,
		"vpc_id", expr("aws_vpc.this.id"),
		"cidr_block", call("cidrsubnet", expr("aws_vpc.this.cidr_block"), lit(newbits), index),
		"availability_zone", expr("data.aws_availability_zones.available.names[count.index]"),
		"map_public_ip_on_launch", publicIPs,
		"tags", object(kv{"Name", call("format", lit("%s-"+tier+"-%d"), lit(r.p.Name), expr("count.index"))}),
	)
}

// routeTable writes aws_route_table.<tier> with a default route to target
// and its association with aws_subnet.<tier>.
func (r renderer) routeTable(root *hclwrite.Body, tier, targetAttr, target string) {
	rt := block(root, "resource", "aws_route_table", tier)
	set(rt, "vpc_id", expr("aws_vpc.this.id"))
	rt.AppendNewline()
	set(block(rt, "route"), "cidr_block", "0.0.0.0/0", targetAttr, expr(target))
	rt.AppendNewline()
	set(rt, "tags", nameTag(r.named(tier)))
	root.AppendNewline()

	rta := block(root, "resource", "aws_route_table_association", tier)
	set(rta,
		"count", 2,
		"subnet_id", expr("aws_subnet."+tier+"[count.index].id"),
		"route_table_id", expr("aws_route_table."+tier+".id"),
	)
}

// instanceRoutes is the route table association the instances' subnets
// need for outbound traffic, in a new VPC ("" in an existing one).
func (r renderer) instanceRoutes() string {
	switch {
	case r.p.VPCID != "":
		return ""
	case r.p.PrivateSubnets:
		return "aws_route_table_association.private"
	default:
		return "aws_route_table_association.public"
	}
}

func vpcPrefixBits(cidr string) int {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return 16
	}
	return p.Bits()
}

// emulator reports a local emulator endpoint: only then does the module carry
// settings that make up for what the emulator lacks.
func (r renderer) emulator() bool { return r.p.EndpointURL != "" }

func (r renderer) awsvpc() bool { return r.p.NetworkMode == config.NetworkModeAWSVPC }

// securityGroups: the ALB takes HTTP from the world; instances (bridge mode)
// or tasks (awsvpc mode) take traffic only from the ALB; nothing takes SSH.
func (r renderer) securityGroups(root *hclwrite.Body) {
	albDesc := "graviton-cd load balancer: HTTP from anywhere"
	if r.p.HTTPS() {
		albDesc = "graviton-cd load balancer: HTTP and HTTPS from anywhere"
	}
	r.securityGroup(root, "alb", albDesc, func(sg *hclwrite.Body) {
		ingress(sg, "HTTP from anywhere", 80, 80, lit([]string{"0.0.0.0/0"}), nil)
		if r.p.HTTPS() {
			ingress(sg, "HTTPS from anywhere", 443, 443, lit([]string{"0.0.0.0/0"}), nil)
		}
	})
	root.AppendNewline()

	r.securityGroup(root, "instances", "graviton-cd container instances: traffic from the load balancer only", func(sg *hclwrite.Body) {
		if !r.awsvpc() {
			// Bridge mode maps containers to ephemeral host ports.
			ingress(sg, "dynamic host ports from the load balancer", 32768, 65535, nil, expr("[aws_security_group.alb.id]"))
		}
	})

	if r.awsvpc() {
		root.AppendNewline()
		r.securityGroup(root, "tasks", "graviton-cd tasks: the container port from the load balancer only", func(sg *hclwrite.Body) {
			ingress(sg, "container port from the load balancer", r.p.ContainerPort, r.p.ContainerPort, nil, expr("[aws_security_group.alb.id]"))
		})
	}
}

// securityGroup writes aws_security_group.<name> in the stack's VPC: the
// ingress rules addIngress writes, all egress, and the Name tag.
func (r renderer) securityGroup(root *hclwrite.Body, name, description string, addIngress func(sg *hclwrite.Body)) {
	sg := block(root, "resource", "aws_security_group", name)
	set(sg,
		"name", r.named(name),
		"description", description,
		"vpc_id", expr("local.vpc_id"),
	)
	sg.AppendNewline()
	addIngress(sg)
	egressAll(sg)
	set(sg, "tags", nameTag(r.named(name)))
}

func ingress(sg *hclwrite.Body, desc string, from, to int, cidrs, groups hclwrite.Tokens) {
	in := block(sg, "ingress")
	set(in, "description", desc, "protocol", "tcp", "from_port", from, "to_port", to)
	if cidrs != nil {
		set(in, "cidr_blocks", cidrs)
	}
	if groups != nil {
		set(in, "security_groups", groups)
	}
	sg.AppendNewline()
}

func egressAll(sg *hclwrite.Body) {
	set(block(sg, "egress"),
		"description", "all outbound (image pulls, AWS APIs)",
		"protocol", "-1",
		"from_port", 0,
		"to_port", 0,
		"cidr_blocks", []string{"0.0.0.0/0"},
	)
	sg.AppendNewline()
}

// iam: an instance role with the ECS managed policy for container instances
// and Session Manager's; a task execution role for image pulls, logs and
// (only those named) secrets; a task role when the app has policies of its
// own or ECS Exec. Nothing broader.
func (r renderer) iam(root *hclwrite.Body) {
	block(root, "data", "aws_partition", "current")
	root.AppendNewline()

	role := func(label, name, service, policy string) {
		r.role(root, label, name, service)
		if policy == "" {
			return
		}
		att := block(root, "resource", "aws_iam_role_policy_attachment", label)
		set(att,
			"role", expr("aws_iam_role."+label+".name"),
			"policy_arn", call("format", lit("arn:%s:iam::aws:policy/"+policy), expr("data.aws_partition.current.partition")),
		)
		root.AppendNewline()
	}
	n := r.names()
	role("instance", n.InstanceRole, "ec2.amazonaws.com", "service-role/AmazonEC2ContainerServiceforEC2Role")
	// Session Manager instead of SSH: no key pair, no port 22.
	att := block(root, "resource", "aws_iam_role_policy_attachment", "instance_ssm")
	set(att,
		"role", expr("aws_iam_role.instance.name"),
		"policy_arn", call("format", lit("arn:%s:iam::aws:policy/AmazonSSMManagedInstanceCore"), expr("data.aws_partition.current.partition")),
	)
	root.AppendNewline()
	role("task_execution", n.TaskExecutionRole, "ecs-tasks.amazonaws.com", "service-role/AmazonECSTaskExecutionRolePolicy")
	r.secretsPolicy(root)
	if r.p.TaskRole() {
		role("task", n.TaskRole, "ecs-tasks.amazonaws.com", "")
		r.taskRolePolicies(root)
	}

	ip := block(root, "resource", "aws_iam_instance_profile", "instance")
	set(ip, "name", n.InstanceProfile, "role", expr("aws_iam_role.instance.name"))
}

// role writes aws_iam_role.<label>, which service may assume.
func (r renderer) role(root *hclwrite.Body, label, name, service string) {
	rb := block(root, "resource", "aws_iam_role", label)
	set(rb,
		"name", name,
		"assume_role_policy", call("jsonencode", object(
			kv{"Version", lit("2012-10-17")},
			kv{"Statement", tuple(object(
				kv{"Effect", lit("Allow")},
				kv{"Principal", object(kv{"Service", lit(service)})},
				kv{"Action", lit("sts:AssumeRole")},
			))},
		)),
	)
	root.AppendNewline()
}

// policyDocument renders jsonencode of an IAM policy with the statements.
func policyDocument(statements ...hclwrite.Tokens) hclwrite.Tokens {
	return call("jsonencode", object(
		kv{"Version", lit("2012-10-17")},
		kv{"Statement", tuple(statements...)},
	))
}

// allow is one Allow statement of actions on resources.
func allow(sid string, actions []string, resources []string) hclwrite.Tokens {
	return object(
		kv{"Sid", lit(sid)},
		kv{"Effect", lit("Allow")},
		kv{"Action", lit(actions)},
		kv{"Resource", lit(resources)},
	)
}

// secretsPolicy lets the execution role read exactly the secrets the task
// definition names (ECS reads them as the task starts) and decrypt them with
// the named key; no wildcard. The AWS managed keys (aws/ssm,
// aws/secretsmanager) need no kms:Decrypt here: their key policies let the
// account's principals use them through the service.
func (r renderer) secretsPolicy(root *hclwrite.Body) {
	if len(r.p.Secrets) == 0 {
		return
	}
	var params, secrets []string
	for _, s := range r.p.Secrets {
		switch s.Kind {
		case config.SecretKindSSM:
			params = appendOnce(params, s.Resource)
		case config.SecretKindSecretsManager:
			secrets = appendOnce(secrets, s.Resource)
		}
	}
	var st []hclwrite.Tokens
	if len(params) > 0 {
		st = append(st, allow("ReadParameters", []string{"ssm:GetParameters"}, params))
	}
	if len(secrets) > 0 {
		st = append(st, allow("ReadSecrets", []string{"secretsmanager:GetSecretValue"}, secrets))
	}
	if r.p.SecretsKMSKeyARN != "" {
		st = append(st, allow("DecryptSecrets", []string{"kms:Decrypt"}, []string{r.p.SecretsKMSKeyARN}))
	}
	pol := block(root, "resource", "aws_iam_role_policy", "task_execution_secrets")
	set(pol,
		"name", "read-secrets",
		"role", expr("aws_iam_role.task_execution.id"),
		"policy", policyDocument(st...),
	)
	root.AppendNewline()
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// taskRolePolicies attaches the user's policies to the task role and, for
// ECS Exec, the Session Manager channel actions (which have no resource
// level permissions: AWS documents them on "*", in the ECS developer guide's
// "Monitor Amazon ECS containers with ECS Exec").
func (r renderer) taskRolePolicies(root *hclwrite.Body) {
	if len(r.p.TaskRolePolicyARNs) > 0 {
		att := block(root, "resource", "aws_iam_role_policy_attachment", "task")
		set(att,
			"for_each", call("toset", lit(r.p.TaskRolePolicyARNs)),
			"role", expr("aws_iam_role.task.name"),
			"policy_arn", expr("each.value"),
		)
		root.AppendNewline()
	}
	if r.p.EnableExec {
		pol := block(root, "resource", "aws_iam_role_policy", "task_exec")
		set(pol,
			"name", "ecs-exec",
			"role", expr("aws_iam_role.task.id"),
			"policy", policyDocument(allow("ECSExec", []string{
				"ssmmessages:CreateControlChannel",
				"ssmmessages:CreateDataChannel",
				"ssmmessages:OpenControlChannel",
				"ssmmessages:OpenDataChannel",
			}, []string{"*"})),
		)
		root.AppendNewline()
	}
}

func (r renderer) cluster(root *hclwrite.Body) {
	lg := block(root, "resource", "aws_cloudwatch_log_group", "app")
	set(lg, "name", r.names().LogGroup, "retention_in_days", r.p.LogRetentionDays)
	root.AppendNewline()

	cl := block(root, "resource", "aws_ecs_cluster", "this")
	set(cl, "name", r.names().Cluster)
	cl.AppendNewline()
	// Per-task and per-service CPU, memory and network metrics (billed as
	// CloudWatch custom metrics).
	set(block(cl, "setting"), "name", "containerInsights", "value", "enabled")
}

// capacity: Graviton instances from a launch template, in an ASG that ECS
// scales through a capacity provider with managed termination protection.
func (r renderer) capacity(root *hclwrite.Body) {
	set(block(root, "data", "aws_ssm_parameter", "ecs_ami"), "name", AMIParameter)
	root.AppendNewline()

	lt := block(root, "resource", "aws_launch_template", "this")
	set(lt,
		"name", r.names().LaunchTemplate,
		"image_id", expr("data.aws_ssm_parameter.ecs_ami.insecure_value"),
		"instance_type", r.p.InstanceType,
		"vpc_security_group_ids", expr("[aws_security_group.instances.id]"),
		"update_default_version", true,
		// Join the cluster; the script is data, built from literal lines.
		"user_data", call("base64encode", call("join", lit("\n"), tuple(
			lit("#!/bin/bash"),
			call("format", lit("echo ECS_CLUSTER=%s >> /etc/ecs/ecs.config"), expr("aws_ecs_cluster.this.name")),
			lit("echo ECS_ENABLE_CONTAINER_METADATA=true >> /etc/ecs/ecs.config"),
			// awsvpc tasks have their own network namespace, which the hop
			// limit below does not cover: the agent blocks IMDS for them.
			lit("echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config"),
			// Memory the capacity check (config) keeps from tasks for the
			// agent, Docker and the OS.
			lit(fmt.Sprintf("echo ECS_RESERVED_MEMORY=%d >> /etc/ecs/ecs.config", config.ReservedMemoryMiB)),
			lit(""),
		))),
	)
	lt.AppendNewline()
	set(block(lt, "iam_instance_profile"), "arn", expr("aws_iam_instance_profile.instance.arn"))
	lt.AppendNewline()
	set(block(lt, "metadata_options"),
		"http_endpoint", "enabled",
		"http_tokens", "required", // IMDSv2 only
		// Bridge-mode containers are one hop away and cannot reach instance
		// credentials; awsvpc tasks are kept out by ECS_AWSVPC_BLOCK_IMDS.
		"http_put_response_hop_limit", 1,
	)
	lt.AppendNewline()
	bdm := block(lt, "block_device_mappings")
	set(bdm, "device_name", "/dev/xvda")
	bdm.AppendNewline()
	set(block(bdm, "ebs"),
		"volume_size", 30,
		"volume_type", "gp3",
		"encrypted", true,
		"delete_on_termination", true,
	)
	lt.AppendNewline()
	// default_tags does not reach what an ASG launches: tag it here.
	for _, rt := range []string{"instance", "volume"} {
		set(block(lt, "tag_specifications"),
			"resource_type", rt,
			"tags", call("merge", expr("local.stack_tags"), lit(nameTag(r.named("instance")))),
		)
		lt.AppendNewline()
	}
	set(lt, "tags", nameTag(r.p.Name))
	if r.emulator() {
		lt.AppendNewline()
		// moto echoes the template's own tags back as a tag_specifications
		// block of type launch-template, which would read as drift.
		set(block(lt, "lifecycle"), "ignore_changes", expr("[tag_specifications]"))
	}
	root.AppendNewline()

	asg := block(root, "resource", "aws_autoscaling_group", "this")
	set(asg,
		"name", r.names().AutoScalingGroup,
		"min_size", r.p.MinSize,
		"max_size", r.p.MaxSize,
		"desired_capacity", r.p.DesiredCapacity,
		"vpc_zone_identifier", expr("local.subnet_ids"),
		"health_check_type", "EC2",
		// Managed termination protection needs scale-in protection; force
		// delete lets destroy remove protected instances.
		"protect_from_scale_in", true,
		"force_delete", true,
	)
	asg.AppendNewline()
	set(block(asg, "launch_template"), "id", expr("aws_launch_template.this.id"), "version", expr("aws_launch_template.this.latest_version"))
	asg.AppendNewline()
	// A new launch template version (a new recommended AMI, another
	// instance type) replaces the instances: new ones first (max healthy
	// 200 %), then the old ones, scale-in protected or not; the capacity
	// provider's managed draining moves their tasks before each goes.
	// Not against an emulator: moto 5.2.1 never ends an instance refresh,
	// and the provider's update of the group then waited on it for more
	// than 38 minutes when a second provision changed the launch template.
	if !r.emulator() {
		ir := block(asg, "instance_refresh")
		set(ir, "strategy", "Rolling")
		ir.AppendNewline()
		set(block(ir, "preferences"),
			"min_healthy_percentage", 100,
			"max_healthy_percentage", 200,
			"instance_warmup", 120,
			"scale_in_protected_instances", "Refresh",
		)
		asg.AppendNewline()
	}
	asgTags := append([]config.Tag{{Key: "AmazonECSManaged", Value: "true"}, {Key: "Name", Value: r.named("instance")}}, r.tagList()...)
	sort.SliceStable(asgTags, func(i, j int) bool { return asgTags[i].Key < asgTags[j].Key })
	for _, t := range asgTags {
		set(block(asg, "tag"), "key", t.Key, "value", t.Value, "propagate_at_launch", true)
		asg.AppendNewline()
	}
	// The instances need, for as long as they run, a route out (to register
	// and to hear of and report task stops) and the instance role's policy
	// (the instance profile comes through the launch template). Terraform
	// destroys in reverse dependency order, so with these edges the service,
	// the capacity provider and this group (with its instances) are gone
	// before any of them; and no instance launches before they exist.
	asgNeeds := []string{"aws_iam_role_policy_attachment.instance", "aws_iam_role_policy_attachment.instance_ssm"}
	if rt := r.instanceRoutes(); rt != "" {
		asgNeeds = append([]string{rt}, asgNeeds...)
	}
	set(asg, "depends_on", refList(asgNeeds...))
	asg.AppendNewline()
	lc := block(asg, "lifecycle")
	// ECS managed scaling owns desired capacity once the stack runs.
	set(lc, "ignore_changes", expr("[desired_capacity]"))
	root.AppendNewline()

	cp := block(root, "resource", "aws_ecs_capacity_provider", "this")
	set(cp, "name", r.names().CapacityProvider)
	cp.AppendNewline()
	ap := block(cp, "auto_scaling_group_provider")
	set(ap,
		"auto_scaling_group_arn", expr("aws_autoscaling_group.this.arn"),
		"managed_termination_protection", "ENABLED",
		// ECS drains an instance's tasks (to other instances) before the
		// group terminates it, in scale-in and instance refresh alike.
		"managed_draining", "ENABLED",
	)
	ap.AppendNewline()
	set(block(ap, "managed_scaling"),
		"status", "ENABLED",
		"target_capacity", 100,
		"minimum_scaling_step_size", 1,
		"maximum_scaling_step_size", 2,
	)
	root.AppendNewline()

	ccp := block(root, "resource", "aws_ecs_cluster_capacity_providers", "this")
	set(ccp,
		"cluster_name", expr("aws_ecs_cluster.this.name"),
		"capacity_providers", expr("[aws_ecs_capacity_provider.this.name]"),
	)
	ccp.AppendNewline()
	set(block(ccp, "default_capacity_provider_strategy"),
		"capacity_provider", expr("aws_ecs_capacity_provider.this.name"),
		"weight", 1,
		"base", 0,
	)
}

func (r renderer) loadBalancer(root *hclwrite.Body) {
	lb := block(root, "resource", "aws_lb", "this")
	set(lb,
		"name", r.names().LoadBalancer,
		"load_balancer_type", "application",
		"internal", false,
		"security_groups", expr("[aws_security_group.alb.id]"),
		"subnets", expr("local.alb_subnet_ids"),
		"drop_invalid_header_fields", true,
	)
	if r.p.VPCID == "" {
		// An internet-facing load balancer needs its subnets' route to the
		// internet gateway; and the gateway cannot be detached while the
		// load balancer's public addresses are mapped.
		lb.AppendNewline()
		set(lb, "depends_on", expr("[aws_route_table_association.public]"))
	}
	root.AppendNewline()

	r.targetGroup(root, "app", r.names().TargetGroup)
	root.AppendNewline()

	ln := block(root, "resource", "aws_lb_listener", "http")
	set(ln,
		"load_balancer_arn", expr("aws_lb.this.arn"),
		"port", 80,
		"protocol", "HTTP",
	)
	ln.AppendNewline()
	if !r.p.HTTPS() {
		set(block(ln, "default_action"), "type", "forward", "target_group_arn", expr("aws_lb_target_group.app.arn"))
		r.aliasRecord(root)
		r.strategyResources(root)
		return
	}
	da := block(ln, "default_action")
	set(da, "type", "redirect")
	da.AppendNewline()
	set(block(da, "redirect"), "port", "443", "protocol", "HTTPS", "status_code", "HTTP_301")
	root.AppendNewline()

	tls := block(root, "resource", "aws_lb_listener", "https")
	set(tls,
		"load_balancer_arn", expr("aws_lb.this.arn"),
		"port", 443,
		"protocol", "HTTPS",
		"ssl_policy", config.TLSPolicy,
		"certificate_arn", r.p.CertificateARN,
	)
	tls.AppendNewline()
	set(block(tls, "default_action"), "type", "forward", "target_group_arn", expr("aws_lb_target_group.app.arn"))
	r.aliasRecord(root)
	r.strategyResources(root)
}

// aliasRecord points --domain at the load balancer in --hosted-zone-id.
func (r renderer) aliasRecord(root *hclwrite.Body) {
	if r.p.HostedZoneID == "" {
		return
	}
	root.AppendNewline()
	rec := block(root, "resource", "aws_route53_record", "app")
	set(rec, "zone_id", r.p.HostedZoneID, "name", r.p.Domain, "type", "A")
	rec.AppendNewline()
	set(block(rec, "alias"),
		"name", expr("aws_lb.this.dns_name"),
		"zone_id", expr("aws_lb.this.zone_id"),
		"evaluate_target_health", true,
	)
}

// listener is the listener that forwards to the target group.
func (r renderer) listener() string {
	if r.p.HTTPS() {
		return "aws_lb_listener.https"
	}
	return "aws_lb_listener.http"
}

func (r renderer) service(root *hclwrite.Body) {
	hostPort := 0 // bridge: a dynamic host port
	if r.awsvpc() {
		hostPort = r.p.ContainerPort
	}
	td := block(root, "resource", "aws_ecs_task_definition", "app")
	set(td,
		"family", r.names().TaskFamily,
		"network_mode", r.p.NetworkMode,
		"requires_compatibilities", []string{"EC2"},
		"cpu", fmt.Sprint(r.p.CPU),
		"memory", fmt.Sprint(r.p.Memory),
		"execution_role_arn", expr("aws_iam_role.task_execution.arn"),
	)
	if r.p.TaskRole() {
		set(td, "task_role_arn", expr("aws_iam_role.task.arn"))
	}
	container := []kv{
		{"name", lit(r.p.ContainerName)},
		{"image", lit(r.p.Image)},
		{"essential", lit(true)},
		{"portMappings", tuple(object(
			kv{"containerPort", lit(r.p.ContainerPort)},
			kv{"hostPort", lit(hostPort)},
			kv{"protocol", lit("tcp")},
		))},
	}
	if len(r.p.Env) > 0 {
		vars := make([]hclwrite.Tokens, len(r.p.Env))
		for i, e := range r.p.Env {
			vars[i] = object(kv{"name", lit(e.Name)}, kv{"value", lit(e.Value)})
		}
		container = append(container, kv{"environment", tuple(vars...)})
	}
	if len(r.p.Secrets) > 0 {
		// ARNs only: ECS reads the values as the task starts.
		refs := make([]hclwrite.Tokens, len(r.p.Secrets))
		for i, sec := range r.p.Secrets {
			refs[i] = object(kv{"name", lit(sec.Name)}, kv{"valueFrom", lit(sec.ARN)})
		}
		container = append(container, kv{"secrets", tuple(refs...)})
	}
	container = append(container, kv{"logConfiguration", object(
		kv{"logDriver", lit("awslogs")},
		kv{"options", object(
			kv{"awslogs-group", expr("aws_cloudwatch_log_group.app.name")},
			kv{"awslogs-region", lit(r.p.Region)},
			kv{"awslogs-stream-prefix", lit(r.p.ContainerName)},
		)},
	)})
	set(td, "container_definitions", call("jsonencode", tuple(object(container...))))
	td.AppendNewline()
	set(block(td, "runtime_platform"), "cpu_architecture", "ARM64", "operating_system_family", "LINUX")
	root.AppendNewline()

	svc := block(root, "resource", "aws_ecs_service", "app")
	set(svc,
		"name", r.names().Service,
		"cluster", expr("aws_ecs_cluster.this.id"),
		"task_definition", expr("aws_ecs_task_definition.app.arn"),
		"desired_count", r.p.DesiredCount,
		"deployment_minimum_healthy_percent", 100,
		"deployment_maximum_percent", 200,
		"health_check_grace_period_seconds", 60,
		"enable_ecs_managed_tags", true,
		"propagate_tags", "SERVICE",
	)
	if r.p.EnableExec {
		set(svc, "enable_execute_command", true)
	}
	svc.AppendNewline()
	set(block(svc, "capacity_provider_strategy"),
		"capacity_provider", expr("aws_ecs_capacity_provider.this.name"),
		"weight", 1,
		"base", 0,
	)
	svc.AppendNewline()
	set(block(svc, "deployment_circuit_breaker"), "enable", true, "rollback", true)
	svc.AppendNewline()
	r.deploymentConfiguration(svc)
	lb := block(svc, "load_balancer")
	set(lb,
		"target_group_arn", expr("aws_lb_target_group.app.arn"),
		"container_name", r.p.ContainerName,
		"container_port", r.p.ContainerPort,
	)
	r.advancedConfiguration(lb)
	svc.AppendNewline()
	if r.awsvpc() {
		set(block(svc, "network_configuration"),
			"subnets", expr("local.subnet_ids"),
			"security_groups", expr("[aws_security_group.tasks.id]"),
			"assign_public_ip", false,
		)
		svc.AppendNewline()
	}
	// The target group must be attached to the load balancer before a
	// service can use it; the capacity provider association comes before
	// the service that uses it, and through it the instances and all they
	// need (see the Auto Scaling group). Tasks pull images and write logs
	// with the execution role: its policy is attached first and detached
	// only after the service and its tasks are gone (the aws_ecs_service
	// documentation warns of a service stuck in DRAINING otherwise).
	needs := []string{r.listener(), "aws_ecs_cluster_capacity_providers.this", "aws_iam_role_policy_attachment.task_execution"}
	// Running tasks read secrets with the execution role's inline policy
	// and make the app's calls (and ECS Exec) with the task role's.
	if len(r.p.Secrets) > 0 {
		needs = append(needs, "aws_iam_role_policy.task_execution_secrets")
	}
	if len(r.p.TaskRolePolicyARNs) > 0 {
		needs = append(needs, "aws_iam_role_policy_attachment.task")
	}
	if r.p.EnableExec {
		needs = append(needs, "aws_iam_role_policy.task_exec")
	}
	set(svc, "depends_on", refList(r.strategyDependsOn(needs)...))
	svc.AppendNewline()
	// deploy owns the task definition revision and, once the service exists,
	// its desired count (deploy --desired-count): a later provision must not
	// revert them (docs/ownership-of-settings.md). A strategy change needs a
	// forced new deployment anyway (and moto drops the strategy, which would
	// look like drift).
	ignore := "[task_definition, desired_count, capacity_provider_strategy]"
	if r.emulator() {
		// moto does not store these; without this a second plan shows drift.
		ignore = "[task_definition, desired_count, capacity_provider_strategy, availability_zone_rebalancing, enable_ecs_managed_tags, enable_execute_command, health_check_grace_period_seconds]"
	}
	set(block(svc, "lifecycle"), "ignore_changes", expr(r.strategyIgnore(ignore)))
	r.serviceAutoScaling(root)
}

// serviceAutoScaling: target tracking on the service's average CPU between
// --min-count and --max-count. The service already leaves desired_count to
// others (ignore_changes above), so provision never resets what auto
// scaling set.
func (r renderer) serviceAutoScaling(root *hclwrite.Body) {
	if !r.p.AutoScaling() {
		return
	}
	root.AppendNewline()
	tgt := block(root, "resource", "aws_appautoscaling_target", "service")
	set(tgt,
		"service_namespace", "ecs",
		"scalable_dimension", "ecs:service:DesiredCount",
		"resource_id", call("format", lit("service/%s/%s"), expr("aws_ecs_cluster.this.name"), expr("aws_ecs_service.app.name")),
		"min_capacity", r.p.MinCount,
		"max_capacity", r.p.MaxCount,
	)
	root.AppendNewline()
	pol := block(root, "resource", "aws_appautoscaling_policy", "cpu")
	set(pol,
		"name", r.named("cpu"),
		"policy_type", "TargetTrackingScaling",
		"service_namespace", expr("aws_appautoscaling_target.service.service_namespace"),
		"scalable_dimension", expr("aws_appautoscaling_target.service.scalable_dimension"),
		"resource_id", expr("aws_appautoscaling_target.service.resource_id"),
	)
	pol.AppendNewline()
	tt := block(pol, "target_tracking_scaling_policy_configuration")
	set(tt,
		"target_value", r.p.CPUTarget,
		"scale_out_cooldown", 60,
		"scale_in_cooldown", 300,
	)
	tt.AppendNewline()
	set(block(tt, "predefined_metric_specification"), "predefined_metric_type", "ECSServiceAverageCPUUtilization")
}

// url is the url output: https when the load balancer serves it, on
// --domain when given.
func (r renderer) url() hclwrite.Tokens {
	scheme := "http"
	if r.p.HTTPS() {
		scheme = "https"
	}
	if r.p.Domain != "" {
		return lit(scheme + "://" + r.p.Domain)
	}
	return call("format", lit(scheme+"://%s"), expr("aws_lb.this.dns_name"))
}

func (r renderer) outputs(root *hclwrite.Body) {
	outs := []struct {
		name, desc string
		val        hclwrite.Tokens
	}{
		{OutputStackName, "graviton-cd stack name", lit(r.p.Name)},
		{OutputRegion, "AWS region of the stack", lit(r.p.Region)},
		{OutputClusterName, "ECS cluster", expr("aws_ecs_cluster.this.name")},
		{OutputServiceName, "ECS service", expr("aws_ecs_service.app.name")},
		{OutputContainerName, "container that deploy updates", lit(r.p.ContainerName)},
		{OutputTaskFamily, "task definition family", expr("aws_ecs_task_definition.app.family")},
		{OutputALBDNSName, "DNS name of the load balancer", expr("aws_lb.this.dns_name")},
		{OutputURL, "URL of the service", r.url()},
		{OutputLogGroup, "CloudWatch Logs group of the tasks", expr("aws_cloudwatch_log_group.app.name")},
		{OutputStackID, "identity of the stack, on every resource as the " + config.StackIDTagKey + " tag", lit(r.p.StackID)},
		{OutputEphemeral, "true when the stack is throwaway (destroy --only-if-ephemeral removes it)", lit(fmt.Sprint(r.p.Ephemeral))},
	}
	for i, o := range outs {
		if i > 0 {
			root.AppendNewline()
		}
		set(block(root, "output", o.name), "description", o.desc, "value", o.val)
	}
}

// targetGroup renders a target group of the app's port and health check
// (the service's, and with a traffic-shifting strategy its alternate).
func (r renderer) targetGroup(root *hclwrite.Body, label, name string) {
	tg := block(root, "resource", "aws_lb_target_group", label)
	set(tg,
		"name", name,
		"port", r.p.ContainerPort,
		"protocol", "HTTP",
		"target_type", r.p.TargetType(),
		"vpc_id", expr("local.vpc_id"),
		// The 300 s default would add five minutes to every deploy.
		"deregistration_delay", 15,
	)
	tg.AppendNewline()
	set(block(tg, "health_check"),
		"path", r.p.HealthCheckPath,
		"matcher", "200-399",
		"interval", 10,
		"timeout", 5,
		"healthy_threshold", 2,
		"unhealthy_threshold", 3,
	)
	tg.AppendNewline()
	// A new port, target type or VPC replaces the group. Its name carries a
	// hash of those, so the new group is created, the listener and service
	// move to it, and only then is the old one (still in use) destroyed.
	set(block(tg, "lifecycle"), "create_before_destroy", true)
}
