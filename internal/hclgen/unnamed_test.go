package hclgen

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// TestUnnamedResourcesExact holds UnnamedResources to the rendered module:
// every resource instance that is neither named (NamedResources) nor left
// out on purpose is listed, in module order, with the Name tag the module
// gives it, or with the subnet and route table an association joins, or with
// the load balancer and port of a listener; and nothing else is.
func TestUnnamedResourcesExact(t *testing.T) {
	named := map[string]bool{}
	for _, r := range NamedResources(validated(t, nil)) {
		named[strings.SplitN(r.Address, ".", 2)[0]] = true
	}
	// The types UnnamedResource's doc comment leaves out, and why there.
	leftOut := map[string]bool{
		"aws_ecs_task_definition":            true,
		"aws_iam_role_policy_attachment":     true,
		"aws_ecs_cluster_capacity_providers": true,
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
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validated(t, tc.edit)
			src := mustRender(t, p)
			f := parseModule(t, src)
			text := func(e hclsyntax.Expression) string { return string(e.Range().SliceBytes(src)) }
			var got []UnnamedResource
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "resource" || named[b.Labels[0]] || leftOut[b.Labels[0]] {
					continue
				}
				typ, base := b.Labels[0], b.Labels[0]+"."+b.Labels[1]
				count := -1 // no count: one instance, no index
				if a := b.Body.Attributes["count"]; a != nil {
					v, diags := a.Expr.Value(nil)
					if diags.HasErrors() {
						t.Fatalf("%s: count is not a literal: %s", base, diags)
					}
					n, _ := v.AsBigFloat().Int64()
					count = int(n)
				}
				for i := range max(count, 1) {
					r := UnnamedResource{Address: base, Type: typ}
					ctx := &hcl.EvalContext{Functions: map[string]function.Function{"format": stdlib.FormatFunc}}
					if count >= 0 {
						r.Address += "[" + strconv.Itoa(i) + "]"
						ctx.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}
					}
					atIndex := func(e hclsyntax.Expression) string {
						return strings.ReplaceAll(text(e), "[count.index]", "["+strconv.Itoa(i)+"]")
					}
					attrs := b.Body.Attributes
					switch typ {
					case "aws_route_table_association":
						r.Subnet = strings.TrimSuffix(atIndex(attrs["subnet_id"].Expr), ".id")
						r.RouteTable = strings.TrimSuffix(atIndex(attrs["route_table_id"].Expr), ".id")
					case "aws_lb_listener":
						r.LoadBalancer = strings.TrimSuffix(text(attrs["load_balancer_arn"].Expr), ".arn")
						v, diags := attrs["port"].Expr.Value(nil)
						if diags.HasErrors() {
							t.Fatalf("%s: port is not a literal: %s", r.Address, diags)
						}
						n, _ := v.AsBigFloat().Int64()
						r.Port = int(n)
					default:
						a := attrs["tags"]
						if a == nil {
							t.Fatalf("%s has no tags: list it with what recognises it, or leave it out with a reason", r.Address)
						}
						v, diags := a.Expr.Value(ctx)
						if diags.HasErrors() {
							t.Fatalf("%s: tags: %s", r.Address, diags)
						}
						if !v.Type().IsObjectType() || !v.Type().HasAttribute("Name") {
							t.Fatalf("%s has no Name tag", r.Address)
						}
						r.NameTag = v.GetAttr("Name").AsString()
					}
					got = append(got, r)
				}
			}
			if want := UnnamedResources(p); !slices.Equal(got, want) {
				t.Errorf("UnnamedResources = %+v\nmodule has        %+v", want, got)
			}
		})
	}
}
