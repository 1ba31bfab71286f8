package hclgen

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// TestNamedResourcesExact holds NamedResources to the rendered module: every
// resource of a named kind is listed with the name the module gives it, and
// nothing else is.
func TestNamedResourcesExact(t *testing.T) {
	kinds := map[string]string{
		"aws_ecs_cluster":           KindECSCluster,
		"aws_iam_role":              KindIAMRole,
		"aws_iam_instance_profile":  KindIAMInstanceProfile,
		"aws_lb":                    KindLoadBalancer,
		"aws_lb_target_group":       KindTargetGroup,
		"aws_cloudwatch_log_group":  KindLogGroup,
		"aws_launch_template":       KindLaunchTemplate,
		"aws_autoscaling_group":     KindAutoScalingGroup,
		"aws_ecs_capacity_provider": KindECSCapacityProvider,
		"aws_security_group":        KindSecurityGroup,
		"aws_ecs_service":           KindECSService,
	}
	for _, tc := range []struct {
		name string
		edit func(*config.ProvisionInput)
	}{
		{"new-vpc", nil},
		{"private-subnets", func(in *config.ProvisionInput) { in.PrivateSubnets = true }},
		{"bridge", func(in *config.ProvisionInput) { in.NetworkMode = "bridge" }},
		{"existing", func(in *config.ProvisionInput) {
			in.Name, in.Region = "other", "eu-west-1"
			in.VPCID, in.SubnetIDs = "vpc-0123456789abcdef0", "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2"
			in.ContainerPort = 8080
		}},
		{"app", appInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validated(t, tc.edit)
			f := parseModule(t, mustRender(t, p))
			var got []NamedResource
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "resource" {
					continue
				}
				kind, ok := kinds[b.Labels[0]]
				if !ok {
					continue
				}
				a := b.Body.Attributes["name"]
				if a == nil {
					t.Fatalf("%s.%s has no fixed name", b.Labels[0], b.Labels[1])
				}
				v, diags := a.Expr.Value(nil)
				if diags.HasErrors() {
					t.Fatalf("%s.%s: name is not a literal: %s", b.Labels[0], b.Labels[1], diags)
				}
				got = append(got, NamedResource{b.Labels[0] + "." + b.Labels[1], kind, v.AsString()})
			}
			want := NamedResources(p)
			sortNamed := func(s []NamedResource) {
				slices.SortFunc(s, func(a, b NamedResource) int { return strings.Compare(a.Address, b.Address) })
			}
			sortNamed(got)
			sortNamed(want)
			if !slices.Equal(got, want) {
				t.Errorf("NamedResources = %v\nmodule has      %v", want, got)
			}
		})
	}
}
