package cli

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

const outputSchema = "../../docs/schema/output.schema.json"

// compileOutputSchema compiles docs/schema/output.schema.json, with formats
// (date-time) asserted.
func compileOutputSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	abs, err := filepath.Abs(outputSchema)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(abs)
	if err != nil {
		t.Fatalf("compile %s: %v", outputSchema, err)
	}
	return sch
}

// schemaCase is one run of one subcommand with --output json.
type schemaCase struct {
	name    string
	command string // the envelope's command; "" for null
	code    int
	kind    ErrorKind // "" when ok
	setup   func(t *testing.T) []string
}

// TestOutputMatchesSchema runs every subcommand with --output json in
// success, failure and bad-input cases, and validates the one object on
// stdout against the schema kept in docs/schema.
func TestOutputMatchesSchema(t *testing.T) {
	sch := compileOutputSchema(t)
	args := func(a ...string) func(*testing.T) []string { return func(*testing.T) []string { return a } }
	failedRollout := []ecsfake.Frame{{At: 0, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: 1}}
	deployWith := func(frames []ecsfake.Frame, extra ...string) func(*testing.T) []string {
		return func(t *testing.T) []string {
			srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{frames}})
			return deployArgs(srv, append([]string{"--cluster", "demo", "--service", "web", "--image", "example.com/web:2"}, extra...)...)
		}
	}
	statusOf := func(serviceStatus string) func(t *testing.T) []string {
		return func(t *testing.T) []string { return statusArgs(t, serviceStatus) }
	}
	smoke := func(path string) func(*testing.T) []string {
		return func(t *testing.T) []string {
			srv, _ := versionServer(t, "v1")
			return []string{"smoke-test", "--url", srv.URL + path, "--interval", "10ms", "--timeout", "200ms"}
		}
	}
	rendered := func(t *testing.T, ephemeral bool) string {
		isolateAWS(t)
		dir := filepath.Join(t.TempDir(), "stack")
		a := []string{"provision", "--name", "demo", "--dir", dir, "--render-only", "--state-backend", "local"}
		if ephemeral {
			a = append(a, "--ephemeral")
		}
		if code, _, stderr := run(t, a...); code != ExitOK {
			t.Fatalf("render: %s", stderr)
		}
		return dir
	}
	cases := []schemaCase{
		{name: "version", command: "version", code: ExitOK, setup: args("version")},
		{name: "version bad flag", command: "version", code: ExitUsage, kind: KindUsage, setup: args("version", "--bogus")},

		{name: "provision render-only", command: "provision", code: ExitOK, setup: func(t *testing.T) []string {
			isolateAWS(t)
			return []string{"provision", "--name", "demo", "--dir", filepath.Join(t.TempDir(), "s"), "--render-only", "--state-backend", "local"}
		}},
		{name: "provision terraform fails", command: "provision", code: ExitFailed, kind: KindTerraform, setup: func(t *testing.T) []string {
			isolateAWS(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			return []string{"provision", "--name", "demo", "--dir", filepath.Join(t.TempDir(), "s"), "--plan-only", "--state-backend", "local"}
		}},
		{name: "provision name too short", command: "provision", code: ExitUsage, kind: KindUsage, setup: func(t *testing.T) []string {
			isolateAWS(t)
			return []string{"provision", "--name", "ab", "--dir", filepath.Join(t.TempDir(), "s")}
		}},

		{name: "deploy succeeded", command: "deploy", code: ExitOK, setup: deployWith(completedAtOnce)},
		{name: "deploy failed", command: "deploy", code: ExitFailed, kind: KindDeploymentFailed, setup: deployWith(failedRollout)},
		{name: "deploy timed out", command: "deploy", code: ExitFailed, kind: KindTimeout, setup: deployWith(nil, "--timeout", "1s")},
		{name: "deploy service not found", command: "deploy", code: ExitUsage, kind: KindNotFound, setup: func(t *testing.T) []string {
			srv := deployServer(t, ecsfake.Options{})
			return deployArgs(srv, "--cluster", "demo", "--service", "nope", "--image", "a/b:1")
		}},
		{name: "deploy bad duration", command: "deploy", code: ExitUsage, kind: KindUsage, setup: args("deploy", "--cluster", "c", "--service", "s", "--image", "a/b:1", "--timeout", "5")},

		{name: "smoke-test passed", command: "smoke-test", code: ExitOK, setup: smoke("/version")},
		{name: "smoke-test failed", command: "smoke-test", code: ExitFailed, kind: KindChecksFailed, setup: smoke("/missing")},
		{name: "smoke-test bad status", command: "smoke-test", code: ExitUsage, kind: KindUsage, setup: args("smoke-test", "--url", "http://127.0.0.1:1", "--expect-status", "abc")},

		{name: "destroy skipped: not ephemeral", command: "destroy", code: ExitOK, setup: func(t *testing.T) []string {
			dir := rendered(t, false)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			return []string{"destroy", "--stack-dir", dir, "--only-if-ephemeral"}
		}},
		{name: "destroy terraform fails", command: "destroy", code: ExitFailed, kind: KindTerraform, setup: func(t *testing.T) []string {
			dir := rendered(t, true)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			state := `{"version":4,"terraform_version":"1.11.4","serial":1,"lineage":"x","outputs":{},"resources":[{"mode":"managed","type":"aws_ecs_cluster","name":"this","provider":"provider[\"registry.terraform.io/hashicorp/aws\"]","instances":[{"attributes":{"id":"arn:aws:ecs:us-east-1:123456789012:cluster/demo"}}]}]}`
			if err := os.WriteFile(filepath.Join(dir, "terraform.tfstate"), []byte(state), 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"destroy", "--stack-dir", dir}
		}},
		{name: "destroy no stack dir", command: "destroy", code: ExitUsage, kind: KindUsage, setup: func(t *testing.T) []string {
			isolateAWS(t)
			return []string{"destroy", "--stack-dir", t.TempDir()}
		}},

		{name: "status steady", command: "status", code: ExitOK, setup: statusOf("")},
		{name: "status not steady", command: "status", code: ExitFailed, kind: KindNotSteady, setup: statusOf("DRAINING")},
		{name: "status without a stack", command: "status", code: ExitUsage, kind: KindUsage, setup: args("status")},
		{name: "status without a region", command: "status", code: ExitUsage, kind: KindRegion, setup: func(t *testing.T) []string {
			isolateAWS(t)
			t.Setenv("AWS_REGION", "")
			return []string{"status", "--name", "demo"}
		}},
		{name: "provision without a region", command: "provision", code: ExitUsage, kind: KindRegion, setup: func(t *testing.T) []string {
			isolateAWS(t)
			t.Setenv("AWS_REGION", "")
			return []string{"provision", "--name", "demo", "--dir", filepath.Join(t.TempDir(), "s")}
		}},

		{name: "iam-policy", command: "iam-policy", code: ExitOK, setup: args("iam-policy", "--for", "deploy")},
		{name: "iam-policy bad step", command: "iam-policy", code: ExitUsage, kind: KindUsage, setup: args("iam-policy", "--for", "deplyo")},

		{name: "init", command: "init", code: ExitOK, setup: func(t *testing.T) []string {
			isolateAWS(t)
			return []string{"init", "--config", filepath.Join(t.TempDir(), "graviton-cd.hcl")}
		}},
		{name: "init over an existing file", command: "init", code: ExitUsage, kind: KindUsage, setup: func(t *testing.T) []string {
			isolateAWS(t)
			p := filepath.Join(t.TempDir(), "graviton-cd.hcl")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return []string{"init", "--config", p}
		}},

		{name: "doctor ok", command: "doctor", code: ExitOK, setup: func(t *testing.T) []string { return doctorArgs(t, nil) }},
		{name: "doctor permissions denied", command: "doctor", code: ExitFailed, kind: KindChecksFailed, setup: func(t *testing.T) []string { return doctorArgs(t, []string{"ecs:UpdateService"}) }},
		{name: "doctor without credentials", command: "doctor", code: ExitUsage, kind: KindCredentials, setup: func(t *testing.T) []string {
			isolateAWS(t)
			noCredentials(t)
			return []string{"doctor", "--for", "deploy"}
		}},
		{name: "doctor without region", command: "doctor", code: ExitUsage, kind: KindRegion, setup: func(t *testing.T) []string {
			isolateAWS(t)
			t.Setenv("AWS_REGION", "")
			return []string{"doctor", "--for", "deploy"}
		}},

		{name: "logs", command: "logs", code: ExitOK, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, ecsfake.Options{})
			e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now().Add(-time.Minute), "hello")
			e.logs.Put("/ecs/web", "no-task-shape", time.Now().Add(-time.Minute), "from elsewhere")
			return e.args("logs", "--stack-dir", e.dir)
		}},
		{name: "logs missing group", command: "logs", code: ExitUsage, kind: KindNotFound, setup: func(t *testing.T) []string {
			return newVerbsEnv(t, ecsfake.Options{}).args("logs", "--log-group", "/ecs/nope")
		}},
		{name: "logs bad since", command: "logs", code: ExitUsage, kind: KindUsage, setup: args("logs", "--log-group", "/ecs/x", "--since", "yesterday")},
		{name: "deploy dry run", command: "deploy", code: ExitOK, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, ecsfake.Options{})
			return e.args("deploy", "--stack-dir", e.dir, "--image", "example.com/web:2", "--check-image-arch=false", "--dry-run")
		}},
		{name: "rollback succeeded", command: "rollback", code: ExitOK, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, threeRevisions(ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}}))
			return e.args("rollback", "--stack-dir", e.dir)
		}},
		{name: "rollback failed", command: "rollback", code: ExitFailed, kind: KindDeploymentFailed, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, threeRevisions(ecsfake.Options{Rollouts: [][]ecsfake.Frame{failedRollout}}))
			return e.args("rollback", "--stack-dir", e.dir)
		}},
		{name: "rollback missing revision", command: "rollback", code: ExitUsage, kind: KindNotFound, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, threeRevisions(ecsfake.Options{}))
			return e.args("rollback", "--stack-dir", e.dir, "--to", "99")
		}},
		{name: "run-task succeeded", command: "run-task", code: ExitOK, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{{ID: runTaskID}}})
			e.logs.Put("/ecs/web", "app/app/"+runTaskID, time.Now(), "done")
			return e.args("run-task", "--stack-dir", e.dir, "--command", "bin/migrate")
		}},
		{name: "run-task exit code 3", command: "run-task", code: ExitFailed, kind: KindTaskFailed, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{{ID: runTaskID, ExitCode: 3}}})
			return e.args("run-task", "--stack-dir", e.dir)
		}},
		{name: "run-task timed out", command: "run-task", code: ExitFailed, kind: KindTimeout, setup: func(t *testing.T) []string {
			e := newVerbsEnv(t, ecsfake.Options{Tasks: []ecsfake.TaskScript{{ID: runTaskID, Forever: true}}})
			return e.args("run-task", "--stack-dir", e.dir, "--timeout", "1s")
		}},

		{name: "unknown command", command: "", code: ExitUsage, kind: KindUsage, setup: args("deplyo")},
		{name: "no command", command: "", code: ExitOK, setup: args()},
		{name: "help of a command", command: "deploy", code: ExitOK, setup: args("help", "deploy")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GRAVITON_CD_OUTPUT", "")
			a := tc.setup(t)
			code, stdout, stderr := run(t, append([]string{"--output", "json"}, a...)...)
			if tc.code >= 0 && code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(stdout))
			if err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("stdout does not match %s: %v\n%s", outputSchema, err, stdout)
			}
			env, result := envelopeOf(t, stdout)
			if env.ExitCode != code || env.OK != (code == ExitOK) {
				t.Errorf("envelope says exit %d, ok %v; the process exits %d", env.ExitCode, env.OK, code)
			}
			if got := ptrString(env.Command); got != tc.command {
				t.Errorf("command %q, want %q", got, tc.command)
			}
			if tc.kind != "" && (env.Error == nil || env.Error.Kind != tc.kind) {
				t.Errorf("error %+v, want kind %s", env.Error, tc.kind)
			}
			if code != ExitOK && !strings.Contains(stderr, env.Error.Message) {
				t.Errorf("the error message %q is not the one on stderr:\n%s", env.Error.Message, stderr)
			}
			if code == ExitOK && tc.command != "" && !strings.HasPrefix(tc.name, "help") && bytes.Equal(result, []byte("null")) {
				t.Errorf("a success without a result")
			}
			var whole any
			if err := json.Unmarshal([]byte(stdout), &whole); err != nil {
				t.Fatal(err)
			}
			if path := emptyString(whole, ""); path != "" {
				t.Errorf("%s is \"\": an absent value is null", path)
			}
			if testing.Verbose() {
				t.Logf("%s", stdout)
			}
		})
	}
}

