package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
)

// dryRunResult is the --output json result of deploy --dry-run.
type dryRunResult struct {
	DryRun                   bool     `json:"dry_run"`
	Cluster                  string   `json:"cluster"`
	Service                  string   `json:"service"`
	CurrentTaskDefinitionARN string   `json:"current_task_definition_arn"`
	WouldRegister            bool     `json:"would_register"`
	Family                   *string  `json:"family"`
	Container                *string  `json:"container"`
	Image                    *string  `json:"image"`
	DesiredCount             *int32   `json:"desired_count"`
	ForceNewDeployment       bool     `json:"force_new_deployment"`
	Changes                  bool     `json:"changes"`
	Diff                     []string `json:"diff"`
	ServiceDiff              []string `json:"service_diff"`
}

// runDeployDryRun prints what deploy would change, ecspresso-diff style,
// and changes nothing: only Describe calls reach ECS.
func runDeployDryRun(ctx context.Context, env *runEnv, d *ecsdeploy.Deployer, req ecsdeploy.Request) error {
	p, err := d.PlanDeploy(ctx, req)
	if err != nil {
		return err
	}
	out := dryRunResult{
		DryRun: true, Cluster: p.Cluster, Service: p.Service, CurrentTaskDefinitionARN: p.CurrentTaskDefinitionARN,
		WouldRegister: p.Register != nil, Container: nullable(p.Container), Image: nullable(req.Image),
		DesiredCount: p.DesiredCount, ForceNewDeployment: p.ForceNewDeployment, Changes: p.Changes(),
		Diff: append([]string{}, p.Diff...), ServiceDiff: append([]string{}, p.ServiceDiff...),
	}
	if p.Register != nil {
		out.Family = p.Register.Family
	}
	if env.json {
		return env.result("", out)
	}
	var b strings.Builder
	if len(p.Diff) > 0 {
		fmt.Fprintf(&b, "--- %s\n+++ %s (new revision)\n", p.CurrentTaskDefinitionARN, aws.ToString(p.Register.Family))
		for _, l := range p.Diff {
			b.WriteString(l + "\n")
		}
	}
	if len(p.ServiceDiff) > 0 {
		fmt.Fprintf(&b, "--- service %s\n+++ service %s\n", p.Service, p.Service)
		for _, l := range p.ServiceDiff {
			b.WriteString(l + "\n")
		}
	}
	if _, err := fmt.Fprint(env.stdout, b.String()); err != nil {
		return err
	}
	return env.result(dryRunSummary(p), out)
}

func dryRunSummary(p ecsdeploy.DeployPlan) string {
	var would []string
	switch {
	case p.Register != nil && len(p.Diff) == 0:
		would = append(would, fmt.Sprintf("register a copy of %s (container %s already runs that image) and roll it out", p.CurrentTaskDefinitionARN, p.Container))
	case p.Register != nil:
		would = append(would, fmt.Sprintf("register a new revision of %s (container %s)", aws.ToString(p.Register.Family), p.Container))
	}
	if p.DesiredCount != nil {
		would = append(would, fmt.Sprintf("set desired count %d → %d", p.DesiredCountNow, *p.DesiredCount))
	}
	if p.ForceNewDeployment {
		would = append(would, "start fresh tasks")
	}
	return fmt.Sprintf("dry run: nothing was changed; deploy would %s and update service %s", strings.Join(would, ", "), p.Service)
}
