package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/progress"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// Provision modes, as ProvisionResult.Mode.
const (
	ModeRenderOnly = "render-only"
	ModePlanOnly   = "plan-only"
	ModeApply      = "apply"
)

// ProvisionResult is what provision did; the CLI prints it as text (Text) or
// as the --output json summary.
type ProvisionResult struct {
	Stack string `json:"stack"`
	Dir   string `json:"dir"`
	Mode  string `json:"mode"` // render-only, plan-only, apply
	// StackID, Ephemeral and State come from the stack record: the stack's
	// identity, whether it is throwaway, and where its state lives.
	StackID   string      `json:"stack_id"`
	Ephemeral bool        `json:"ephemeral"`
	State     string      `json:"state"`
	Plan      *PlanResult `json:"plan,omitempty"`
	Outputs   *Outputs    `json:"outputs,omitempty"`

	text string
}

// Text is the one-line summary for a person.
func (r ProvisionResult) Text() string { return r.text }

// PlanResult counts what the plan does, and lists it.
type PlanResult struct {
	Import  int      `json:"import"` // orphans of this stack the plan imports
	Add     int      `json:"add"`
	Change  int      `json:"change"`
	Destroy int      `json:"destroy"`
	Changes []string `json:"changes"`
}

// Provision renders the root module into p.Dir and, unless p.RenderOnly,
// runs terraform init, plan and (unless p.PlanOnly) apply, then writes
// outputs.json.
func Provision(ctx context.Context, deps Deps, p config.Provision) (ProvisionResult, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	log := deps.Log

	res := ProvisionResult{Stack: p.Name, Dir: p.Dir, Mode: ModeApply}
	if err := checkAccount(ctx, deps, p); err != nil {
		return res, err
	}
	st, rec, persisted, err := openRecord(ctx, deps, &p)
	if err != nil {
		return res, err
	}
	res.StackID, res.Ephemeral, res.State = p.StackID, p.Ephemeral, st.where()
	module, err := hclgen.RenderRootModule(p)
	if err != nil {
		return res, err
	}
	if p.RenderOnly {
		if err := writeStackDir(p, module, rec); err != nil {
			return res, err
		}
		res.Mode = ModeRenderOnly
		log.Printf("rendered %s for stack %s; nothing was run (--render-only)", filepath.Join(p.Dir, hclgen.ModuleFile), p.Name)
		res.text = fmt.Sprintf("rendered stack %s into %s", p.Name, p.Dir)
		return res, nil
	}

	r, bin, err := prepareTerraform(ctx, deps, p, "provision")
	if err != nil {
		return res, err
	}
	defer closeTerraform(log, r)
	rec.TerraformBinary = bin
	if err := writeStackDir(p, module, rec); err != nil {
		return res, err
	}
	if err := initTerraform(ctx, log, r, p); err != nil {
		return res, err
	}
	if err := runBeforePlan(ctx, deps, r, p); err != nil {
		return res, err
	}

	plan, err := filepath.Abs(filepath.Join(p.Dir, PlanFile))
	if err != nil {
		return res, fmt.Errorf("locate plan file: %w", err)
	}
	log.Printf("planning stack %s", p.Name)
	sum, err := r.Plan(ctx, plan)
	if err != nil {
		return res, err
	}
	res.Plan = &PlanResult{Import: sum.Import, Add: sum.Add, Change: sum.Change, Destroy: sum.Destroy, Changes: nonNil(sum.Changes)}
	if p.PlanOnly {
		// The apply's lines would name each change; without one, the plan does.
		for _, ch := range sum.Changes {
			log.Printf("plan: %s", ch)
		}
		res.Mode = ModePlanOnly
		log.Printf("plan kept at %s; nothing was applied (--plan-only)", plan)
		res.text = fmt.Sprintf("planned stack %s: %s (plan file %s)", p.Name, sum, plan)
		return res, nil
	}

	if !persisted {
		// Before the first apply: a stack whose resources exist has a
		// record, so a rerun from an empty directory keeps its identity.
		if err := st.writeRecord(ctx, rec); err != nil {
			return res, err
		}
		log.Printf("recorded stack %s (id %s, ephemeral %t) at %s", p.Name, rec.StackID, rec.Ephemeral, st.recordWhere())
	}
	switch {
	case sum.NoChanges() && sum.OutputChanges == 0:
		// Nothing to apply: the outputs in state are current.
		log.Printf("no changes: the stack already matches the module")
	default:
		log.Printf("applying the plan")
		if err := r.Apply(ctx, plan); err != nil {
			return res, err
		}
		// The imports are in state now; a later destroy or plan in this
		// directory must not see them.
		if err := os.Remove(filepath.Join(p.Dir, importsFile)); err != nil && !os.IsNotExist(err) {
			return res, fmt.Errorf("remove %s after the apply: %w", importsFile, err)
		}
	}
	outs, err := r.Outputs(ctx)
	if err != nil {
		return res, err
	}
	o := OutputsFrom(outs)
	if err := WriteOutputs(p.Dir, o); err != nil {
		return res, err
	}
	log.Printf("wrote %s", filepath.Join(p.Dir, OutputsFile))
	res.Outputs = &o
	res.text = fmt.Sprintf("provisioned stack %s: %s (%s)", p.Name, o.URL, sum)
	return res, nil
}

