package awsx

// Why these wrappers exist: urfave/cli renders help with text/template, which
// looks methods up by name at run time, so the linker keeps every exported
// method of every type that may reach an interface, and of every type such a
// type refers to. Handing *ec2.Client to a narrow interface therefore linked
// all of EC2's ~800 operations, and likewise for every other service: 52 MiB
// for linux/arm64 against 22 MiB now. Wrapping the client in a struct field
// did not help, since reflection reaches a field's type. Each wrapper below
// holds method values instead: a closure hides its receiver's type from
// reflection, so the linker keeps only the operations graviton-cd calls. Add
// an operation here when a package's interface gains one;
// TestBinaryLinksOnlyCalledOperations in orb/size_test.go guards the size.

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// op is one SDK operation bound to its client: a method value such as
// client.DescribeVpcs.
type op[In, Out, Options any] func(context.Context, In, ...func(Options)) (Out, error)

// ECS is the ECS client cut down to the operations deploy, destroy and the
// leftover check call.
type ECS struct {
	describeServices          op[*ecs.DescribeServicesInput, *ecs.DescribeServicesOutput, *ecs.Options]
	describeTaskDefinition    op[*ecs.DescribeTaskDefinitionInput, *ecs.DescribeTaskDefinitionOutput, *ecs.Options]
	registerTaskDefinition    op[*ecs.RegisterTaskDefinitionInput, *ecs.RegisterTaskDefinitionOutput, *ecs.Options]
	deregisterTaskDefinition  op[*ecs.DeregisterTaskDefinitionInput, *ecs.DeregisterTaskDefinitionOutput, *ecs.Options]
	listTaskDefinitions       op[*ecs.ListTaskDefinitionsInput, *ecs.ListTaskDefinitionsOutput, *ecs.Options]
	updateService             op[*ecs.UpdateServiceInput, *ecs.UpdateServiceOutput, *ecs.Options]
	listTasks                 op[*ecs.ListTasksInput, *ecs.ListTasksOutput, *ecs.Options]
	describeTasks             op[*ecs.DescribeTasksInput, *ecs.DescribeTasksOutput, *ecs.Options]
	listClusters              op[*ecs.ListClustersInput, *ecs.ListClustersOutput, *ecs.Options]
	describeClusters          op[*ecs.DescribeClustersInput, *ecs.DescribeClustersOutput, *ecs.Options]
	describeCapacityProviders op[*ecs.DescribeCapacityProvidersInput, *ecs.DescribeCapacityProvidersOutput, *ecs.Options]
	runTask                   op[*ecs.RunTaskInput, *ecs.RunTaskOutput, *ecs.Options]
	stopTask                  op[*ecs.StopTaskInput, *ecs.StopTaskOutput, *ecs.Options]
}

// NewECS returns the ECS operations of a client made from cfg.
func NewECS(cfg aws.Config, optFns ...func(*ecs.Options)) ECS {
	c := ecs.NewFromConfig(cfg, optFns...)
	return ECS{
		describeServices:          c.DescribeServices,
		describeTaskDefinition:    c.DescribeTaskDefinition,
		registerTaskDefinition:    c.RegisterTaskDefinition,
		deregisterTaskDefinition:  c.DeregisterTaskDefinition,
		listTaskDefinitions:       c.ListTaskDefinitions,
		updateService:             c.UpdateService,
		listTasks:                 c.ListTasks,
		describeTasks:             c.DescribeTasks,
		listClusters:              c.ListClusters,
		describeClusters:          c.DescribeClusters,
		describeCapacityProviders: c.DescribeCapacityProviders,
		runTask:                   c.RunTask,
		stopTask:                  c.StopTask,
	}
}

// DescribeServices calls ecs:DescribeServices.
func (x ECS) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return x.describeServices(ctx, in, o...)
}

// DescribeTaskDefinition calls ecs:DescribeTaskDefinition.
func (x ECS) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return x.describeTaskDefinition(ctx, in, o...)
}

// RegisterTaskDefinition calls ecs:RegisterTaskDefinition.
func (x ECS) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	return x.registerTaskDefinition(ctx, in, o...)
}

// DeregisterTaskDefinition calls ecs:DeregisterTaskDefinition.
func (x ECS) DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	return x.deregisterTaskDefinition(ctx, in, o...)
}

