package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/configfile"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// readBack parses the file init wrote with the CLI's schema.
func readBack(t *testing.T, path string) *configfile.File {
	t.Helper()
	f, err := configfile.Load(path, newConfigSchema().schema)
	if err != nil {
		t.Fatalf("%s does not read back: %v", path, err)
	}
	return f
}

func settingValues(f *configfile.File, block string) map[string][]string {
	m := map[string][]string{}
	for _, s := range f.Settings(block) {
		m[s.Attr.Name] = s.Values
	}
	return m
}

// commentedAttr is a line init wrote as a commented-out attribute.
var commentedAttr = regexp.MustCompile(`(?m)^(\s*)# ([a-z_]+ = .*)$`)

// TestInitStarter: the starter file reads back, every commented-out
// attribute is valid too, and provision renders a stack from it.
func TestInitStarter(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	wd := t.TempDir()
	t.Chdir(wd)
	code, stdout, stderr := run(t, "--output", "json", "init", "--name", "shop")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res initResult
	if err := json.Unmarshal(resultOf(t, stdout), &res); err != nil || res.Path != configfile.DefaultName || res.FromService != nil {
		t.Fatalf("result %s (%v)", stdout, err)
	}
	if !slices.Contains(res.Attributes, "name") || !slices.Contains(res.Attributes, "deploy.rollback_on_failure") {
		t.Errorf("attributes = %v", res.Attributes)
	}
	f := readBack(t, configfile.DefaultName)
	top := settingValues(f, "")
	if !slices.Equal(top["name"], []string{"shop"}) || !slices.Equal(top["region"], []string{"us-east-1"}) {
		t.Errorf("top level = %v", top)
	}
	src, _ := os.ReadFile(configfile.DefaultName)
	uncommented := commentedAttr.ReplaceAll(src, []byte("$1$2"))
	if n := len(commentedAttr.FindAll(src, -1)); n < 10 {
		t.Errorf("only %d commented-out settings:\n%s", n, src)
	}
	if _, err := configfile.Parse("uncommented.hcl", uncommented, newConfigSchema().schema); err != nil {
		t.Errorf("with every commented-out attribute in, the file does not read: %v\n%s", err, uncommented)
	}
	code, _, stderr = run(t, "provision", "--render-only", "--state-backend", "local", "--dir", "stack")
	if code != ExitOK {
		t.Fatalf("provision from the starter: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(wd, "stack", hclgen.ModuleFile)); err != nil {
		t.Error(err)
	}
}

// TestInitRefusesToOverwrite: an existing file is left as it is (exit 2)
// unless --force.
func TestInitRefusesToOverwrite(t *testing.T) {
	isolateAWS(t)
	t.Chdir(t.TempDir())
	const mine = "name = \"mine\"\n"
	if err := os.WriteFile(configfile.DefaultName, []byte(mine), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "init")
	if code != ExitUsage || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, want 2 naming --force\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(configfile.DefaultName); string(b) != mine {
		t.Errorf("the file was changed:\n%s", b)
	}
	code, _, stderr = run(t, "init", "--force")
	if code != ExitOK {
		t.Fatalf("--force: exit %d\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(configfile.DefaultName); string(b) == mine {
		t.Error("--force left the file as it was")
	}
}

// initServer is an ECS endpoint with a service that runs a task definition
// with a port, cpu and memory, environment and secrets.
func initServer(t *testing.T) *ecsfake.Server {
	t.Helper()
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return ecsfake.New(t, ecsfake.NewClock(time.Now()), ecsfake.Options{
		Cluster: "shop", Service: "shop", DesiredCount: 3,
		TaskDefinition: map[string]any{
			"family": "shop", "cpu": "512", "memory": "1 GB", "networkMode": "awsvpc",
			"containerDefinitions": []any{
				map[string]any{"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", "essential": true},
				map[string]any{
					"name": "web", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1.4.2", "essential": true,
					"portMappings": []any{map[string]any{"containerPort": 8080, "protocol": "tcp"}},
					"environment": []any{
						map[string]any{"name": "LOG_LEVEL", "value": "info"},
						map[string]any{"name": "GREETING", "value": `say "${hi}"`},
					},
					"secrets": []any{
						map[string]any{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db-AbCdEf"},
						map[string]any{"name": "API_KEY", "valueFrom": "/shop/api-key"},
					},
				},
			},
		},
	})
}

// TestInitFromService: the file says the service's image, container, port,
// cpu, memory, network mode and desired count (and its environment and
// secret ARNs, or shows them as comments where this graviton-cd has no flag
// for them); it reads back, and provision renders a stack from it.
func TestInitFromService(t *testing.T) {
	srv := initServer(t)
	t.Setenv("PATH", "")
	wd := t.TempDir()
	t.Chdir(wd)
	code, stdout, stderr := run(t, "--output", "json", "init", "--from-service", "shop/shop", "--region", "us-east-1", "--endpoint-url", srv.URL)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var res initResult
	if err := json.Unmarshal(resultOf(t, stdout), &res); err != nil || res.FromService == nil || *res.FromService != "shop/shop" {
		t.Fatalf("result %s (%v)", stdout, err)
	}
	if srv.Calls("DescribeServices") != 1 || srv.Calls("DescribeTaskDefinition") != 1 || srv.Calls("RegisterTaskDefinition")+srv.Calls("UpdateService") != 0 {
		t.Errorf("calls: %v", srv.CallLog())
	}
	f := readBack(t, configfile.DefaultName)
	want := map[string][]string{
		"name": {"shop"}, "region": {"us-east-1"}, "image": {"123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:1.4.2"},
		"container_name": {"web"}, "container_port": {"8080"}, "cpu": {"512"}, "memory": {"1024"},
		"desired_count": {"3"}, "network_mode": {"awsvpc"},
	}
	cs := newConfigSchema()
	wantEnv := []string{`GREETING=say "${hi}"`, "LOG_LEVEL=info"}
	wantSecrets := []string{
		"API_KEY=arn:aws:ssm:us-east-1:123456789012:parameter/shop/api-key",
		"DB_PASSWORD=arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/db-AbCdEf",
	}
	src, _ := os.ReadFile(configfile.DefaultName)
	for flag, items := range map[string][]string{"env": wantEnv, "secret": wantSecrets} {
		if _, ok := cs.attrOf(topLevelCommand, flag); ok {
			want[flag] = items
			continue
		}
		// No such flag yet: the values are kept as a comment that would read back.
		m := regexp.MustCompile(`(?m)^# ` + flag + ` = \{`).FindIndex(src)
		if m == nil {
			t.Errorf("no commented %s in:\n%s", flag, src)
		}
	}
	got := settingValues(f, "")
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if strings.Contains(string(src), "log-router") || strings.Contains(string(src), "fluent-bit") {
		t.Errorf("the file names the sidecar, not the container with the port:\n%s", src)
	}
	// The task definition does not say the instances: three tasks of 1 GiB need more than the default two.
	code, _, stderr = run(t, "provision", "--render-only", "--state-backend", "local", "--dir", "stack", "--max-size", "4")
	if code != ExitOK {
		t.Fatalf("provision from the file: exit %d\n%s", code, stderr)
	}
	module, err := os.ReadFile(filepath.Join(wd, "stack", hclgen.ModuleFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"shop:1.4.2", `"1024"`, "8080"} {
		if !strings.Contains(string(module), w) {
			t.Errorf("main.tf lacks %s", w)
		}
	}
}

// TestInitFromServiceBadInputExits2: bad input is refused before any AWS
// call, and nothing is written.
func TestInitFromServiceBadInputExits2(t *testing.T) {
	srv := initServer(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no service", []string{"--from-service", "shop"}, "not CLUSTER/SERVICE"},
		{"empty service", []string{"--from-service", "shop/"}, "not CLUSTER/SERVICE"},
		{"no region", []string{"--from-service", "shop/shop", "--region", ""}, "region"},
		{"bad name", []string{"--from-service", "shop/shop", "--name", "Shop"}, "--name"},
		{"bad endpoint", []string{"--from-service", "shop/shop", "--endpoint-url", "ftp://x"}, "endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd := t.TempDir()
			t.Chdir(wd)
			if tc.name == "no region" {
				t.Setenv("AWS_REGION", "")
			}
			code, _, stderr := run(t, append([]string{"init"}, tc.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want 2 saying %q\n%s", code, tc.want, stderr)
			}
			if entries, _ := os.ReadDir(wd); len(entries) != 0 {
				t.Errorf("wrote %d files", len(entries))
			}
		})
	}
	if n := len(srv.CallLog()); n != 0 {
		t.Errorf("%d AWS calls for bad input", n)
	}
	// A missing service fails the command (exit 1) and writes nothing.
	wd := t.TempDir()
	t.Chdir(wd)
	code, _, stderr := run(t, "init", "--from-service", "shop/nope", "--region", "us-east-1", "--endpoint-url", srv.URL)
	if code != ExitFailed || !strings.Contains(stderr, "no such active service") {
		t.Errorf("missing service: exit %d\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Errorf("wrote %d files", len(entries))
	}
}
