package orbrun

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const srcDir = "../../../src"

func loadOrb(t *testing.T) *Orb {
	t.Helper()
	o, err := LoadSource(srcDir)
	if err != nil {
		t.Fatalf("load %s: %v", srcDir, err)
	}
	return o
}

// fakeBinary stands in for graviton-cd: it records each call (argv and the
// GRAVITON_CD_*/AWS_* environment) in FAKE_LOG and acts just enough like the
// real subcommands for the next job: provision writes the stack directory,
// smoke-test writes its JUnit file and fails when FAKE_FAIL is its name.
const fakeBinary = `#!/usr/bin/env bash
set -eu
{
  echo "call $*"
  echo "cwd $PWD"
  env | grep -E '^(GRAVITON_CD_|AWS_)' | sort
  if [ -n "${GRAVITON_CD_STACK_DIR:-}" ] && [ -f "$GRAVITON_CD_STACK_DIR/outputs.json" ]; then echo "stack present"; fi
  echo "end"
} >>"$FAKE_LOG"
case "${1:-}" in
  version) echo "graviton-cd fake" ;;
  provision)
    mkdir -p "$GRAVITON_CD_DIR"
    echo '{"url": "http://example.test"}' >"$GRAVITON_CD_DIR/outputs.json"
    echo 'resource "x" "y" {}' >"$GRAVITON_CD_DIR/main.tf"
    echo 'secret state' >"$GRAVITON_CD_DIR/terraform.tfstate"
    mkdir -p "$GRAVITON_CD_DIR/.terraform/providers"
    echo 'provider binary' >"$GRAVITON_CD_DIR/.terraform/providers/aws"
    ;;
  smoke-test)
    mkdir -p "$(dirname "$GRAVITON_CD_JUNIT")"
    echo '<testsuites/>' >"$GRAVITON_CD_JUNIT"
    ;;
esac
if [ "${FAKE_FAIL:-}" = "${1:-}" ]; then echo "fake $1 failed" >&2; exit 1; fi
`

// call is one recorded run of the fake binary.
type call struct {
	args string
	cwd  string
	env  map[string]string
	flag map[string]bool
}

type fixture struct {
	t         *testing.T
	orb       *Orb
	bin       string
	log       string
	workspace string
	env       []string
	output    strings.Builder // every job's output, for the secrets check
}

func newFixture(t *testing.T, extraEnv ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "graviton-cd")
	if err := os.WriteFile(bin, []byte(fakeBinary), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, orb: loadOrb(t), bin: bin, log: filepath.Join(dir, "calls.log"), workspace: filepath.Join(dir, "workspace")}
	f.env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"FAKE_LOG=" + f.log,
		"CIRCLE_BUILD_NUM=7",
		"TMPDIR=" + dir, // the credentials step's private token directories
	}, extraEnv...)
	return f
}

// runJob runs one invocation in a fresh "container": its own working
// directory and HOME, the shared workspace.
func (f *fixture) runJob(inv Invocation, extraEnv ...string) (*Result, string, error) {
	f.t.Helper()
	work := filepath.Join(f.t.TempDir(), "project")
	home := filepath.Join(f.t.TempDir(), "home")
	for _, d := range []string{work, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.t.Fatal(err)
		}
	}
	var out bytes.Buffer
	env := append(append(append([]string(nil), f.env...), "HOME="+home), extraEnv...)
	res, err := f.orb.RunInvocation(context.Background(), inv, map[string]any{"binary_path": f.bin},
		Options{Dir: work, Env: env, Workspace: f.workspace, Stdout: &out, Stderr: &out})
	f.t.Logf("job %s output:\n%s", inv.Name, out.String())
	f.output.WriteString(out.String())
	return res, work, err
}

