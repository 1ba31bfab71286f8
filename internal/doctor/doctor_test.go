package doctor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
)

// fakeAWS speaks the STS and IAM query protocols: GetCallerIdentity,
// GetRole and SimulatePrincipalPolicy (deny lists the actions it denies;
// simulateError, when set, is the error code it answers instead).
type fakeAWS struct {
	mu            sync.Mutex
	deny          []string
	simulateError string
	calls         []string
	simulated     []string // PolicySourceArn of each simulation
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet { // an endpoint probe
		http.NotFound(w, r)
		return
	}
	_ = r.ParseForm()
	action := r.Form.Get("Action")
	f.mu.Lock()
	f.calls = append(f.calls, action)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch action {
	case "GetCallerIdentity":
		fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:sts::123456789012:assumed-role/ci-deploy/circleci</Arn><UserId>AROAEXAMPLE:circleci</UserId><Account>123456789012</Account>
</GetCallerIdentityResult></GetCallerIdentityResponse>`)
	case "GetRole":
		fmt.Fprint(w, `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>
<Path>/ci/</Path><RoleName>ci-deploy</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>arn:aws:iam::123456789012:role/ci/ci-deploy</Arn>
<CreateDate>2026-01-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>
</Role></GetRoleResult></GetRoleResponse>`)
	case "SimulatePrincipalPolicy":
		if f.simulateError != "" {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>%s</Code><Message>not allowed</Message></Error></ErrorResponse>`, f.simulateError)
			return
		}
		f.mu.Lock()
		f.simulated = append(f.simulated, r.Form.Get("PolicySourceArn"))
		f.mu.Unlock()
		var b strings.Builder
		for i := 1; ; i++ {
			a := r.Form.Get(fmt.Sprintf("ActionNames.member.%d", i))
			if a == "" {
				break
			}
			decision := "allowed"
			if slices.Contains(f.deny, a) {
				decision = "implicitDeny"
			}
			fmt.Fprintf(&b, `<member><EvalActionName>%s</EvalActionName><EvalResourceName>*</EvalResourceName><EvalDecision>%s</EvalDecision></member>`, a, decision)
		}
		fmt.Fprintf(w, `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>
<IsTruncated>false</IsTruncated><EvaluationResults>%s</EvaluationResults></SimulatePrincipalPolicyResult></SimulatePrincipalPolicyResponse>`, b.String())
	default:
		http.Error(w, "unexpected action "+action, http.StatusBadRequest)
	}
}

func input(t *testing.T, f *fakeAWS, steps []iampolicy.Step) Input {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", ""),
	}
	return Input{
		Config: cfg, Steps: steps, STS: sts.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg),
		Endpoints: Endpoints(context.Background(), cfg, steps),
	}
}

func check(t *testing.T, r Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, r.Checks)
	return Check{}
}

func TestDoctorAllowed(t *testing.T) {
	f := &fakeAWS{}
	rep := Run(t.Context(), input(t, f, []iampolicy.Step{iampolicy.Deploy}))
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(rep.Account) != "123456789012" || !strings.Contains(aws.ToString(rep.ARN), "assumed-role/ci-deploy") {
		t.Errorf("account %v, arn %v", aws.ToString(rep.Account), aws.ToString(rep.ARN))
	}
	if c := check(t, rep, "credentials"); c.Status != OK || !strings.Contains(c.Message, "account 123456789012") {
		t.Errorf("credentials check %+v", c)
	}
	if c := check(t, rep, "terraform"); c.Status != Skipped {
		t.Errorf("deploy needs no terraform: %+v", c)
	}
	if p := rep.Permissions; p == nil || !p.Checked || len(p.Denied) != 0 {
		t.Fatalf("permissions %+v", p)
	}
	// The session ARN is turned into the role's ARN, path included.
	for _, arn := range f.simulated {
		if arn != "arn:aws:iam::123456789012:role/ci/ci-deploy" {
			t.Errorf("simulated %s", arn)
		}
	}
	if len(f.simulated) == 0 {
		t.Error("nothing simulated")
	}
	if len(rep.Endpoints) != 4 { // sts, ecs, ecr, logs
		t.Errorf("endpoints %+v", rep.Endpoints)
	}
}