// ListTaskDefinitions calls ecs:ListTaskDefinitions.
func (x ECS) ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, o ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	return x.listTaskDefinitions(ctx, in, o...)
}

// UpdateService calls ecs:UpdateService.
func (x ECS) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, o ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	return x.updateService(ctx, in, o...)
}

// ListTasks calls ecs:ListTasks.
func (x ECS) ListTasks(ctx context.Context, in *ecs.ListTasksInput, o ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	return x.listTasks(ctx, in, o...)
}

// DescribeTasks calls ecs:DescribeTasks.
func (x ECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, o ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return x.describeTasks(ctx, in, o...)
}

// ListClusters calls ecs:ListClusters.
func (x ECS) ListClusters(ctx context.Context, in *ecs.ListClustersInput, o ...func(*ecs.Options)) (*ecs.ListClustersOutput, error) {
	return x.listClusters(ctx, in, o...)
}

// DescribeClusters calls ecs:DescribeClusters.
func (x ECS) DescribeClusters(ctx context.Context, in *ecs.DescribeClustersInput, o ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error) {
	return x.describeClusters(ctx, in, o...)
}

// DescribeCapacityProviders calls ecs:DescribeCapacityProviders.
func (x ECS) DescribeCapacityProviders(ctx context.Context, in *ecs.DescribeCapacityProvidersInput, o ...func(*ecs.Options)) (*ecs.DescribeCapacityProvidersOutput, error) {
	return x.describeCapacityProviders(ctx, in, o...)
}

// RunTask calls ecs:RunTask.
func (x ECS) RunTask(ctx context.Context, in *ecs.RunTaskInput, o ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	return x.runTask(ctx, in, o...)
}

// StopTask calls ecs:StopTask.
func (x ECS) StopTask(ctx context.Context, in *ecs.StopTaskInput, o ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	return x.stopTask(ctx, in, o...)
}

// EC2 is the EC2 client cut down to the leftover check's lookups and the
// termination of instances a deleted Auto Scaling group left running.
type EC2 struct {
	describeVpcs             op[*ec2.DescribeVpcsInput, *ec2.DescribeVpcsOutput, *ec2.Options]
	describeSubnets          op[*ec2.DescribeSubnetsInput, *ec2.DescribeSubnetsOutput, *ec2.Options]
	describeSecurityGroups   op[*ec2.DescribeSecurityGroupsInput, *ec2.DescribeSecurityGroupsOutput, *ec2.Options]
	describeInternetGateways op[*ec2.DescribeInternetGatewaysInput, *ec2.DescribeInternetGatewaysOutput, *ec2.Options]
	describeRouteTables      op[*ec2.DescribeRouteTablesInput, *ec2.DescribeRouteTablesOutput, *ec2.Options]
	describeLaunchTemplates  op[*ec2.DescribeLaunchTemplatesInput, *ec2.DescribeLaunchTemplatesOutput, *ec2.Options]
	describeInstances        op[*ec2.DescribeInstancesInput, *ec2.DescribeInstancesOutput, *ec2.Options]
	describeNatGateways      op[*ec2.DescribeNatGatewaysInput, *ec2.DescribeNatGatewaysOutput, *ec2.Options]
	describeAddresses        op[*ec2.DescribeAddressesInput, *ec2.DescribeAddressesOutput, *ec2.Options]
	terminateInstances       op[*ec2.TerminateInstancesInput, *ec2.TerminateInstancesOutput, *ec2.Options]
}

// NewEC2 returns the EC2 operations of a client made from cfg.
func NewEC2(cfg aws.Config, optFns ...func(*ec2.Options)) EC2 {
	c := ec2.NewFromConfig(cfg, optFns...)
	return EC2{
		describeVpcs:             c.DescribeVpcs,
		describeSubnets:          c.DescribeSubnets,
		describeSecurityGroups:   c.DescribeSecurityGroups,
		describeInternetGateways: c.DescribeInternetGateways,
		describeRouteTables:      c.DescribeRouteTables,
		describeLaunchTemplates:  c.DescribeLaunchTemplates,
		describeInstances:        c.DescribeInstances,
		describeNatGateways:      c.DescribeNatGateways,
		describeAddresses:        c.DescribeAddresses,
		terminateInstances:       c.TerminateInstances,
	}
}