func (f *fixture) calls() []call {
	f.t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil {
		f.t.Fatalf("no calls recorded: %v", err)
	}
	var out []call
	var cur *call
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "call "):
			cur = &call{args: strings.TrimPrefix(line, "call "), env: map[string]string{}, flag: map[string]bool{}}
		case line == "end":
			out = append(out, *cur)
		case strings.HasPrefix(line, "cwd "):
			cur.cwd = strings.TrimPrefix(line, "cwd ")
		case strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			cur.env[k] = v
		default:
			cur.flag[line] = true
		}
	}
	return out
}

// subcommandCalls leaves out the install step's `version` calls.
func (f *fixture) subcommandCalls() []call {
	var out []call
	for _, c := range f.calls() {
		if c.args != "version" {
			out = append(out, c)
		}
	}
	return out
}

func wantEnv(t *testing.T, c call, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := c.env[k]
		switch {
		case v == "<unset>" && ok:
			t.Errorf("%s: %s=%q, want it unset", c.args, k, got)
		case v != "<unset>" && got != v:
			t.Errorf("%s: %s=%q, want %q", c.args, k, got, v)
		}
	}
}

var pipelineValues = map[string]string{
	"pipeline.git.revision": "0123abc",
	"pipeline.git.branch":   "Feature/Login-Page_2",
	"pipeline.number":       "42",
	"pipeline.project.slug": "gh/acme/shop",
}

func exampleJobs(t *testing.T, o *Orb, example string) map[string]Invocation {
	t.Helper()
	invs, err := o.ExampleJobs(example, pipelineValues)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Invocation{}
	for _, inv := range invs {
		m[inv.Job] = inv
	}
	return m
}

