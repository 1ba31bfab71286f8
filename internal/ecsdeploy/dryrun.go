package ecsdeploy

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// DeployPlan is what Deploy would do, computed with Describe calls only.
type DeployPlan struct {
	Cluster, Service string
	// CurrentTaskDefinitionARN is the revision the service runs.
	CurrentTaskDefinitionARN string
	// Register is the revision Deploy would register; nil when it would
	// register none (--force-new-deployment without --image). With the
	// image the service runs already it is a copy of the current revision.
	Register *ecs.RegisterTaskDefinitionInput
	// Container is the container that would get the image.
	Container string
	// DesiredCount is the service's now, and the one Deploy would set (nil:
	// unchanged).
	DesiredCountNow    int32
	DesiredCount       *int32
	ForceNewDeployment bool
	// Diff is the task definition change as unified-diff lines, and
	// ServiceDiff the service's; empty when nothing would change.
	Diff        []string
	ServiceDiff []string
}

// Changes says whether deploying would change anything.
func (p DeployPlan) Changes() bool {
	return p.Register != nil || len(p.ServiceDiff) > 0 || p.ForceNewDeployment
}

// PlanDeploy computes what Deploy(r) would register and change, and changes
// nothing: it calls DescribeServices and DescribeTaskDefinition only (and
// the image registry, when r checks the image's architecture).
func (d *Deployer) PlanDeploy(ctx context.Context, r Request) (DeployPlan, error) {
	p := DeployPlan{Cluster: r.Cluster, Service: r.Service, ForceNewDeployment: r.ForceNewDeployment}
	if err := r.Validate(); err != nil {
		return p, err
	}
	st, err := d.Inspect(ctx, r.Cluster, r.Service, r.Timeout)
	if err != nil {
		return p, err
	}
	current := st.TaskDefinition
	p.CurrentTaskDefinitionARN = aws.ToString(current.TaskDefinitionArn)
	p.DesiredCountNow = st.Service.DesiredCount
	if r.DesiredCount != nil && *r.DesiredCount != p.DesiredCountNow {
		p.DesiredCount = r.DesiredCount
		p.ServiceDiff = []string{
			fmt.Sprintf("-  desiredCount: %d", p.DesiredCountNow),
			fmt.Sprintf("+  desiredCount: %d", *r.DesiredCount),
		}
	}
	if r.Image == "" {
		return p, nil
	}
	if p.Container, err = ChooseContainer(current, r.Container); err != nil {
		return p, err
	}
	if r.CheckImageArch && d.Images != nil {
		if err := d.Images.CheckArm64(ctx, r.Image); err != nil {
			return p, err
		}
	}
	currentImage := imageOf(current, p.Container)
	// Both sides rendered the same way, so that only what Deploy changes
	// shows (and tags with the reserved aws: prefix, which it leaves out).
	before, err := NewRevisionInput(current, st.Tags, p.Container, currentImage)
	if err != nil {
		return p, err
	}
	if p.Register, err = NewRevisionInput(current, st.Tags, p.Container, r.Image); err != nil {
		return p, err
	}
	p.Diff, err = DiffTaskDefinitions(before, p.Register)
	if err != nil {
		return p, err
	}
	// The same image still registers a revision (identical but for its
	// number) and starts a deployment of it, as Deploy does: Diff is empty.
	return p, nil
}

// DiffTaskDefinitions is a field-level diff of two task definition
// registrations, as unified-diff hunks of their ECS JSON (camelCase keys,
// empty fields left out, keys sorted): "-" lines are a's, "+" lines b's,
// with three lines of context. Empty when they are the same.
func DiffTaskDefinitions(a, b *ecs.RegisterTaskDefinitionInput) ([]string, error) {
	la, err := taskDefinitionLines(a)
	if err != nil {
		return nil, err
	}
	lb, err := taskDefinitionLines(b)
	if err != nil {
		return nil, err
	}
	return unifiedDiff(la, lb, 3), nil
}

// taskDefinitionLines renders in as indented JSON lines.
func taskDefinitionLines(in *ecs.RegisterTaskDefinitionInput) ([]string, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("render task definition: %w", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("render task definition: %w", err)
	}
	v, _ = pruneJSON(v)
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("render task definition: %w", err)
	}
	return strings.Split(string(out), "\n"), nil
}

// pruneJSON drops nulls, empty arrays and empty objects, and turns the
// SDK's Go field names into ECS's camelCase. ok is false when v is empty.
func pruneJSON(v any) (any, bool) {
	switch t := v.(type) {
	case nil:
		return nil, false
	case map[string]any:
		out := map[string]any{}
		for k, val := range t {
			if p, ok := pruneJSON(val); ok {
				out[camel(k)] = p
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, val := range t {
			if p, ok := pruneJSON(val); ok {
				out = append(out, p)
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

// camel lowercases a Go field name's leading capital: ContainerDefinitions →
// containerDefinitions. Map keys that are not field names (environment
// variable names, log options) keep their case: they hold a - or a lower
// case letter first, or are all capitals.
func camel(k string) string {
	if k == "" || !unicode.IsUpper(rune(k[0])) || strings.ToUpper(k) == k || strings.ContainsAny(k, "-_.:/") {
		return k
	}
	return strings.ToLower(k[:1]) + k[1:]
}

// unifiedDiff returns the hunks of a line diff of a and b (longest common
// subsequence), each line prefixed by " ", "-" or "+", hunks headed by
// "@@ -l,n +l,n @@" as diff -u does.
//
// The common head and tail are matched first and the table is built for the
// lines between only: a deploy changes an image line or two, so a task
// definition of thousands of lines (many containers, long environments)
// costs a table of a few cells rather than lines².
func unifiedDiff(a, b []string, context int) []string {
	type op struct {
		kind byte
		text string
		ai   int // line index in a (for ' ' and '-')
		bi   int // line index in b (for ' ' and '+')
	}
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	ma, mb := a[head:len(a)-tail], b[head:len(b)-tail]
	n, m := len(ma), len(mb)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	ops := make([]op, 0, len(a)+len(b))
	for k := 0; k < head; k++ {
		ops = append(ops, op{' ', a[k], k, k})
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && ma[i] == mb[j]:
			ops = append(ops, op{' ', ma[i], head + i, head + j})
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', ma[i], head + i, head + j})
			i++
		default:
			ops = append(ops, op{'+', mb[j], head + i, head + j})
			j++
		}
	}
	for k := 0; k < tail; k++ {
		ops = append(ops, op{' ', a[len(a)-tail+k], len(a) - tail + k, len(b) - tail + k})
	}
	var out []string
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-context)
		end := k
		// Extend the hunk while changes are within 2*context of each other.
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			next := end
			for next < len(ops) && ops[next].kind == ' ' {
				next++
			}
			if next == len(ops) || next-end > 2*context {
				end = min(len(ops), end+context)
				break
			}
			end = next
		}
		na, nb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				na++
			}
			if o.kind != '-' {
				nb++
			}
		}
		out = append(out, fmt.Sprintf("@@ -%d,%d +%d,%d @@", ops[start].ai+1, na, ops[start].bi+1, nb))
		for _, o := range ops[start:end] {
			out = append(out, string(o.kind)+o.text)
		}
		k = end
	}
	return out
}

// imageOf is the image of container in td.
func imageOf(td *types.TaskDefinition, container string) string {
	for _, c := range td.ContainerDefinitions {
		if aws.ToString(c.Name) == container {
			return aws.ToString(c.Image)
		}
	}
	return ""
}