// DescribeVpcs calls ec2:DescribeVpcs.
func (x EC2) DescribeVpcs(ctx context.Context, in *ec2.DescribeVpcsInput, o ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	return x.describeVpcs(ctx, in, o...)
}

// DescribeSubnets calls ec2:DescribeSubnets.
func (x EC2) DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, o ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	return x.describeSubnets(ctx, in, o...)
}

// DescribeSecurityGroups calls ec2:DescribeSecurityGroups.
func (x EC2) DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, o ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return x.describeSecurityGroups(ctx, in, o...)
}

// DescribeInternetGateways calls ec2:DescribeInternetGateways.
func (x EC2) DescribeInternetGateways(ctx context.Context, in *ec2.DescribeInternetGatewaysInput, o ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	return x.describeInternetGateways(ctx, in, o...)
}

// DescribeRouteTables calls ec2:DescribeRouteTables.
func (x EC2) DescribeRouteTables(ctx context.Context, in *ec2.DescribeRouteTablesInput, o ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return x.describeRouteTables(ctx, in, o...)
}

// DescribeLaunchTemplates calls ec2:DescribeLaunchTemplates.
func (x EC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, o ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return x.describeLaunchTemplates(ctx, in, o...)
}

// DescribeInstances calls ec2:DescribeInstances.
func (x EC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, o ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return x.describeInstances(ctx, in, o...)
}

// DescribeNatGateways calls ec2:DescribeNatGateways.
func (x EC2) DescribeNatGateways(ctx context.Context, in *ec2.DescribeNatGatewaysInput, o ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	return x.describeNatGateways(ctx, in, o...)
}

// DescribeAddresses calls ec2:DescribeAddresses.
func (x EC2) DescribeAddresses(ctx context.Context, in *ec2.DescribeAddressesInput, o ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	return x.describeAddresses(ctx, in, o...)
}

// TerminateInstances calls ec2:TerminateInstances.
func (x EC2) TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, o ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	return x.terminateInstances(ctx, in, o...)
}

// AutoScaling is the Auto Scaling client cut down to the leftover check's one
// lookup.
type AutoScaling struct {
	describeAutoScalingGroups op[*autoscaling.DescribeAutoScalingGroupsInput, *autoscaling.DescribeAutoScalingGroupsOutput, *autoscaling.Options]
}

// NewAutoScaling returns the Auto Scaling operations of a client made from cfg.
func NewAutoScaling(cfg aws.Config, optFns ...func(*autoscaling.Options)) AutoScaling {
	c := autoscaling.NewFromConfig(cfg, optFns...)
	return AutoScaling{
		describeAutoScalingGroups: c.DescribeAutoScalingGroups,
	}
}

// DescribeAutoScalingGroups calls autoscaling:DescribeAutoScalingGroups.
func (x AutoScaling) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, o ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return x.describeAutoScalingGroups(ctx, in, o...)
}

// ELB is the Elastic Load Balancing v2 client cut down to the leftover check's
// lookups and status's target health.
type ELB struct {
	describeLoadBalancers op[*elbv2.DescribeLoadBalancersInput, *elbv2.DescribeLoadBalancersOutput, *elbv2.Options]
	describeTargetGroups  op[*elbv2.DescribeTargetGroupsInput, *elbv2.DescribeTargetGroupsOutput, *elbv2.Options]
	describeTags          op[*elbv2.DescribeTagsInput, *elbv2.DescribeTagsOutput, *elbv2.Options]
	describeTargetHealth  op[*elbv2.DescribeTargetHealthInput, *elbv2.DescribeTargetHealthOutput, *elbv2.Options]
	describeListeners     op[*elbv2.DescribeListenersInput, *elbv2.DescribeListenersOutput, *elbv2.Options]
}

// NewELB returns the ELBv2 operations of a client made from cfg.
func NewELB(cfg aws.Config, optFns ...func(*elbv2.Options)) ELB {
	c := elbv2.NewFromConfig(cfg, optFns...)
	return ELB{
		describeLoadBalancers: c.DescribeLoadBalancers,
		describeTargetGroups:  c.DescribeTargetGroups,
		describeTags:          c.DescribeTags,
		describeTargetHealth:  c.DescribeTargetHealth,
		describeListeners:     c.DescribeListeners,
	}
}

