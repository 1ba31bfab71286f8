package hclgen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The module's dependency graph as Terraform builds it: an edge for every
// reference in an expression (through locals) and for every depends_on
// entry. Terraform creates a resource after everything it depends on and
// destroys it before any of them, so "X depends on Y" is also "X is gone
// before Y goes".
type depGraph struct {
	edges     map[string]map[string]bool // node → nodes it depends on
	dependsOn map[string][]string        // node → its depends_on entries
}

// moduleGraph parses a rendered module (no Terraform needed) into its
// dependency graph over resources, data sources and locals.
func moduleGraph(t *testing.T, src []byte) depGraph {
	t.Helper()
	f, diags := hclsyntax.ParseConfig(src, ModuleFile, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags)
	}
	g := depGraph{edges: map[string]map[string]bool{}, dependsOn: map[string][]string{}}
	known := map[string]bool{}
	bodies := map[string]*hclsyntax.Body{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		switch b.Type {
		case "resource":
			id := b.Labels[0] + "." + b.Labels[1]
			known[id], bodies[id] = true, b.Body
		case "data":
			id := "data." + b.Labels[0] + "." + b.Labels[1]
			known[id], bodies[id] = true, b.Body
		case "locals":
			for name, a := range b.Body.Attributes {
				id := "local." + name
				known[id] = true
				bodies[id] = &hclsyntax.Body{Attributes: hclsyntax.Attributes{name: a}}
			}
		}
	}
	for id, body := range bodies {
		g.edges[id] = map[string]bool{}
		walkBody(body, func(name string, e hclsyntax.Expression) {
			for _, tr := range e.Variables() {
				ref := traversalNode(tr)
				if !known[ref] {
					continue
				}
				g.edges[id][ref] = true
				if name == "depends_on" {
					g.dependsOn[id] = append(g.dependsOn[id], ref)
				}
			}
		})
	}
	return g
}

// walkBody calls fn for every attribute of body and its nested blocks,
// except lifecycle (whose ignore_changes names attributes, not objects).
func walkBody(body *hclsyntax.Body, fn func(name string, e hclsyntax.Expression)) {
	for name, a := range body.Attributes {
		fn(name, a.Expr)
	}
	for _, b := range body.Blocks {
		if b.Type != "lifecycle" {
			walkBody(b.Body, fn)
		}
	}
}

// traversalNode names the object a reference points at: aws_x.y, data.aws_x.y
// or local.z.
func traversalNode(tr hcl.Traversal) string {
	parts := []string{tr.RootName()}
	for _, step := range tr[1:] {
		a, ok := step.(hcl.TraverseAttr)
		if !ok {
			break
		}
		parts = append(parts, a.Name)
	}
	switch {
	case parts[0] == "local" && len(parts) >= 2:
		return "local." + parts[1]
	case parts[0] == "data" && len(parts) >= 3:
		return "data." + parts[1] + "." + parts[2]
	case len(parts) >= 2:
		return parts[0] + "." + parts[1]
	}
	return ""
}

// dependsOnAll reports whether from transitively depends on to.
func (g depGraph) dependsOnAll(from string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		for d := range g.edges[n] {
			if !seen[d] {
				seen[d] = true
				visit(d)
			}
		}
	}
	visit(from)
	return seen
}

