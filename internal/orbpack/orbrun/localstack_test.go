package orbrun

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// localRun is what an example needs to run its orb jobs on the local stack:
// the binary built from this tree, real Terraform with the AWS provider from
// the mirror, moto as AWS (state in moto's S3), and an app on 127.0.0.1.
// What the local stack cannot do is bridged from the outside, never by
// changing the orb:
//   - moto runs no tasks and no rollouts, so deploy jobs run with no_wait
//     (stop after UpdateService) and without rollback_on_failure, which
//     needs a followed deployment and is refused with no_wait;
//   - the image is not pulled, so its architecture is not checked;
//   - there is no CircleCI OIDC: role_arn is cleared and moto's keys are used;
//   - the app runs here on 127.0.0.1 and smoke-test reaches it through
//     connect_to from the ALB name that provision wrote to outputs.json.
type localRun struct {
	t       *testing.T
	orb     *Orb
	bin     string
	env     []string
	root    string
	appPort string
}

func newLocalRun(t *testing.T) *localRun {
	t.Helper()
	if testing.Short() {
		t.Skip("minutes of Terraform against moto; skipped with -short")
	}
	moto := localstack.Moto(t)
	tools := localstack.Terraform(t)
	bin := realBinary(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(app.Close)
	appURL, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	return &localRun{
		t: t, orb: loadOrb(t), bin: bin, root: root, appPort: appURL.Port(),
		env: []string{
			"PATH=" + os.Getenv("PATH"), "TMPDIR=" + root,
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=" + localstack.Region,
			"AWS_ENDPOINT_URL=" + moto, "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
			"TF_CLI_CONFIG_FILE=" + tools.CLIConfigFile, "CHECKPOINT_DISABLE=1",
			"GRAVITON_CD_TERRAFORM_BINARY=" + tools.Binary,
		},
	}
}

// destroyLater destroys the stack by name when the test ends, unless a job of
// the example already did.
func (l *localRun) destroyLater(name string, done *bool) {
	l.t.Cleanup(func() {
		if *done {
			return
		}
		cmd := exec.Command(l.bin, "destroy", "--name", name, "--region", localstack.Region)
		cmd.Env, cmd.Dir = l.env, l.root
		out, err := cmd.CombinedOutput()
		l.t.Logf("cleanup destroy %s: %v\n%s", name, err, out)
	})
}

// run runs one invocation in a fresh "container" of its own (working
// directory and HOME), with the binary and moto's credentials, and returns its
// working directory.
func (l *localRun) run(i int, inv Invocation, args map[string]any) (*Result, string) {
	l.t.Helper()
	args["binary_path"] = l.bin
	args["role_arn"] = ""
	if inv.Job == "deploy" {
		args["no_wait"], args["rollback_on_failure"] = true, false
	}
	base := filepath.Join(l.root, fmt.Sprintf("%02d-%s", i+1, inv.Name))
	dir, home := filepath.Join(base, "project"), filepath.Join(base, "home")
	for _, d := range []string{dir, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			l.t.Fatal(err)
		}
	}
	var out bytes.Buffer
	start := time.Now()
	res, err := l.orb.RunInvocation(context.Background(), inv, args, Options{
		Dir: dir, Env: append(append([]string(nil), l.env...), "HOME="+home),
		Workspace: filepath.Join(l.root, "workspace"), Stdout: &out, Stderr: &out,
	})
	took := time.Since(start).Round(100 * time.Millisecond)
	if err != nil {
		l.t.Fatalf("%s (%s): %v\n%s", inv.Name, took, err, out.String())
	}
	l.t.Logf("%s job passed in %s:\n%s", inv.Name, took, out.String())
	return res, dir
}

// smokeArgs points smoke-test at the app through the stack's ALB name, which
// the provision job left in its stack directory.
func (l *localRun) smokeArgs(args map[string]any, provisionDir string) {
	l.t.Helper()
	outputs, err := stack.ReadOutputs(filepath.Join(provisionDir, ".graviton-cd", "stack"))
	if err != nil {
		l.t.Fatal(err)
	}
	args["connect_to"] = fmt.Sprintf("%s:80:127.0.0.1:%s", outputs.ALBDNSName, l.appPort)
	args["interval"] = "200ms"
	args["timeout"] = "30s"
}