// DescribeLoadBalancers calls elasticloadbalancing:DescribeLoadBalancers.
func (x ELB) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, o ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	return x.describeLoadBalancers(ctx, in, o...)
}

// DescribeTargetGroups calls elasticloadbalancing:DescribeTargetGroups.
func (x ELB) DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, o ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error) {
	return x.describeTargetGroups(ctx, in, o...)
}

// DescribeTags calls elasticloadbalancing:DescribeTags.
func (x ELB) DescribeTags(ctx context.Context, in *elbv2.DescribeTagsInput, o ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error) {
	return x.describeTags(ctx, in, o...)
}

// DescribeTargetHealth calls elasticloadbalancing:DescribeTargetHealth.
func (x ELB) DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, o ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error) {
	return x.describeTargetHealth(ctx, in, o...)
}

// DescribeListeners calls elasticloadbalancing:DescribeListeners.
func (x ELB) DescribeListeners(ctx context.Context, in *elbv2.DescribeListenersInput, o ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	return x.describeListeners(ctx, in, o...)
}

// IAM is the IAM client cut down to the leftover check's lookups and
// doctor's permission check.
type IAM struct {
	listRoles               op[*iam.ListRolesInput, *iam.ListRolesOutput, *iam.Options]
	listRoleTags            op[*iam.ListRoleTagsInput, *iam.ListRoleTagsOutput, *iam.Options]
	listInstanceProfiles    op[*iam.ListInstanceProfilesInput, *iam.ListInstanceProfilesOutput, *iam.Options]
	getInstanceProfile      op[*iam.GetInstanceProfileInput, *iam.GetInstanceProfileOutput, *iam.Options]
	getRole                 op[*iam.GetRoleInput, *iam.GetRoleOutput, *iam.Options]
	simulatePrincipalPolicy op[*iam.SimulatePrincipalPolicyInput, *iam.SimulatePrincipalPolicyOutput, *iam.Options]
}

// NewIAM returns the IAM operations of a client made from cfg.
func NewIAM(cfg aws.Config, optFns ...func(*iam.Options)) IAM {
	c := iam.NewFromConfig(cfg, optFns...)
	return IAM{
		listRoles:               c.ListRoles,
		listRoleTags:            c.ListRoleTags,
		listInstanceProfiles:    c.ListInstanceProfiles,
		getInstanceProfile:      c.GetInstanceProfile,
		getRole:                 c.GetRole,
		simulatePrincipalPolicy: c.SimulatePrincipalPolicy,
	}
}

// GetRole calls iam:GetRole.
func (x IAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return x.getRole(ctx, in, o...)
}

// SimulatePrincipalPolicy calls iam:SimulatePrincipalPolicy.
func (x IAM) SimulatePrincipalPolicy(ctx context.Context, in *iam.SimulatePrincipalPolicyInput, o ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error) {
	return x.simulatePrincipalPolicy(ctx, in, o...)
}

// ListRoles calls iam:ListRoles.
func (x IAM) ListRoles(ctx context.Context, in *iam.ListRolesInput, o ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	return x.listRoles(ctx, in, o...)
}

// ListRoleTags calls iam:ListRoleTags.
func (x IAM) ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput, o ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error) {
	return x.listRoleTags(ctx, in, o...)
}

// ListInstanceProfiles calls iam:ListInstanceProfiles.
func (x IAM) ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, o ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error) {
	return x.listInstanceProfiles(ctx, in, o...)
}

// GetInstanceProfile calls iam:GetInstanceProfile.
func (x IAM) GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, o ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	return x.getInstanceProfile(ctx, in, o...)
}

// Logs is the CloudWatch Logs client cut down to reading a failed task's log
// and the leftover check's lookup.
type Logs struct {
	getLogEvents        op[*cloudwatchlogs.GetLogEventsInput, *cloudwatchlogs.GetLogEventsOutput, *cloudwatchlogs.Options]
	describeLogGroups   op[*cloudwatchlogs.DescribeLogGroupsInput, *cloudwatchlogs.DescribeLogGroupsOutput, *cloudwatchlogs.Options]
	listTagsForResource op[*cloudwatchlogs.ListTagsForResourceInput, *cloudwatchlogs.ListTagsForResourceOutput, *cloudwatchlogs.Options]
	filterLogEvents     op[*cloudwatchlogs.FilterLogEventsInput, *cloudwatchlogs.FilterLogEventsOutput, *cloudwatchlogs.Options]
}