func (g depGraph) resources(types ...string) []string {
	var out []string
	for id := range g.edges {
		typ, _, _ := strings.Cut(id, ".")
		if slices.Contains(types, typ) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// orderRule: every node in before must depend (transitively) on every node in
// after, that is, be created after and destroyed before them.
type orderRule struct {
	why    string
	before []string
	after  []string
}

// orderRules are the orders the module must keep, each with its reason.
func (g depGraph) orderRules() []orderRule {
	// What a container instance needs from launch to termination: a route
	// out (to register, to hear of task stops and report them) and its
	// role's policy, through the instance profile.
	instanceNeeds := append(g.resources("aws_route_table_association", "aws_route_table", "aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_iam_instance_profile"),
		g.resources("aws_iam_role_policy_attachment")...)
	taskNeeds := append([]string{"aws_iam_role_policy_attachment.task_execution", "aws_iam_role_policy_attachment.task"}, g.resources("aws_iam_role_policy")...)
	instanceNeeds = slices.DeleteFunc(instanceNeeds, func(s string) bool { return slices.Contains(taskNeeds, s) || s == infrastructureAttachmentAddress })
	// The service's tasks also need the execution role's policies (image
	// pulls, logs, secrets) and the task role's (the app's own calls, ECS
	// Exec) until they stop.
	serviceNeeds := slices.Clone(instanceNeeds)
	for _, n := range taskNeeds {
		if _, ok := g.edges[n]; ok {
			serviceNeeds = append(serviceNeeds, n)
		}
	}
	// The listener that forwards to the target group: HTTPS when the
	// module has it (HTTP then only redirects).
	forwarding := "aws_lb_listener.http"
	if _, ok := g.edges["aws_lb_listener.https"]; ok {
		forwarding = "aws_lb_listener.https"
	}
	rules := []orderRule{
		{"the capacity (Auto Scaling group, capacity provider, its cluster association) must be gone before the instances' routes and IAM policy, and launch after them",
			[]string{"aws_autoscaling_group.this", "aws_ecs_capacity_provider.this", "aws_ecs_cluster_capacity_providers.this"}, instanceNeeds},
		{"the service must be gone (its tasks stopped) before the routes and IAM policies its tasks and instances need, and be created after them",
			[]string{"aws_ecs_service.app"}, serviceNeeds},
		{"the capacity provider must be associated with the cluster before a service uses it, and ECS refuses to detach it while the service's tasks use it",
			[]string{"aws_ecs_service.app"}, []string{"aws_ecs_cluster_capacity_providers.this"}},
		{"a target group must be attached to the load balancer (by the listener) before a service uses it",
			[]string{"aws_ecs_service.app"}, []string{forwarding}},
	}
	if shift := g.resources("aws_lb_listener_rule", "aws_iam_role_policy_attachment"); slices.Contains(shift, infrastructureAttachmentAddress) {
		shift = slices.DeleteFunc(shift, func(s string) bool {
			return s != infrastructureAttachmentAddress && !strings.HasPrefix(s, "aws_lb_listener_rule.")
		})
		rules = append(rules, orderRule{"ECS shifts a blue/green, canary or linear service's traffic with the listener rules and the infrastructure role: the service is created after them and destroyed before them",
			[]string{"aws_ecs_service.app"}, shift})
	}
	if igw := g.resources("aws_internet_gateway"); len(igw) > 0 {
		rules = append(rules, orderRule{"an internet-facing load balancer needs its subnets' route to the internet gateway, which cannot be detached while the load balancer's addresses are mapped",
			[]string{"aws_lb.this"}, append(igw, "aws_route_table_association.public")})
	}
	return rules
}

// violations lists every rule broken by g.
func (g depGraph) violations() []string {
	var out []string
	for _, r := range g.orderRules() {
		for _, b := range r.before {
			deps := g.dependsOnAll(b)
			for _, a := range r.after {
				if !deps[a] {
					out = append(out, fmt.Sprintf("%s can be destroyed before %s (or created after it): %s", a, b, r.why))
				}
			}
		}
	}
	return out
}

// TestModuleDestroyOrder reads the dependency graph of every golden module
// and fails if anything the instances or tasks need while they drain could
// be destroyed before the service and the Auto Scaling group.
func TestModuleDestroyOrder(t *testing.T) {
	for _, name := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", name+".tf.golden"))
			if err != nil {
				t.Fatal(err)
			}
			g := moduleGraph(t, src)
			if len(g.resources("aws_autoscaling_group", "aws_ecs_service")) != 2 {
				t.Fatal("module lacks the Auto Scaling group or the service")
			}
			for _, v := range g.violations() {
				t.Error(v)
			}
		})
	}
}

// TestModuleDestroyOrderNeedsEveryEdge removes each depends_on entry of each
// golden module in turn and expects the order check to fail: no edge is
// there without a reason, and the check notices any one of them missing.
func TestModuleDestroyOrderNeedsEveryEdge(t *testing.T) {
	for _, name := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", name+".tf.golden"))
			if err != nil {
				t.Fatal(err)
			}
			g := moduleGraph(t, src)
			n := 0
			for from, tos := range g.dependsOn {
				for _, to := range tos {
					n++
					cut := moduleGraph(t, src)
					delete(cut.edges[from], to)
					if len(cut.violations()) == 0 {
						t.Errorf("without the edge %s → %s the order check still passes: the edge is redundant or the check too weak", from, to)
					}
				}
			}
			if n == 0 {
				t.Fatal("no depends_on edges found")
			}
		})
	}
}