func TestDoctorDenied(t *testing.T) {
	f := &fakeAWS{deny: []string{"ecs:UpdateService", "ecs:RegisterTaskDefinition"}}
	rep := Run(t.Context(), input(t, f, []iampolicy.Step{iampolicy.Deploy}))
	err := rep.Err()
	if err == nil || !strings.Contains(err.Error(), "ecs:RegisterTaskDefinition, ecs:UpdateService") || !strings.Contains(err.Error(), "iam-policy --for deploy") {
		t.Fatalf("err %v", err)
	}
	if got := rep.Permissions.Denied; !slices.Equal(got, []string{"ecs:RegisterTaskDefinition", "ecs:UpdateService"}) {
		t.Errorf("denied %v", got)
	}
}

func TestDoctorCannotSimulate(t *testing.T) {
	f := &fakeAWS{simulateError: "AccessDenied"}
	rep := Run(t.Context(), input(t, f, []iampolicy.Step{iampolicy.Status}))
	if err := rep.Err(); err != nil {
		t.Fatalf("a permission check IAM refuses is a note, not a failure: %v", err)
	}
	c := check(t, rep, "permissions")
	if c.Status != Note || !strings.Contains(c.Message, "AccessDenied") || rep.Permissions.Checked {
		t.Errorf("permissions %+v", c)
	}
}

func TestDoctorEndpointDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + l.Addr().String()
	l.Close()
	f := &fakeAWS{}
	in := input(t, f, []iampolicy.Step{iampolicy.SmokeTest})
	in.Endpoints = append(in.Endpoints, Endpoint{Service: "ecs", URL: down})
	rep := Run(t.Context(), in)
	c := check(t, rep, "endpoints")
	if c.Status != Failed || !strings.Contains(c.Message, down) || !strings.Contains(c.Message, "connection refused") {
		t.Errorf("endpoints %+v", c)
	}
}

func TestCheckTerraform(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "terraform")
	script := "#!/bin/sh\necho '{\"terraform_version\":\"1.11.4\",\"platform\":\"linux_amd64\",\"provider_selections\":{},\"terraform_outdated\":false}'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(dir, "mirror")
	for _, p := range []string{"registry.terraform.io/hashicorp/aws/6.47.1/linux_amd64", "registry.opentofu.org/hashicorp/aws/4.0.0/linux_amd64"} {
		if err := os.MkdirAll(filepath.Join(mirror, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte("provider_installation {\n  filesystem_mirror {\n    path = \""+mirror+"\"\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TF_CLI_CONFIG_FILE": rc}
	tf, checks := CheckTerraform(t.Context(), TerraformOptions{Binary: bin, Version: "1.11.4", CacheDir: dir, Getenv: func(k string) string { return env[k] }})
	if aws.ToString(tf.Version) != "1.11.4" || aws.ToString(tf.Binary) != bin || !slices.Equal(tf.ProviderVersions, []string{"6.47.1"}) {
		t.Errorf("terraform %+v", tf)
	}
	for _, c := range checks {
		if c.Status != OK {
			t.Errorf("check %+v", c)
		}
	}

	t.Run("nothing on PATH is a note: provision installs", func(t *testing.T) {
		none := func(string) (string, error) { return "", os.ErrNotExist }
		tf, checks := CheckTerraform(t.Context(), TerraformOptions{Version: "1.11.4", CacheDir: t.TempDir(), LookPath: none, Getenv: func(string) string { return "" }})
		if tf.Binary != nil || checks[0].Status != Note || !strings.Contains(checks[0].Message, "will install Terraform 1.11.4") {
			t.Errorf("%+v %+v", tf, checks)
		}
		if checks[1].Name != "provider" || checks[1].Status != Note {
			t.Errorf("provider %+v", checks[1])
		}
	})
	t.Run("a missing --terraform-binary fails", func(t *testing.T) {
		_, checks := CheckTerraform(t.Context(), TerraformOptions{Binary: filepath.Join(dir, "nope"), CacheDir: dir, Getenv: func(string) string { return "" }})
		if checks[0].Status != Failed {
			t.Errorf("%+v", checks)
		}
	})
}