// NewLogs returns the CloudWatch Logs operations of a client made from cfg.
func NewLogs(cfg aws.Config, optFns ...func(*cloudwatchlogs.Options)) Logs {
	c := cloudwatchlogs.NewFromConfig(cfg, optFns...)
	return Logs{
		getLogEvents:        c.GetLogEvents,
		describeLogGroups:   c.DescribeLogGroups,
		listTagsForResource: c.ListTagsForResource,
		filterLogEvents:     c.FilterLogEvents,
	}
}

// GetLogEvents calls logs:GetLogEvents.
func (x Logs) GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	return x.getLogEvents(ctx, in, o...)
}

// DescribeLogGroups calls logs:DescribeLogGroups.
func (x Logs) DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return x.describeLogGroups(ctx, in, o...)
}

// ListTagsForResource calls logs:ListTagsForResource.
func (x Logs) ListTagsForResource(ctx context.Context, in *cloudwatchlogs.ListTagsForResourceInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	return x.listTagsForResource(ctx, in, o...)
}

// FilterLogEvents calls logs:FilterLogEvents (graviton-cd logs, run-task).
func (x Logs) FilterLogEvents(ctx context.Context, in *cloudwatchlogs.FilterLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	return x.filterLogEvents(ctx, in, o...)
}

// ECR is the ECR client cut down to fetching registry credentials.
type ECR struct {
	getAuthorizationToken op[*ecr.GetAuthorizationTokenInput, *ecr.GetAuthorizationTokenOutput, *ecr.Options]
}

// NewECR returns the ECR operations of a client made from cfg.
func NewECR(cfg aws.Config, optFns ...func(*ecr.Options)) ECR {
	c := ecr.NewFromConfig(cfg, optFns...)
	return ECR{
		getAuthorizationToken: c.GetAuthorizationToken,
	}
}

// GetAuthorizationToken calls ecr:GetAuthorizationToken.
func (x ECR) GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, o ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	return x.getAuthorizationToken(ctx, in, o...)
}

// Tagging is the Resource Groups Tagging API client cut down to the leftover
// check's one lookup.
type Tagging struct {
	getResources op[*tagging.GetResourcesInput, *tagging.GetResourcesOutput, *tagging.Options]
}

// NewTagging returns the tagging operations of a client made from cfg.
func NewTagging(cfg aws.Config, optFns ...func(*tagging.Options)) Tagging {
	c := tagging.NewFromConfig(cfg, optFns...)
	return Tagging{
		getResources: c.GetResources,
	}
}

// GetResources calls tag:GetResources.
func (x Tagging) GetResources(ctx context.Context, in *tagging.GetResourcesInput, o ...func(*tagging.Options)) (*tagging.GetResourcesOutput, error) {
	return x.getResources(ctx, in, o...)
}

// S3 is the S3 client cut down to the state bucket's bootstrap and reading
// and writing a stack's state and record.
type S3 struct {
	headBucket                      op[*s3.HeadBucketInput, *s3.HeadBucketOutput, *s3.Options]
	createBucket                    op[*s3.CreateBucketInput, *s3.CreateBucketOutput, *s3.Options]
	getBucketVersioning             op[*s3.GetBucketVersioningInput, *s3.GetBucketVersioningOutput, *s3.Options]
	putBucketVersioning             op[*s3.PutBucketVersioningInput, *s3.PutBucketVersioningOutput, *s3.Options]
	putBucketEncryption             op[*s3.PutBucketEncryptionInput, *s3.PutBucketEncryptionOutput, *s3.Options]
	putPublicAccessBlock            op[*s3.PutPublicAccessBlockInput, *s3.PutPublicAccessBlockOutput, *s3.Options]
	putBucketPolicy                 op[*s3.PutBucketPolicyInput, *s3.PutBucketPolicyOutput, *s3.Options]
	putBucketLifecycleConfiguration op[*s3.PutBucketLifecycleConfigurationInput, *s3.PutBucketLifecycleConfigurationOutput, *s3.Options]
	getObject                       op[*s3.GetObjectInput, *s3.GetObjectOutput, *s3.Options]
	putObject                       op[*s3.PutObjectInput, *s3.PutObjectOutput, *s3.Options]
}

