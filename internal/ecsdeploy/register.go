package ecsdeploy

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// describeTaskDefinition returns a task definition with its tags.
func (d *Deployer) describeTaskDefinition(ctx context.Context, deadline time.Time, arn string) (*types.TaskDefinition, []types.Tag, error) {
	out, err := callWithRetry(ctx, d, deadline, "describe task definition", func(ctx context.Context) (*ecs.DescribeTaskDefinitionOutput, error) {
		return d.lookupTaskDefinition(ctx, arn)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("describe task definition %s: %w (the role needs ecs:DescribeTaskDefinition)", arn, err)
	}
	if out.TaskDefinition == nil {
		return nil, nil, fmt.Errorf("describe task definition %s: empty answer from ECS; try again", arn)
	}
	return out.TaskDefinition, out.Tags, nil
}

// lookupTaskDefinition is one DescribeTaskDefinition, with tags, of an ARN or
// a family (whose latest ACTIVE revision ECS returns).
func (d *Deployer) lookupTaskDefinition(ctx context.Context, ref string) (*ecs.DescribeTaskDefinitionOutput, error) {
	return withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.DescribeTaskDefinitionOutput, error) {
		return d.ECS.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: aws.String(ref),
			Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
		}, withoutSDKRetries)
	})
}

// ChooseContainer returns the name of the container that gets the new image:
// name if given and present, else the only container. Anything else is a
// usage error that lists the containers there are.
func ChooseContainer(td *types.TaskDefinition, name string) (string, error) {
	var names []string
	for _, c := range td.ContainerDefinitions {
		names = append(names, aws.ToString(c.Name))
	}
	if name != "" {
		for _, n := range names {
			if n == name {
				return n, nil
			}
		}
		return "", config.Usagef("container", "task definition %s has no container %q: use one of %s", aws.ToString(td.TaskDefinitionArn), name, strings.Join(names, ", "))
	}
	if len(names) == 1 {
		return names[0], nil
	}
	return "", config.Usagef("container", "task definition %s has %d containers (%s): pass --container to say which one gets the image", aws.ToString(td.TaskDefinitionArn), len(names), strings.Join(names, ", "))
}

// ContainerSettings are the container's configuration as the stack's
// settings give it (graviton-cd.hcl or deploy's flags). A deploy given them
// registers the new revision with them; a field left unset carries the
// current revision's value over.
type ContainerSettings struct {
	// Env replaces the container's environment when not nil (empty: none).
	Env []config.EnvVar
	// Secrets replace the container's secrets when not nil (empty: none).
	// Only ARNs: the values stay in SSM or Secrets Manager. The execution
	// role must be allowed to read them (provision --secret grants that).
	Secrets []config.Secret
	CPU     int // task CPU units; 0 keeps them
	Memory  int // task memory in MiB; 0 keeps it
	// Port is the port the container listens on; 0 keeps it. The load
	// balancer's target group and the service's mapping are provision's:
	// a different port is refused (provision --container-port moves them).
	Port int
}

// empty reports settings that change nothing.
func (s *ContainerSettings) empty() bool {
	return s == nil || s.Env == nil && s.Secrets == nil && s.CPU == 0 && s.Memory == 0 && s.Port == 0
}

// Validate checks the values a revision takes from the settings.
func (s *ContainerSettings) Validate() error {
	switch {
	case s == nil:
		return nil
	case s.CPU != 0 && (s.CPU < 128 || s.CPU > 16384):
		return config.Usagef("cpu", "%d CPU units is out of range: use 128-16384, where 1024 is one vCPU", s.CPU)
	case s.Memory != 0 && (s.Memory < 128 || s.Memory > 122880):
		return config.Usagef("memory", "%d MiB is out of range: use 128-122880 MiB", s.Memory)
	case s.Port < 0 || s.Port > 65535:
		return config.Usagef("container-port", "%d is not a TCP port: use 1-65535", s.Port)
	}
	return nil
}

// NewRevisionInput builds the registration of a new revision of td in which
// only container's image changes. Everything else is carried over, notably
// runtimePlatform: dropping it would silently turn an ARM64 service into
// X86_64. Tags with the reserved aws: prefix are left out; ECS owns those.
func NewRevisionInput(td *types.TaskDefinition, tags []types.Tag, container, image string) (*ecs.RegisterTaskDefinitionInput, error) {
	return NewRevisionInputWith(td, tags, container, image, nil)
}