// statusArgs runs status on an ECS fake whose service has serviceStatus
// ("" is ACTIVE).
func statusArgs(t *testing.T, serviceStatus string) []string {
	t.Helper()
	srv := deployServer(t, ecsfake.Options{ServiceStatus: serviceStatus})
	dir := t.TempDir()
	out := `{"stack_name":"demo","region":"us-east-1","cluster_name":"demo","service_name":"web","container_name":"app"}`
	if err := os.WriteFile(filepath.Join(dir, "outputs.json"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"status", "--stack-dir", dir, "--endpoint-url", srv.URL, "--region", "us-east-1"}
}

// emptyString returns the path of the first "" in v, or "".
func emptyString(v any, path string) string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return cmp.Or(path, ".")
		}
	case []any:
		for i, e := range x {
			if p := emptyString(e, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case map[string]any:
		for k, e := range x {
			if p := emptyString(e, path+"."+k); p != "" {
				return p
			}
		}
	}
	return ""
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// noCredentials removes every source of AWS credentials.
func noCredentials(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// doctorArgs points doctor at a fake STS and IAM (the doctor package's tests
// cover them in detail) that denies the actions in deny.
func doctorArgs(t *testing.T, deny []string) []string {
	t.Helper()
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			http.NotFound(w, r)
			return
		}
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "text/xml")
		switch r.Form.Get("Action") {
		case "GetCallerIdentity":
			fmt.Fprint(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		case "SimulatePrincipalPolicy":
			var b strings.Builder
			for i := 1; r.Form.Has(fmt.Sprintf("ActionNames.member.%d", i)); i++ {
				a := r.Form.Get(fmt.Sprintf("ActionNames.member.%d", i))
				d := "allowed"
				if slices.Contains(deny, a) {
					d = "implicitDeny"
				}
				fmt.Fprintf(&b, `<member><EvalActionName>%s</EvalActionName><EvalDecision>%s</EvalDecision></member>`, a, d)
			}
			fmt.Fprintf(w, `<SimulatePrincipalPolicyResponse><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>`, b.String())
		default:
			http.Error(w, "unexpected", http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return []string{"doctor", "--for", "deploy", "--endpoint-url", srv.URL}
}

// TestSchemaListsEveryKindAndCommand keeps the schema's enums and the code
// in step: a new error kind or subcommand needs its place in the schema.
func TestSchemaListsEveryKindAndCommand(t *testing.T) {
	b, err := os.ReadFile(outputSchema)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties struct {
			Command struct {
				AnyOf []struct {
					Enum []string `json:"enum"`
				} `json:"anyOf"`
			} `json:"command"`
		} `json:"properties"`
		Defs map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, a := range s.Properties.Command.AnyOf {
		commands = append(commands, a.Enum...)
	}
	for _, c := range commandNames(newApp(nil, nil)) {
		if !slices.Contains(commands, c) {
			t.Errorf("subcommand %s is not in the schema's command enum", c)
		}
		if _, ok := s.Defs[c]; !ok {
			t.Errorf("subcommand %s has no result definition in $defs", c)
		}
	}
	if !bytes.Contains(b, []byte(`"kind": {`)) {
		t.Fatal("no error kind in the schema")
	}
	for _, k := range ErrorKinds {
		if !bytes.Contains(b, []byte(`"`+string(k)+`"`)) {
			t.Errorf("error kind %s is not in the schema", k)
		}
	}
}

// TestJSONOutputDocExamplesMatchSchema validates every ```json example of
// docs/json-output.md against the schema.
func TestJSONOutputDocExamplesMatchSchema(t *testing.T) {
	sch := compileOutputSchema(t)
	b, err := os.ReadFile("../../docs/json-output.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)\n```").FindAllSubmatch(b, -1)
	if len(blocks) < 9 {
		t.Fatalf("%d JSON examples; want one per subcommand at least", len(blocks))
	}
	seen := map[string]bool{}
	for i, m := range blocks {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(m[1]))
		if err != nil {
			t.Errorf("example %d is not JSON: %v", i+1, err)
			continue
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("example %d does not match the schema: %v", i+1, err)
		}
		var e struct{ Command *string }
		_ = json.Unmarshal(m[1], &e)
		seen[ptrString(e.Command)] = true
	}
	for _, c := range commandNames(newApp(nil, nil)) {
		if !seen[c] {
			t.Errorf("no example of %s", c)
		}
	}
}