// NewS3 returns the S3 operations of a client made from cfg. With a custom
// endpoint (a local emulator) it addresses buckets by path, as moto serves them.
func NewS3(cfg aws.Config, optFns ...func(*s3.Options)) S3 {
	c := s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil }}, optFns...)...)
	return S3{
		headBucket:                      c.HeadBucket,
		createBucket:                    c.CreateBucket,
		getBucketVersioning:             c.GetBucketVersioning,
		putBucketVersioning:             c.PutBucketVersioning,
		putBucketEncryption:             c.PutBucketEncryption,
		putPublicAccessBlock:            c.PutPublicAccessBlock,
		putBucketPolicy:                 c.PutBucketPolicy,
		putBucketLifecycleConfiguration: c.PutBucketLifecycleConfiguration,
		getObject:                       c.GetObject,
		putObject:                       c.PutObject,
	}
}

// HeadBucket calls s3:ListBucket.
func (x S3) HeadBucket(ctx context.Context, in *s3.HeadBucketInput, o ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	return x.headBucket(ctx, in, o...)
}

// CreateBucket calls s3:CreateBucket.
func (x S3) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, o ...func(*s3.Options)) (*s3.CreateBucketOutput, error) {
	return x.createBucket(ctx, in, o...)
}

// GetBucketVersioning calls s3:GetBucketVersioning.
func (x S3) GetBucketVersioning(ctx context.Context, in *s3.GetBucketVersioningInput, o ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return x.getBucketVersioning(ctx, in, o...)
}

// PutBucketVersioning calls s3:PutBucketVersioning.
func (x S3) PutBucketVersioning(ctx context.Context, in *s3.PutBucketVersioningInput, o ...func(*s3.Options)) (*s3.PutBucketVersioningOutput, error) {
	return x.putBucketVersioning(ctx, in, o...)
}

// PutBucketEncryption calls s3:PutEncryptionConfiguration.
func (x S3) PutBucketEncryption(ctx context.Context, in *s3.PutBucketEncryptionInput, o ...func(*s3.Options)) (*s3.PutBucketEncryptionOutput, error) {
	return x.putBucketEncryption(ctx, in, o...)
}

// PutPublicAccessBlock calls s3:PutBucketPublicAccessBlock.
func (x S3) PutPublicAccessBlock(ctx context.Context, in *s3.PutPublicAccessBlockInput, o ...func(*s3.Options)) (*s3.PutPublicAccessBlockOutput, error) {
	return x.putPublicAccessBlock(ctx, in, o...)
}

// PutBucketPolicy calls s3:PutBucketPolicy.
func (x S3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, o ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	return x.putBucketPolicy(ctx, in, o...)
}

// PutBucketLifecycleConfiguration calls s3:PutLifecycleConfiguration.
func (x S3) PutBucketLifecycleConfiguration(ctx context.Context, in *s3.PutBucketLifecycleConfigurationInput, o ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	return x.putBucketLifecycleConfiguration(ctx, in, o...)
}

// GetObject calls s3:GetObject.
func (x S3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return x.getObject(ctx, in, o...)
}

// PutObject calls s3:PutObject.
func (x S3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return x.putObject(ctx, in, o...)
}

// STS is the STS client cut down to learning the caller's account.
type STS struct {
	getCallerIdentity op[*sts.GetCallerIdentityInput, *sts.GetCallerIdentityOutput, *sts.Options]
}

// NewSTS returns the STS operations of a client made from cfg.
func NewSTS(cfg aws.Config, optFns ...func(*sts.Options)) STS {
	c := sts.NewFromConfig(cfg, optFns...)
	return STS{
		getCallerIdentity: c.GetCallerIdentity,
	}
}

// GetCallerIdentity calls sts:GetCallerIdentity.
func (x STS) GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, o ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return x.getCallerIdentity(ctx, in, o...)
}