// importsFile holds the import blocks of one provision; it is removed before
// every provision so that an import never outlives the run that needed it.
const importsFile = "imports.tf"

// runBeforePlan calls deps.BeforePlan with the addresses and IDs in state,
// and writes the imports it asks for as import blocks beside main.tf.
func runBeforePlan(ctx context.Context, deps Deps, r *terraform.Exec, p config.Provision) error {
	path := filepath.Join(p.Dir, importsFile)
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if deps.BeforePlan == nil {
		return nil
	}
	raw, err := r.RawState(ctx)
	if err != nil {
		return err
	}
	inState, err := ManagedIDs(raw)
	if err != nil {
		return err
	}
	imports, err := deps.BeforePlan(ctx, p, inState)
	if err != nil || len(imports) == 0 {
		return err
	}
	for _, im := range imports {
		deps.Log.Printf("importing %s (%s): it carries this stack's identity but was missing from state", im.Address, im.ID)
	}
	b, err := RenderImports(imports)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// LogsDir is the stack directory's folder of Terraform logs: each provision
// and destroy that runs terraform keeps its whole output there, in
// <command>-<UTC time, as 20261202T044302Z>.log.
const LogsDir = "logs"

// terraformLogName is the log file of one run of command started at t.
func terraformLogName(command string, t time.Time) string {
	return fmt.Sprintf("%s-%s.log", command, t.UTC().Format("20060102T150405Z"))
}

// prepareTerraform finds (or installs) the CLI and opens a Runner on dir
// whose whole output goes to a log file of command's under LogsDir. The
// caller closes it with closeTerraform.
func prepareTerraform(ctx context.Context, deps Deps, p config.Provision, command string) (*terraform.Exec, string, error) {
	log, loc := deps.Log, deps.Locator
	loc.Binary, loc.Version, loc.Log = p.TerraformBinary, p.TerraformVersion, log
	if loc.CacheDir == "" {
		loc.CacheDir = terraform.DefaultCacheDir()
	}
	bin, err := loc.Locate(ctx)
	if err != nil {
		return nil, "", err
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return nil, "", fmt.Errorf("create stack directory %s: %w", p.Dir, err)
	}
	r, err := terraform.NewExec(p.Dir, bin, log)
	if err != nil {
		return nil, "", err
	}
	if err := r.LogTo(filepath.Join(p.Dir, LogsDir, terraformLogName(command, deps.now()))); err != nil {
		return nil, "", err
	}
	log.Printf("using %s in %s", bin, p.Dir)
	if p.EndpointURL != "" {
		log.Printf("AWS endpoint %s (local emulator settings on)", p.EndpointURL)
	}
	return r, bin, nil
}

// closeTerraform closes the Runner's log file and says, last, where it is.
func closeTerraform(log *progress.Logger, r *terraform.Exec) {
	if f := r.LogFile(); f != "" {
		log.Printf("terraform's full output: %s", f)
	}
	if err := r.Close(); err != nil {
		log.Printf("close the terraform log: %v", err)
	}
}

// initTerraform runs init and, when asked, releases a dead run's lock.
func initTerraform(ctx context.Context, log *progress.Logger, r terraform.Runner, p config.Provision) error {
	if err := r.Init(ctx); err != nil {
		return err
	}
	if p.ForceUnlock != "" {
		log.Printf("releasing state lock %s (--force-unlock)", p.ForceUnlock)
		if err := r.ForceUnlock(ctx, p.ForceUnlock); err != nil {
			return err
		}
	}
	return nil
}

// writeStackDir writes main.tf and stack.json, each atomically.
func writeStackDir(p config.Provision, module []byte, rec Settings) error {
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return fmt.Errorf("create stack directory %s: %w", p.Dir, err)
	}
	if err := atomicfile.Write(filepath.Join(p.Dir, hclgen.ModuleFile), module, 0o644); err != nil {
		return err
	}
	return WriteSettings(p.Dir, rec)
}

// OutputsFrom maps the module's outputs onto Outputs.
func OutputsFrom(m map[string]string) Outputs {
	return Outputs{
		StackName:     m[hclgen.OutputStackName],
		Region:        m[hclgen.OutputRegion],
		Cluster:       m[hclgen.OutputClusterName],
		Service:       m[hclgen.OutputServiceName],
		ContainerName: m[hclgen.OutputContainerName],
		TaskFamily:    m[hclgen.OutputTaskFamily],
		ALBDNSName:    m[hclgen.OutputALBDNSName],
		URL:           m[hclgen.OutputURL],
		LogGroup:      m[hclgen.OutputLogGroup],
	}
}

// checkAccount holds the ARNs the stack is given (secrets, their KMS key,
// the certificate, task role policies) to the account the credentials
// belong to, before anything is created or written: config checked that
// they agree with each other, only STS knows the stack's own account. A
// stack without such ARNs, or --render-only, makes no call.
func checkAccount(ctx context.Context, deps Deps, p config.Provision) error {
	if p.Account() == "" || p.RenderOnly {
		return nil // --render-only: nothing is created, and no AWS call made for it
	}
	cfg, err := deps.awsConfig(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL})
	if err != nil {
		return err
	}
	out, err := deps.sts(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("learn the AWS account the stack is provisioned in, to check the ARNs it is given (sts:GetCallerIdentity): %w (check the credentials)", err)
	}
	return p.CheckAccount(aws.ToString(out.Account))
}