// testJWT is an unsigned JWT that stays valid for an hour, with marker as its
// signature so a test can find it.
func testJWT(marker string) string {
	now := time.Now().Unix()
	payload := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"iat":%d,"exp":%d}`, now, now+3600))
	return "eyJhbGciOiJSUzI1NiJ9." + payload + "." + marker
}

const ecrURL = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

// TestFullPipelineExample runs the full_pipeline example's orb jobs in order,
// as a workflow would, against the fake binary, and checks what each
// subcommand received: every job names the stack, none needs the workspace.
func TestFullPipelineExample(t *testing.T) {
	f := newFixture(t, "AWS_ACCESS_KEY_ID=AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret-marker-123", "AWS_ECR_ACCOUNT_URL="+ecrURL)
	jobs := exampleJobs(t, f.orb, "full_pipeline")
	var results = map[string]*Result{}
	var dirs = map[string]string{}
	for _, job := range []string{"provision", "deploy", "smoke-test", "destroy"} {
		inv, ok := jobs[job]
		if !ok {
			t.Fatalf("full_pipeline does not run %s", job)
		}
		res, dir, err := f.runJob(inv)
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		results[job], dirs[job] = res, dir
		if !strings.Contains(res.BashEnv, "GRAVITON_CD_BIN="+f.bin) {
			t.Errorf("%s: install did not export GRAVITON_CD_BIN: %q", job, res.BashEnv)
		}
		if s := res.Step("Destroy the stack after a failure, if it is ephemeral"); job != "destroy" && (s == nil || s.Ran) {
			t.Errorf("%s: the destroy-on-fail step should exist and not run: %+v", job, s)
		}
		for _, ws := range []string{"attach_workspace", "persist_to_workspace"} {
			if s := res.Step(ws); s != nil {
				t.Errorf("%s: %s with stack_dir empty: %+v", job, ws, s)
			}
		}
	}
	calls := f.subcommandCalls()
	if len(calls) != 4 {
		t.Fatalf("calls = %d, want provision, deploy, smoke-test, destroy: %+v", len(calls), calls)
	}
	secrets := "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY"
	wantEnv(t, calls[0], map[string]string{
		"GRAVITON_CD_NAME":              "shop-ci",
		"GRAVITON_CD_DIR":               ".graviton-cd/stack",
		"GRAVITON_CD_EPHEMERAL":         "true",
		"GRAVITON_CD_REGION":            "us-east-1",
		"GRAVITON_CD_INSTANCE_TYPE":     "t4g.small",
		"GRAVITON_CD_HEALTH_CHECK_PATH": "/healthz",
		"GRAVITON_CD_STATE_BACKEND":     "s3",
		"GRAVITON_CD_PLAN_ONLY":         "false",
		"GRAVITON_CD_LOG_LEVEL":         "info",
		"GRAVITON_CD_SECRET_ENV_VARS":   secrets,
		"GRAVITON_CD_MIN_SIZE":          "<unset>", // empty parameters leave the binary's defaults
		"GRAVITON_CD_VPC_ID":            "<unset>",
		"GRAVITON_CD_STATE_BUCKET":      "<unset>",
		"GRAVITON_CD_TERRAFORM_VERSION": "<unset>",
		"AWS_SECRET_ACCESS_KEY":         "secret-marker-123",
	})
	wantEnv(t, calls[1], map[string]string{
		"GRAVITON_CD_NAME": "shop-ci", "GRAVITON_CD_REGION": "us-east-1", "GRAVITON_CD_STACK_DIR": "<unset>",
		// $AWS_ECR_ACCOUNT_URL in the parameter, expanded from the job's environment.
		"GRAVITON_CD_IMAGE":               ecrURL + "/shop:0123abc",
		"GRAVITON_CD_ROLLBACK_ON_FAILURE": "true", "GRAVITON_CD_CHECK_IMAGE_ARCH": "true",
		"GRAVITON_CD_FORCE_NEW_DEPLOYMENT": "false", "GRAVITON_CD_TIMEOUT": "15m",
		"GRAVITON_CD_CLUSTER": "<unset>", "GRAVITON_CD_SECRET_ENV_VARS": secrets,
	})
	wantEnv(t, calls[2], map[string]string{
		"GRAVITON_CD_NAME": "shop-ci", "GRAVITON_CD_STACK_DIR": "<unset>", "GRAVITON_CD_PATH": "/healthz",
		"GRAVITON_CD_EXPECT_STATUS": "2xx", "GRAVITON_CD_EXPECT_BODY": "ok", "GRAVITON_CD_TIMEOUT": "5m",
		"GRAVITON_CD_CONSECUTIVE": "3", "GRAVITON_CD_JUNIT": "test-results/graviton-cd/smoke-test.xml",
		"GRAVITON_CD_URL": "<unset>",
	})
	wantEnv(t, calls[3], map[string]string{
		"GRAVITON_CD_NAME": "shop-ci", "GRAVITON_CD_STACK_DIR": "<unset>", "GRAVITON_CD_ONLY_IF_EPHEMERAL": "false",
		"GRAVITON_CD_SECRET_ENV_VARS": secrets,
	})
	for i, want := range []string{"provision", "deploy", "smoke-test", "destroy"} {
		if calls[i].args != want {
			t.Errorf("call %d = %q, want %q", i, calls[i].args, want)
		}
	}
	// provision: the plan's artifacts hold the module, never the state.
	art := filepath.Join(dirs["provision"], ".graviton-cd", "plan")
	if _, err := os.Stat(filepath.Join(art, "main.tf")); err != nil {
		t.Errorf("provision artifacts: %v", err)
	}
	if _, err := os.Stat(filepath.Join(art, "terraform.tfstate")); err == nil {
		t.Errorf("provision artifacts include terraform state")
	}
	if s := results["provision"].Step("store_artifacts"); s == nil || s.Path != ".graviton-cd/plan" {
		t.Errorf("provision store_artifacts = %+v", s)
	}
	if entries, _ := os.ReadDir(f.workspace); len(entries) != 0 {
		t.Errorf("the workspace holds %v, want nothing", entries)
	}
	// smoke-test: JUnit where store_test_results looks.
	s := results["smoke-test"].Step("store_test_results")
	if s == nil {
		t.Fatal("smoke-test has no store_test_results")
	}
	if _, err := os.Stat(filepath.Join(dirs["smoke-test"], s.Path, "smoke-test.xml")); err != nil {
		t.Errorf("smoke-test JUnit not under store_test_results' path: %v", err)
	}
}

// TestStackDirThroughTheWorkspace: with stack_dir set (local state), provision
// persists the directory without its provider plugins, and the later jobs
// attach it and use it.
func TestStackDirThroughTheWorkspace(t *testing.T) {
	f := newFixture(t)
	jobs := exampleJobs(t, f.orb, "full_pipeline")
	local := map[string]any{"stack_dir": "graviton-cd-stack"}
	for _, job := range []string{"provision", "deploy", "destroy"} {
		inv := jobs[job]
		inv.Params = maps.Clone(inv.Params)
		maps.Copy(inv.Params, local)
		if job == "provision" {
			inv.Params["state_backend"] = "local"
		}
		if _, _, err := f.runJob(inv); err != nil {
			t.Fatalf("%s: %v", job, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "graviton-cd-stack", "terraform.tfstate")); err != nil {
		t.Errorf("provision did not persist the state to the workspace: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "graviton-cd-stack", ".terraform")); err == nil {
		t.Errorf("provision persisted the provider plugins to the workspace")
	}
	calls := f.subcommandCalls()
	wantEnv(t, calls[0], map[string]string{"GRAVITON_CD_DIR": "graviton-cd-stack", "GRAVITON_CD_STATE_BACKEND": "local"})
	for _, c := range calls[1:] {
		if !c.flag["stack present"] || c.env["GRAVITON_CD_STACK_DIR"] != "graviton-cd-stack" {
			t.Errorf("%s did not find the stack directory from the workspace: %+v", c.args, c)
		}
	}
}

// TestDestroyOnFail: a failing smoke test with destroy_on_fail runs destroy
// --only-if-ephemeral on the stack in the same job, and the job still fails.
func TestDestroyOnFail(t *testing.T) {
	f := newFixture(t, "FAKE_FAIL=smoke-test")
	jobs := exampleJobs(t, f.orb, "full_pipeline")
	if _, _, err := f.runJob(jobs["provision"]); err != nil {
		t.Fatal(err)
	}
	res, _, err := f.runJob(jobs["smoke-test"])
	if err == nil || !strings.Contains(err.Error(), "graviton-cd smoke-test") {
		t.Fatalf("smoke-test job error = %v, want the smoke-test step's failure", err)
	}
	if s := res.Step("Destroy the stack after a failure, if it is ephemeral"); s == nil || !s.Ran || s.Err != nil {
		t.Errorf("destroy-on-fail step = %+v, want it run and passed", s)
	}
	if s := res.Step("store_test_results"); s == nil {
		t.Error("store_test_results missing after a failure")
	}
	calls := f.subcommandCalls()
	wantEnv(t, calls[len(calls)-1], map[string]string{
		"GRAVITON_CD_NAME": "shop-ci", "GRAVITON_CD_ONLY_IF_EPHEMERAL": "true", "GRAVITON_CD_REGION": "us-east-1",
		"GRAVITON_CD_STACK_DIR": "<unset>",
	})
	if last := calls[len(calls)-1]; last.args != "destroy" {
		t.Errorf("last call = %+v, want destroy", last)
	}

	t.Run("provision's own failure destroys from its stack directory", func(t *testing.T) {
		f := newFixture(t, "FAKE_FAIL=provision")
		res, _, err := f.runJob(jobs["provision"])
		if err == nil {
			t.Fatal("provision passed")
		}
		if s := res.Step("Destroy the stack after a failure, if it is ephemeral"); s == nil || !s.Ran || s.Err != nil {
			t.Errorf("destroy-on-fail step = %+v, want it run and passed", s)
		}
		calls := f.subcommandCalls()
		wantEnv(t, calls[len(calls)-1], map[string]string{
			"GRAVITON_CD_STACK_DIR": ".graviton-cd/stack", "GRAVITON_CD_ONLY_IF_EPHEMERAL": "true",
		})
	})
}

// TestOIDCExample: role_arn (from a context variable) makes every AWS job
// assume the role with a token file in a private directory, and keys a
// context might also set are not used.
func TestOIDCExample(t *testing.T) {
	token := testJWT("oidc-marker")
	f := newFixture(t, "CIRCLE_OIDC_TOKEN_V2="+token, "AWS_ACCESS_KEY_ID=AKIASTALE", "AWS_SECRET_ACCESS_KEY=stale-secret",
		"GRAVITON_CD_ROLE_ARN=arn:aws:iam::123456789012:role/graviton-cd-ci")
	jobs := exampleJobs(t, f.orb, "oidc_auth")
	for _, job := range []string{"provision", "deploy"} {
		res, _, err := f.runJob(jobs[job])
		if err != nil {
			t.Fatalf("%s: %v", job, err)
		}
		if strings.Contains(res.BashEnv, "oidc-marker") {
			t.Errorf("%s: the OIDC token itself is in BASH_ENV", job)
		}
	}
	calls := f.subcommandCalls()
	for _, c := range calls {
		wantEnv(t, c, map[string]string{
			"AWS_ROLE_ARN":          "arn:aws:iam::123456789012:role/graviton-cd-ci",
			"AWS_ACCESS_KEY_ID":     "<unset>",
			"AWS_SECRET_ACCESS_KEY": "<unset>",
			"GRAVITON_CD_NAME":      "shop",
		})
		file := c.env["AWS_WEB_IDENTITY_TOKEN_FILE"]
		tok, err := os.ReadFile(file)
		if err != nil || string(tok) != token {
			t.Errorf("%s: token file %q holds %q (%v)", c.args, file, tok, err)
		}
		if fi, err := os.Stat(filepath.Dir(file)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: token directory %s: %v, want mode 0700", c.args, filepath.Dir(file), fi)
		}
	}
	if calls[0].env["AWS_WEB_IDENTITY_TOKEN_FILE"] == calls[1].env["AWS_WEB_IDENTITY_TOKEN_FILE"] {
		t.Error("two jobs share one token file")
	}
	wantEnv(t, calls[0], map[string]string{
		"GRAVITON_CD_STATE_BACKEND": "s3", "GRAVITON_CD_STATE_BUCKET": "acme-graviton-cd-state",
		"GRAVITON_CD_STATE_KEY": "shop/terraform.tfstate", "GRAVITON_CD_ROLE_SESSION_DURATION": "7200s",
	})
	wantEnv(t, calls[1], map[string]string{
		"GRAVITON_CD_STATE_BUCKET": "acme-graviton-cd-state", "GRAVITON_CD_STATE_KEY": "shop/terraform.tfstate",
	})
}

// TestPromotionExample runs the promotion example with the fake binary: each
// environment's jobs name its own stack and assume its own role, the approval
// is not an orb job, production has no destroy-on-fail and shares a
// serial-group.
func TestPromotionExample(t *testing.T) {
	f := newFixture(t, "CIRCLE_OIDC_TOKEN_V2="+testJWT("promotion"))
	invs, err := f.orb.ExampleJobs("multi_environment_promotion", pipelineValues)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, inv := range invs {
		names = append(names, inv.Name)
		res, _, err := f.runJob(inv)
		if err != nil {
			t.Fatalf("%s: %v", inv.Name, err)
		}
		if strings.HasSuffix(inv.Name, "-production") && res.Step("Destroy the stack after a failure, if it is ephemeral") != nil {
			t.Errorf("%s has a destroy-on-fail step", inv.Name)
		}
	}
	want := "provision-qa,deploy-qa,smoke-test-qa,provision-staging,deploy-staging,smoke-test-staging," +
		"provision-production,deploy-production,smoke-test-production"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("jobs = %s, want %s", got, want)
	}
	accounts := map[string]string{"shop-qa": "111111111111", "shop-staging": "222222222222", "shop-prod": "333333333333"}
	calls := f.subcommandCalls()
	if len(calls) != 9 {
		t.Fatalf("calls = %d, want 9", len(calls))
	}
	for i, c := range calls {
		env := []string{"shop-qa", "shop-staging", "shop-prod"}[i/3]
		wantEnv(t, c, map[string]string{
			"GRAVITON_CD_NAME": env, "GRAVITON_CD_STACK_DIR": "<unset>", "GRAVITON_CD_ONLY_IF_EPHEMERAL": "<unset>",
		})
		if !strings.HasPrefix(c.env["AWS_ROLE_ARN"], "arn:aws:iam::"+accounts[env]+":role/") {
			t.Errorf("%s of %s assumed %s", c.args, env, c.env["AWS_ROLE_ARN"])
		}
	}
	for _, i := range []int{0, 3, 6} {
		wantEnv(t, calls[i], map[string]string{"GRAVITON_CD_EPHEMERAL": "false"}) // long-lived stacks
	}
	b, err := os.ReadFile(filepath.Join(srcDir, "examples", "multi_environment_promotion.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "serial-group: << pipeline.project.slug >>/production"); n != 3 {
		t.Errorf("%d production jobs in the serial-group, want 3", n)
	}
	if _, usage, _ := strings.Cut(string(b), "\nusage:"); strings.Contains(usage, "destroy_on_fail") {
		t.Error("the promotion example sets destroy_on_fail")
	}
}

// TestNoSecretInOutput runs the AWS jobs with marker secrets, by key and by
// OIDC, and finds none of them in anything the orb's steps print.
func TestNoSecretInOutput(t *testing.T) {
	markers := []string{"AKIAMARKERKEYID", "marker-secret-access-key", testJWT("marker-oidc-token-sig")}
	for _, example := range []string{"full_pipeline", "oidc_auth"} {
		t.Run(example, func(t *testing.T) {
			f := newFixture(t,
				"AWS_ACCESS_KEY_ID="+markers[0], "AWS_SECRET_ACCESS_KEY="+markers[1],
				"CIRCLE_OIDC_TOKEN_V2="+markers[2], "FAKE_FAIL=deploy",
				"GRAVITON_CD_ROLE_ARN=arn:aws:iam::123456789012:role/graviton-cd-ci")
			jobs := exampleJobs(t, f.orb, example)
			for _, job := range []string{"provision", "deploy"} {
				f.runJob(jobs[job]) // deploy fails on purpose: the failure path prints too
			}
			for _, m := range markers {
				if strings.Contains(f.output.String(), m) {
					t.Errorf("secret %q appears in the jobs' output", m)
				}
			}
		})
	}
}

// TestEphemeralBranchExample: the pre-step names the stack after the branch
// through BASH_ENV, and the state key follows the branch.
func TestEphemeralBranchExample(t *testing.T) {
	f := newFixture(t, "CIRCLE_OIDC_TOKEN_V2="+testJWT("branch"), "CIRCLE_BRANCH=Feature/Login-Page_2")
	jobs := exampleJobs(t, f.orb, "ephemeral_branch_environment")
	for _, job := range []string{"provision", "deploy", "smoke-test", "destroy"} {
		if _, _, err := f.runJob(jobs[job]); err != nil {
			t.Fatalf("%s: %v", job, err)
		}
	}
	calls := f.subcommandCalls()
	wantEnv(t, calls[0], map[string]string{
		"GRAVITON_CD_EPHEMERAL": "true",
		"GRAVITON_CD_TAGS":      "environment=review,branch=Feature/Login-Page_2",
	})
	for _, c := range calls {
		// The pre-step names the stack in every job: no workspace carries it.
		wantEnv(t, c, map[string]string{"GRAVITON_CD_NAME": "br-feature-login-pa", "GRAVITON_CD_STACK_DIR": "<unset>"})
	}
	if got := calls[len(calls)-1].args; got != "destroy" {
		t.Errorf("last call %q, want destroy", got)
	}
}

// TestDeployExistingClusterExample: no stack directory, so no workspace is
// attached, and cluster/service/container reach deploy.
func TestDeployExistingClusterExample(t *testing.T) {
	f := newFixture(t)
	jobs := exampleJobs(t, f.orb, "deploy_existing_cluster")
	res, _, err := f.runJob(jobs["deploy"])
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Step("attach_workspace"); s != nil {
		t.Errorf("deploy attached a workspace with stack_dir empty: %+v", s)
	}
	if _, _, err := f.runJob(jobs["smoke-test"]); err != nil {
		t.Fatal(err)
	}
	calls := f.subcommandCalls()
	wantEnv(t, calls[0], map[string]string{
		"GRAVITON_CD_CLUSTER": "production", "GRAVITON_CD_SERVICE": "shop", "GRAVITON_CD_CONTAINER": "web",
		"GRAVITON_CD_REGION": "eu-west-1", "GRAVITON_CD_TIMEOUT": "20m", "GRAVITON_CD_STACK_DIR": "<unset>",
		"GRAVITON_CD_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:0123abc",
	})
	wantEnv(t, calls[1], map[string]string{
		"GRAVITON_CD_URL": "https://shop.example.com/healthz", "GRAVITON_CD_EXPECT_JSON": "status=ok",
		"GRAVITON_CD_CONSECUTIVE": "5", "GRAVITON_CD_STACK_DIR": "<unset>",
	})
}

func TestRunnerRefusesBadArguments(t *testing.T) {
	o := loadOrb(t)
	dir := t.TempDir()
	for name, params := range map[string]map[string]any{
		"unknown parameter":      {"image": "x", "colour": "blue"},
		"required missing":       {},
		"boolean given a string": {"image": "x", "rollback_on_failure": "yes"},
		"enum outside values":    {"image": "x", "log_level": "trace"},
		"unknown executor":       {"image": "x", "executor": "graviton-cd/mips"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := o.RunJob(context.Background(), "deploy", params, Options{Dir: dir}); err == nil {
				t.Error("RunJob succeeded, want an error")
			}
		})
	}
}

func TestRunExample(t *testing.T) {
	f := newFixture(t)
	var out bytes.Buffer
	opts := ExampleOptions{
		Root: t.TempDir(), Env: f.env, Pipeline: pipelineValues,
		Common: map[string]any{"binary_path": f.bin},
		PerJob: map[string]map[string]any{"smoke-test": {"consecutive": 1}},
		Stdout: &out, Stderr: &out,
	}
	runs, err := f.orb.RunExample(context.Background(), "full_pipeline", opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Job)
	}
	if strings.Join(got, ",") != "provision,deploy,smoke-test,destroy" {
		t.Errorf("jobs run = %v", got)
	}
	if c := f.subcommandCalls()[2]; c.env["GRAVITON_CD_CONSECUTIVE"] != "1" {
		t.Errorf("the per-job argument did not reach smoke-test: %v", c.env)
	}

	t.Run("stops at the first failing job", func(t *testing.T) {
		opts := opts
		opts.Root = t.TempDir()
		opts.Env = append(append([]string(nil), f.env...), "FAKE_FAIL=deploy")
		runs, err := f.orb.RunExample(context.Background(), "full_pipeline", opts)
		if err == nil || len(runs) != 2 || runs[1].Err == nil {
			t.Fatalf("runs = %d, err = %v; want provision, then deploy failing", len(runs), err)
		}
		if s := runs[1].Result.Step("Destroy the stack after a failure, if it is ephemeral"); s == nil || !s.Ran {
			t.Errorf("deploy's destroy-on-fail step = %+v, want it run", s)
		}
	})
}