// NewRevisionInputWith is NewRevisionInput with the container's environment,
// secrets, port and the task's cpu and memory taken from settings where
// they give them: a configuration change ships through the same deployment
// as the image.
func NewRevisionInputWith(td *types.TaskDefinition, tags []types.Tag, container, image string, settings *ContainerSettings) (*ecs.RegisterTaskDefinitionInput, error) {
	defs := make([]types.ContainerDefinition, len(td.ContainerDefinitions))
	copy(defs, td.ContainerDefinitions)
	found := false
	for i := range defs {
		if aws.ToString(defs[i].Name) == container {
			defs[i].Image = aws.String(image)
			if err := applySettings(&defs[i], td, settings); err != nil {
				return nil, err
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("register task definition: no container %q in %s: pass --container with one of its containers", container, aws.ToString(td.TaskDefinitionArn))
	}
	cpu, memory := td.Cpu, td.Memory
	if !settings.empty() && settings.CPU != 0 {
		cpu = aws.String(strconv.Itoa(settings.CPU))
	}
	if !settings.empty() && settings.Memory != 0 {
		memory = aws.String(strconv.Itoa(settings.Memory))
	}
	var keep []types.Tag
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(aws.ToString(t.Key)), "aws:") {
			keep = append(keep, t)
		}
	}
	return &ecs.RegisterTaskDefinitionInput{
		Family:                        td.Family,
		ContainerDefinitions:          defs,
		Cpu:                           cpu,
		Memory:                        memory,
		EnableFaultInjection:          td.EnableFaultInjection,
		EphemeralStorage:              td.EphemeralStorage,
		ExecutionRoleArn:              td.ExecutionRoleArn,
		TaskRoleArn:                   td.TaskRoleArn,
		InferenceAccelerators:         td.InferenceAccelerators,
		IpcMode:                       td.IpcMode,
		PidMode:                       td.PidMode,
		NetworkMode:                   td.NetworkMode,
		PlacementConstraints:          td.PlacementConstraints,
		ProxyConfiguration:            td.ProxyConfiguration,
		RequiresCompatibilities:       td.RequiresCompatibilities,
		RuntimePlatform:               td.RuntimePlatform,
		TrustedExecutionConfiguration: td.TrustedExecutionConfiguration,
		Volumes:                       td.Volumes,
		Tags:                          keep,
	}, nil
}

// applySettings sets c's environment, secrets and port from settings. The
// slices are new: td's own definitions are never written to.
func applySettings(c *types.ContainerDefinition, td *types.TaskDefinition, s *ContainerSettings) error {
	if s.empty() {
		return nil
	}
	if s.Env != nil {
		c.Environment = make([]types.KeyValuePair, len(s.Env))
		for i, e := range s.Env {
			c.Environment[i] = types.KeyValuePair{Name: aws.String(e.Name), Value: aws.String(e.Value)}
		}
	}
	if s.Secrets != nil {
		c.Secrets = make([]types.Secret, len(s.Secrets))
		for i, sec := range s.Secrets {
			c.Secrets[i] = types.Secret{Name: aws.String(sec.Name), ValueFrom: aws.String(sec.ARN)}
		}
	}
	if s.Port != 0 {
		var ports []int32
		for _, pm := range c.PortMappings {
			ports = append(ports, aws.ToInt32(pm.ContainerPort))
		}
		if len(ports) != 1 || ports[0] != int32(s.Port) {
			return config.Usagef("container-port", "%d differs from what %s maps (%v): the load balancer's target group and the service's container port are provision's; run provision with --container-port %d first, then deploy", s.Port, aws.ToString(td.TaskDefinitionArn), ports, s.Port)
		}
	}
	return nil
}