// TestFullPipelineExampleOnLocalStack runs the full_pipeline example's orb
// jobs, exactly as the example writes them: provision (ephemeral) → deploy →
// smoke-test → destroy, each finding the stack by its name in its S3 state,
// with no workspace between them.
func TestFullPipelineExampleOnLocalStack(t *testing.T) {
	l := newLocalRun(t)
	name := localstack.UniqueName(t, "orb")
	destroyed := false
	l.destroyLater(name, &destroyed)
	invs, err := l.orb.ExampleJobs("full_pipeline", pipelineValues)
	if err != nil {
		t.Fatal(err)
	}
	var provisionDir string
	for i, inv := range invs {
		args := map[string]any{"stack_name": name} // one moto serves every package's tests
		switch inv.Job {
		case "deploy":
			args["check_image_arch"] = false
		case "smoke-test":
			l.smokeArgs(args, provisionDir)
		}
		res, dir := l.run(i, inv, args)
		switch inv.Job {
		case "provision":
			provisionDir = dir
			for _, f := range []string{"main.tf", "plan.txt", "outputs.json"} {
				if _, err := os.Stat(filepath.Join(dir, ".graviton-cd", "plan", f)); err != nil {
					t.Errorf("provision's artifacts lack %s: %v", f, err)
				}
			}
		case "smoke-test":
			junit := filepath.Join(dir, res.Step("store_test_results").Path, "smoke-test.xml")
			if _, err := os.Stat(junit); err != nil {
				t.Errorf("no JUnit report: %v", err)
			}
		case "destroy":
			destroyed = true
		}
	}
	if !destroyed {
		t.Error("the example has no destroy job")
	}
	if entries, _ := os.ReadDir(filepath.Join(l.root, "workspace")); len(entries) != 0 {
		t.Errorf("the workspace holds %v, want nothing", entries)
	}
}

// TestPromotionExampleOnLocalStack runs the multi_environment_promotion
// example end to end: qa, staging, then (the approval granted) production,
// each its own stack found by name, all three alive at once at the end; then
// each is destroyed by name by the orb's destroy job, with no workspace.
func TestPromotionExampleOnLocalStack(t *testing.T) {
	l := newLocalRun(t)
	invs, err := l.orb.ExampleJobs("multi_environment_promotion", pipelineValues)
	if err != nil {
		t.Fatal(err)
	}
	// The example's stack names, made unique on the shared moto.
	names := map[string]string{}
	destroyed := map[string]*bool{}
	for env, prefix := range map[string]string{"shop-qa": "qa", "shop-staging": "stg", "shop-prod": "prd"} {
		names[env] = localstack.UniqueName(t, prefix)
		destroyed[env] = new(bool)
		l.destroyLater(names[env], destroyed[env])
	}
	provisionDirs, clusters := map[string]string{}, map[string]string{}
	var provisioned []string
	for i, inv := range invs {
		env, _ := inv.Params["stack_name"].(string)
		if names[env] == "" {
			t.Fatalf("%s names stack %q, not one of the example's environments", inv.Name, env)
		}
		args := map[string]any{"stack_name": names[env]}
		switch inv.Job {
		case "deploy":
			args["check_image_arch"] = false
		case "smoke-test":
			l.smokeArgs(args, provisionDirs[env])
		}
		_, dir := l.run(i, inv, args)
		if inv.Job == "provision" {
			provisionDirs[env] = dir
			outputs, err := stack.ReadOutputs(filepath.Join(dir, ".graviton-cd", "stack"))
			if err != nil {
				t.Fatal(err)
			}
			clusters[env] = outputs.Cluster
			provisioned = append(provisioned, env)
			// Every environment provisioned so far is still there.
			l.wantClusters(provisioned, clusters, "ACTIVE")
		}
	}
	if len(provisioned) != 3 {
		t.Fatalf("provisioned %v, want qa, staging and production", provisioned)
	}
	// Tear down with the orb's destroy job, by name: no workspace, nothing
	// carried from the jobs above.
	destroyJob := Invocation{Name: "destroy", Job: "destroy", Params: map[string]any{"region": localstack.Region}}
	for i, env := range provisioned {
		inv := destroyJob
		inv.Name = "destroy-" + env
		l.run(len(invs)+i, inv, map[string]any{"stack_name": names[env]})
		*destroyed[env] = true
	}
	l.wantClusters(provisioned, clusters, "")
}

// wantClusters checks the ECS clusters of these environments: ACTIVE, or ""
// for gone (missing or INACTIVE).
func (l *localRun) wantClusters(envs []string, clusters map[string]string, want string) {
	l.t.Helper()
	client := ecs.NewFromConfig(localstack.AWSConfig(l.t))
	for _, env := range envs {
		out, err := client.DescribeClusters(context.Background(), &ecs.DescribeClustersInput{Clusters: []string{clusters[env]}})
		if err != nil {
			l.t.Fatalf("describe cluster of %s: %v", env, err)
		}
		status := ""
		for _, c := range out.Clusters {
			if c.Status != nil && *c.Status == "ACTIVE" {
				status = "ACTIVE"
			}
		}
		if status != want {
			l.t.Errorf("%s's cluster %s: status %q, want %q", env, clusters[env], status, want)
		}
	}
}
