package stack

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// fakeECS holds task definitions with their tags.
type fakeECS struct {
	serviceAPI
	tags         map[string][]ecstypes.Tag // ARN → tags, ACTIVE revisions
	deregistered []string
}

func (f *fakeECS) ListTaskDefinitions(_ context.Context, in *ecs.ListTaskDefinitionsInput, _ ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	var arns []string
	for a := range f.tags {
		arns = append(arns, a)
	}
	slices.Sort(arns)
	return &ecs.ListTaskDefinitionsOutput{TaskDefinitionArns: arns}, nil
}

func (f *fakeECS) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return &ecs.DescribeTaskDefinitionOutput{Tags: f.tags[aws.ToString(in.TaskDefinition)]}, nil
}

func (f *fakeECS) DeregisterTaskDefinition(_ context.Context, in *ecs.DeregisterTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	f.deregistered = append(f.deregistered, aws.ToString(in.TaskDefinition))
	return &ecs.DeregisterTaskDefinitionOutput{}, nil
}

func tags(kv ...string) []ecstypes.Tag {
	var ts []ecstypes.Tag
	for i := 0; i < len(kv); i += 2 {
		ts = append(ts, ecstypes.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return ts
}

// TestDeregisterOnlyProvablyOwnedRevisions: a revision of the family is
// deregistered only when it carries the stack's identity or the destroyed
// service ran it; the name tag counts only for a stack without identity.
func TestDeregisterOnlyProvablyOwnedRevisions(t *testing.T) {
	const arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/demo:"
	f := &fakeECS{tags: map[string][]ecstypes.Tag{
		arn + "1": tags(config.StackTagKey, "demo", config.StackIDTagKey, "aaaa"), // ours
		arn + "2": tags(config.StackTagKey, "demo", config.StackIDTagKey, "bbbb"), // another life of the name
		arn + "3": tags(config.StackTagKey, "demo"),                               // no identity
		arn + "4": nil,                                                            // the service ran it
	}}
	got, err := deregisterTaskDefinitions(t.Context(), f, "demo", "demo", "aaaa", []string{arn + "4"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{arn + "1", arn + "4"}; !slices.Equal(got, want) {
		t.Errorf("deregistered %v, want %v", got, want)
	}

	f.deregistered = nil
	got, _ = deregisterTaskDefinitions(t.Context(), f, "demo", "demo", "", nil)
	if want := []string{arn + "1", arn + "2", arn + "3"}; !slices.Equal(got, want) {
		t.Errorf("without an identity: deregistered %v, want %v (the name tag)", got, want)
	}
}

// fakeEC2 answers DescribeInstances by filter and records terminations.
type fakeEC2 struct {
	inputs     []*ec2.DescribeInstancesInput
	answer     map[string][]string // first filter name → instance IDs
	terminated []string
}

func (f *fakeEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.inputs = append(f.inputs, in)
	var is []ec2types.Instance
	for _, id := range f.answer[aws.ToString(in.Filters[0].Name)] {
		is = append(is, ec2types.Instance{InstanceId: aws.String(id)})
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: is}}}, nil
}

func (f *fakeEC2) TerminateInstances(_ context.Context, in *ec2.TerminateInstancesInput, _ ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	f.terminated = append(f.terminated, in.InstanceIds...)
	return &ec2.TerminateInstancesOutput{}, nil
}

func TestTerminateGroupInstances(t *testing.T) {
	f := &fakeEC2{answer: map[string][]string{"instance-id": {"i-1", "i-2"}, "tag:" + config.StackIDTagKey: {"i-2", "i-3"}}}
	got, err := terminateGroupInstances(t.Context(), f, "demo", []string{"i-1", "i-2", "i-gone"}, "aaaa")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"i-1", "i-2", "i-3"}; !slices.Equal(got, want) || !slices.Equal(f.terminated, want) {
		t.Errorf("terminated %v (%v), want %v", got, f.terminated, want)
	}
	// The identity query is tied to the group's name too.
	if fs := f.inputs[1].Filters; len(fs) != 3 || aws.ToString(fs[1].Name) != "tag:aws:autoscaling:groupName" || fs[1].Values[0] != "demo" {
		t.Errorf("identity query filters %+v", fs)
	}

	// No members and no identity: nothing is looked up, nothing terminated.
	f = &fakeEC2{}
	got, err = terminateGroupInstances(t.Context(), f, "demo", nil, "")
	if err != nil || len(got) != 0 || len(f.inputs) != 0 || len(f.terminated) != 0 {
		t.Errorf("terminated %v, queries %d, err %v", got, len(f.inputs), err)
	}
}

func TestOwnedGroupAndService(t *testing.T) {
	raw := []byte(`{"version":4,"resources":[
	  {"mode":"managed","type":"aws_autoscaling_group","name":"this","instances":[{"attributes":{"name":"demo"}}]},
	  {"mode":"managed","type":"aws_ecs_service","name":"this","instances":[{"attributes":{"name":"demo","cluster":"arn:aws:ecs:us-east-1:1:cluster/demo"}}]},
	  {"mode":"managed","type":"aws_ecs_task_definition","name":"app","instances":[{"attributes":{"family":"demo"}}]}
	]}`)
	rs, err := managedResources(raw)
	if err != nil {
		t.Fatal(err)
	}
	asg, svc := ownedGroupAndService(rs)
	if asg != "demo" || svc != (ownedService{name: "demo", cluster: "arn:aws:ecs:us-east-1:1:cluster/demo", family: "demo"}) {
		t.Errorf("asg %q, service %+v", asg, svc)
	}
	if asg, svc := ownedGroupAndService(nil); asg != "" || svc.name != "" {
		t.Error("an empty state owns a group or service")
	}
}