// registerRevision registers the new revision and returns it.
//
// RegisterTaskDefinition is not idempotent: a call whose answer was lost (a
// reset connection, no answer in time, a 5xx) may have registered a revision
// all the same, and a blind retry would register a second one. So the SDK
// does not retry it, and before retrying after such a failure this looks at
// the family's latest revision: if it is newer than td and is exactly what
// this call registers, it is taken as the lost call's revision (had the call
// not gone through, it is still the revision asked for). A throttled call was
// turned away and is simply retried. If ECS renders the revision differently
// from what was sent, the look misses and a second, identical revision is
// registered: harmless, and the deploy uses and reports the one it got an
// answer for.
func (d *Deployer) registerRevision(ctx context.Context, deadline time.Time, td *types.TaskDefinition, tags []types.Tag, container, image string, settings *ContainerSettings) (*types.TaskDefinition, error) {
	in, err := NewRevisionInputWith(td, tags, container, image, settings)
	if err != nil {
		return nil, err
	}
	maybeRegistered := false // an earlier attempt failed without saying whether it took effect
	out, err := callWithRetry(ctx, d, deadline, "register task definition", func(ctx context.Context) (*types.TaskDefinition, error) {
		if maybeRegistered {
			found, err := d.findRegistered(ctx, td, in, container, image, settings)
			if err != nil || found != nil {
				return found, err
			}
		}
		out, err := withCallTimeout(ctx, d, func(ctx context.Context) (*ecs.RegisterTaskDefinitionOutput, error) {
			return d.ECS.RegisterTaskDefinition(ctx, in, withoutSDKRetries)
		})
		if err != nil {
			maybeRegistered = maybeRegistered || Retryable(err) && !throttled(err)
			return nil, err
		}
		return out.TaskDefinition, nil
	})
	if err != nil {
		return nil, fmt.Errorf("register task definition %s: %w (the role needs ecs:RegisterTaskDefinition, ecs:TagResource and iam:PassRole on its roles)", aws.ToString(td.Family), err)
	}
	if out == nil || out.TaskDefinitionArn == nil {
		return nil, fmt.Errorf("register task definition %s: ECS returned no ARN; try again", aws.ToString(td.Family))
	}
	return out, nil
}

// findRegistered returns the family's latest revision when it is newer than
// td and registering it again would send exactly in: the revision a
// RegisterTaskDefinition whose answer was lost registered. nil means none.
func (d *Deployer) findRegistered(ctx context.Context, td *types.TaskDefinition, in *ecs.RegisterTaskDefinitionInput, container, image string, settings *ContainerSettings) (*types.TaskDefinition, error) {
	out, err := d.lookupTaskDefinition(ctx, aws.ToString(td.Family))
	if err != nil {
		return nil, err
	}
	latest := out.TaskDefinition
	if latest == nil || latest.TaskDefinitionArn == nil || latest.Revision <= td.Revision {
		return nil, nil
	}
	// Registering latest again, as it is, must send exactly in.
	for _, c := range latest.ContainerDefinitions {
		if aws.ToString(c.Name) == container && aws.ToString(c.Image) != image {
			return nil, nil
		}
	}
	again, err := NewRevisionInputWith(latest, out.Tags, container, image, settings)
	if err != nil || !reflect.DeepEqual(again, in) {
		return nil, nil
	}
	d.Log.Printf("register task definition: the call whose answer was lost registered %s; using it", aws.ToString(latest.TaskDefinitionArn))
	return latest, nil
}

// summary names what the settings set, without any value.
func (s *ContainerSettings) summary() string {
	var parts []string
	if s.Env != nil {
		names := make([]string, len(s.Env))
		for i, e := range s.Env {
			names[i] = e.Name
		}
		parts = append(parts, fmt.Sprintf("environment [%s]", strings.Join(names, " ")))
	}
	if s.Secrets != nil {
		names := make([]string, len(s.Secrets))
		for i, sec := range s.Secrets {
			names[i] = sec.Name
		}
		parts = append(parts, fmt.Sprintf("secrets [%s]", strings.Join(names, " ")))
	}
	if s.CPU != 0 {
		parts = append(parts, fmt.Sprintf("cpu %d", s.CPU))
	}
	if s.Memory != 0 {
		parts = append(parts, fmt.Sprintf("memory %d MiB", s.Memory))
	}
	if s.Port != 0 {
		parts = append(parts, fmt.Sprintf("port %d", s.Port))
	}
	return strings.Join(parts, ", ")
}
