package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/configfile"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// writeConfig writes src as graviton-cd.hcl in a new working directory and
// moves the test there.
func writeConfig(t *testing.T, src string) string {
	t.Helper()
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.WriteFile(configfile.DefaultName, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestConfigSchemaHasEveryFlag: the file can say every flag of every command
// that reads it, in that command's section, with the flag's type. A flag of
// a type the schema does not know would be left out silently.
func TestConfigSchemaHasEveryFlag(t *testing.T) {
	cs := newConfigSchema()
	app := newApp(nil, nil)
	for _, name := range configCommands {
		for _, f := range app.Command(name).Flags {
			flag := f.Names()[0]
			if flag == "config" {
				continue
			}
			a, ok := cs.attrOf(name, flag)
			if !ok {
				t.Errorf("%s --%s (%T) cannot be said in the file", name, flag, f)
				continue
			}
			if a.Name != strings.ReplaceAll(flag, "-", "_") {
				t.Errorf("%s --%s is attribute %s", name, flag, a.Name)
			}
			want := map[bool]configfile.Kind{}
			switch f.(type) {
			case *ucli.IntFlag:
				want[true] = configfile.Int
			case *ucli.BoolFlag:
				want[true] = configfile.Bool
			case *ucli.DurationFlag:
				want[true] = configfile.Duration
			case *ucli.StringSliceFlag:
				want[true] = configfile.List
			case *ucli.StringFlag:
				want[true] = configfile.String
			}
			if k, known := want[true]; known && a.Kind != k {
				t.Errorf("%s --%s is a %v attribute, want %v", name, flag, a.Kind, k)
			}
		}
	}
	for _, global := range []string{"region", "log-level", "output"} {
		if _, ok := cs.attrOf("provision", global); !ok {
			t.Errorf("global --%s cannot be said at the top level", global)
		}
	}
}

// TestTopLevelReachesCommandsWithTheSameFlag: a top-level setting goes to
// each command with a flag of that name and no default of its own; a
// command's block wins over the top level.
func TestTopLevelReachesCommandsWithTheSameFlag(t *testing.T) {
	cs := newConfigSchema()
	f, err := configfile.Parse("c.hcl", []byte(`
name          = "shop"
region        = "eu-west-1"
image         = "example.com/shop:1"
desired_count = 2
timeout       = "45m"
instance_type = "m7g.large"
deploy {
  desired_count = 3
  timeout       = "20m"
}
smoke_test {
  path = "/healthz"
}
`), cs.schema)
	if err != nil {
		t.Fatal(err)
	}
	got := func(command string) map[string]string {
		m := map[string]string{}
		for _, s := range cs.settingsFor(f, command) {
			m[s.Attr.Flag] = strings.Join(s.Values, ",")
		}
		return m
	}
	want := map[string]map[string]string{
		"provision": {"name": "shop", "region": "eu-west-1", "image": "example.com/shop:1", "desired-count": "2", "timeout": "45m", "instance-type": "m7g.large"},
		"destroy":   {"name": "shop", "region": "eu-west-1", "image": "example.com/shop:1", "desired-count": "2", "timeout": "45m", "instance-type": "m7g.large"},
		// deploy's own timeout (15m by default) and desired_count (by default
		// the service's) are not provision's: its block sets both.
		"deploy":     {"name": "shop", "region": "eu-west-1", "image": "example.com/shop:1", "desired-count": "3", "timeout": "20m"},
		"smoke-test": {"name": "shop", "region": "eu-west-1", "path": "/healthz"},
		"status":     {"name": "shop", "region": "eu-west-1"},
	}
	for command, w := range want {
		g := got(command)
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s gets %v\nwant %v", command, g, w)
		}
	}
	// Without a deploy block, deploy keeps the service's count.
	f, err = configfile.Parse("c.hcl", []byte("desired_count = 2\ntimeout = \"45m\"\n"), cs.schema)
	if err != nil {
		t.Fatal(err)
	}
	if g := got("deploy"); len(g) != 0 {
		t.Errorf("deploy gets %v from the top level, want nothing", g)
	}
}

// renderedStackFlags are provision flags with values other than their
// defaults, each as the command line and the file say it. Every provision
// flag that shapes the rendered stack is here, so the test below shows that
// the file can say all of them.
var renderedStackFlags = []struct {
	flag string
	args []string // one per --flag on the command line
	hcl  string
}{
	{"name", []string{"shop"}, `"shop"`},
	{"region", []string{"eu-west-1"}, `"eu-west-1"`},
	{"instance-type", []string{"m7g.large"}, `"m7g.large"`},
	{"min-size", []string{"2"}, "2"},
	{"max-size", []string{"6"}, "6"},
	{"desired-capacity", []string{"3"}, "3"},
	{"vpc-cidr", []string{"10.42.0.0/20"}, `"10.42.0.0/20"`},
	{"private-subnets", []string{"true"}, "true"},
	{"image", []string{"public.ecr.aws/docker/library/nginx:1.27"}, `"public.ecr.aws/docker/library/nginx:1.27"`},
	{"container-name", []string{"web"}, `"web"`},
	{"container-port", []string{"8080"}, "8080"},
	{"desired-count", []string{"2"}, "2"},
	{"cpu", []string{"512"}, "512"},
	{"memory", []string{"1024"}, "1024"},
	{"health-check-path", []string{"/healthz"}, `"/healthz"`},
	{"network-mode", []string{"awsvpc"}, `"awsvpc"`},
	{"log-retention-days", []string{"30"}, "30"},
	{"tags", []string{"team=shop,cost-center=42"}, `"team=shop,cost-center=42"`},
	{"state-backend", []string{"local"}, `"local"`},
	{"render-only", []string{"true"}, "true"},
	// A list in the file; a value with a comma stays one value both ways.
	{"env", []string{"GREETING=hello,world", "LOG_LEVEL=debug"}, `["GREETING=hello,world", "LOG_LEVEL=debug"]`},
	// A map in the file: its items in key order.
	{"secret", []string{
		"API_KEY=arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-key",
		"DB_PASSWORD=arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf",
	}, `{
  DB_PASSWORD = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf"
  API_KEY     = "arn:aws:ssm:eu-west-1:123456789012:parameter/shop/api-key"
}`},
	{"secrets-kms-key-arn", []string{"arn:aws:kms:eu-west-1:123456789012:key/01234567-89ab-cdef-0123-456789abcdef"}, `"arn:aws:kms:eu-west-1:123456789012:key/01234567-89ab-cdef-0123-456789abcdef"`},
	{"task-role-policy-arn", []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/shop-app"},
		`["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::123456789012:policy/shop-app"]`},
	{"certificate-arn", []string{"arn:aws:acm:eu-west-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"}, `"arn:aws:acm:eu-west-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"`},
	{"domain", []string{"shop.example.com"}, `"shop.example.com"`},
	{"hosted-zone-id", []string{"Z0123456789ABCDEFGHIJ"}, `"Z0123456789ABCDEFGHIJ"`},
	{"enable-exec", []string{"true"}, "true"},
	{"max-count", []string{"6"}, "6"},
	{"min-count", []string{"2"}, "2"},
	{"cpu-target", []string{"50"}, "50"},
	{"strategy", []string{"canary"}, `"canary"`},
	{"bake-time", []string{"20m"}, `"20m"`},
	{"canary-percent", []string{"20"}, `"20"`},
	{"canary-interval", []string{"10m"}, `"10m"`},
	{"rollback-alarm", []string{"shop-5xx", "shop-latency"}, `["shop-5xx", "shop-latency"]`},
}

// notRendered are provision flags that choose how provision runs, not what
// it renders (or that conflict with a new VPC or the canary strategy above).
var notRendered = []string{
	"dir", "stack-dir", "vpc-id", "subnet-ids", "alb-subnet-ids", "state-bucket", "state-key", "state-region",
	"linear-percent", "linear-interval",
	"plan-only", "terraform-binary", "terraform-version", "endpoint-url", "force-unlock", "timeout", "ephemeral",
	"output", "log-level",
}

// TestConfigFileRendersTheSameStackAsFlags: the stack rendered from a
// graviton-cd.hcl and from the same settings as flags is byte for byte the
// same module (hclgen's main.tf) and the same stack record.
func TestConfigFileRendersTheSameStackAsFlags(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	for _, f := range provisionFlags() {
		name := f.Names()[0]
		if !slices.ContainsFunc(renderedStackFlags, func(r struct {
			flag string
			args []string
			hcl  string
		}) bool {
			return r.flag == name
		}) && !slices.Contains(notRendered, name) {
			t.Errorf("provision --%s is in neither renderedStackFlags nor notRendered: give it a value other than its default there", name)
		}
	}
	var src strings.Builder
	args := []string{"provision"}
	for _, r := range renderedStackFlags {
		fmt.Fprintf(&src, "%s = %s\n", configfile.AttrName(r.flag), r.hcl)
		for _, a := range r.args {
			args = append(args, "--"+r.flag+"="+a)
		}
	}
	wd := writeConfig(t, src.String())

	render := func(args ...string) (module, record []byte) {
		t.Helper()
		dir := filepath.Join(wd, "stack")
		os.RemoveAll(dir)
		code, _, stderr := run(t, append(args, "--dir", dir)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		module, err := os.ReadFile(filepath.Join(dir, hclgen.ModuleFile))
		if err != nil {
			t.Fatal(err)
		}
		s, err := stack.ReadSettings(dir)
		if err != nil {
			t.Fatal(err)
		}
		// Each new stack draws its own identity; everything else must agree.
		if s.StackID == "" {
			t.Fatal("no stack identity recorded")
		}
		module = bytes.ReplaceAll(module, []byte(s.StackID), []byte("STACK-ID"))
		s.StackID, s.Created = "", ""
		record, err = json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return module, record
	}
	fromFile, fileRecord := render("provision")
	if err := os.Rename(configfile.DefaultName, "elsewhere.hcl"); err != nil {
		t.Fatal(err)
	}
	fromFlags, flagRecord := render(args...)
	if !bytes.Equal(fromFile, fromFlags) {
		t.Errorf("main.tf from the file differs from main.tf from flags:\n--- file\n%s\n--- flags\n%s", fromFile, fromFlags)
	}
	if !bytes.Equal(fileRecord, flagRecord) {
		t.Errorf("stack record from the file %s\nfrom flags %s", fileRecord, flagRecord)
	}
	// And the file said something: the module is not the defaults'.
	for _, want := range []string{`"m7g.large"`, `"/healthz"`, `"10.42.0.0/20"`, `"eu-west-1"`, "hello,world", "shop/api-key", "AmazonS3ReadOnlyAccess", "shop.example.com"} {
		if !bytes.Contains(fromFile, []byte(want)) {
			t.Errorf("main.tf from the file lacks %s", want)
		}
	}
}

// TestConfigFileBadInputExits2: each bad file exits 2 with the diagnostic
// at its line, and nothing is written.
func TestConfigFileBadInputExits2(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	const good = "name = \"shop\"\nstate_backend = \"local\"\nrender_only = true\n"
	cases := []struct {
		name, src string
		args      []string
		want      []string
	}{
		{"unknown attribute", good + "instance_tpye = \"m7g.large\"\n", nil,
			[]string{"--config: graviton-cd.hcl:4:1: Unsupported argument", `Did you mean "instance_type"?`}},
		{"deploy flag at the top", good + "rollback_on_failure = true\n", nil,
			[]string{"graviton-cd.hcl:4:1", "put it in a deploy { } block"}},
		{"wrong type", good + "cpu = \"lots\"\n", nil,
			[]string{"graviton-cd.hcl:4:7", "cpu must be a whole number"}},
		{"bad duration", good + "timeout = \"forever\"\n", nil,
			[]string{"graviton-cd.hcl:4:11", "is not a duration"}},
		{"bad value", "name = \"Shop_1\"\nstate_backend = \"local\"\nrender_only = true\n", nil,
			[]string{"--name: \"Shop_1\" is not a stack name", "(set by name at graviton-cd.hcl:1:1)"}},
		{"bad value checked with the others", good + "instance_type = \"t3.micro\"\n", nil,
			[]string{"use t4g.micro", "(set by instance_type at graviton-cd.hcl:4:1)"}},
		{"syntax error", good + "cpu = \n", nil,
			[]string{"--config: graviton-cd.hcl:4"}},
		{"given file not found", good, []string{"--config", "absent.hcl"},
			[]string{"--config: absent.hcl does not exist", "graviton-cd init"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd := writeConfig(t, tc.src)
			code, stdout, stderr := run(t, append([]string{"provision"}, tc.args...)...)
			if code != ExitUsage {
				t.Fatalf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			entries, _ := os.ReadDir(wd)
			if len(entries) != 1 {
				t.Errorf("the working directory holds %d entries, want only the config file: nothing written", len(entries))
			}
		})
	}
}

// TestFlagWinsOverConfigFile: a flag, or its GRAVITON_CD_ variable, wins
// over the file; an empty variable (an unused orb parameter) does not.
func TestFlagWinsOverConfigFile(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"file", nil, nil, `"512"`},
		{"flag", []string{"--cpu", "1024"}, nil, `"1024"`},
		{"variable", nil, map[string]string{"GRAVITON_CD_CPU": "2048"}, `"2048"`},
		{"flag over variable", []string{"--cpu", "1024"}, map[string]string{"GRAVITON_CD_CPU": "2048"}, `"1024"`},
		{"empty variable", nil, map[string]string{"GRAVITON_CD_CPU": ""}, `"512"`},
		// The orb passes each parameter's default as a variable: that is no choice.
		{"variable at the default", nil, map[string]string{"GRAVITON_CD_CPU": "256"}, `"512"`},
		{"flag at the default", []string{"--cpu", "256"}, nil, `"256"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd := writeConfig(t, "name = \"shop\"\nstate_backend = \"local\"\nrender_only = true\ncpu = 512\nregion = \"eu-west-1\"\n")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(wd, "stack")
			code, _, stderr := run(t, append([]string{"provision", "--dir", dir}, tc.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			module, err := os.ReadFile(filepath.Join(dir, hclgen.ModuleFile))
			if err != nil {
				t.Fatal(err)
			}
			if !regexpCPU(module, tc.want) {
				t.Errorf("main.tf does not set cpu = %s", tc.want)
			}
			if !bytes.Contains(module, []byte(`region = "eu-west-1"`)) {
				t.Error("the file's region did not reach the module")
			}
		})
	}
}

func regexpCPU(module []byte, want string) bool {
	for _, line := range strings.Split(string(module), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "cpu" && f[1] == "=" {
			return f[2] == want
		}
	}
	return false
}

// TestGlobalFlagBeforeSubcommandWinsOverConfigFile: --region given before
// the subcommand, or as GRAVITON_CD_REGION, beats the file's region.
func TestGlobalFlagBeforeSubcommandWinsOverConfigFile(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	for name, setup := range map[string]func() []string{
		"flag before": func() []string { return []string{"--region", "ap-south-1", "provision"} },
		"variable":    func() []string { t.Setenv("GRAVITON_CD_REGION", "ap-south-1"); return []string{"provision"} },
	} {
		t.Run(name, func(t *testing.T) {
			wd := writeConfig(t, "name = \"shop\"\nstate_backend = \"local\"\nrender_only = true\nregion = \"eu-west-1\"\n")
			dir := filepath.Join(wd, "stack")
			code, _, stderr := run(t, append(setup(), "--dir", dir)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			s, err := stack.ReadSettings(dir)
			if err != nil || s.Region != "ap-south-1" {
				t.Errorf("region %q (%v), want ap-south-1", s.Region, err)
			}
		})
	}
}

// TestDeployReadsConfigFile: deploy takes the file's stack settings and its
// deploy block, over the variables the orb sets to their defaults; the
// file's stack name is not used when --cluster names the service (no state
// is read), and its desired_count is provision's: deploy keeps the
// service's count, which auto scaling may own.
func TestDeployReadsConfigFile(t *testing.T) {
	srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce, completedAtOnce}})
	// The deploy job's defaults. Were check_image_arch still true, the image
	// check would ask example.com's registry and fail.
	t.Setenv("GRAVITON_CD_CHECK_IMAGE_ARCH", "true")
	t.Setenv("GRAVITON_CD_TIMEOUT", "15m")
	t.Setenv("GRAVITON_CD_ROLLBACK_ON_FAILURE", "false")
	writeConfig(t, fmt.Sprintf(`
name          = "shop"
region        = "us-east-1"
image         = "example.com/web:7"
desired_count = 3
timeout       = "45m" # provision's: deploy has its own
cpu           = 512
memory        = 1024
env = {
  LOG_LEVEL = "debug"
  GREETING  = "hello"
}
secret = {
  DB_PASSWORD = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db"
}
deploy {
  check_image_arch = false
  endpoint_url     = %q
  timeout          = "1m"
}
`, srv.URL))
	code, out, stderr := run(t, "deploy", "--cluster", "demo", "--service", "web")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	reg := srv.Registered()
	if len(reg) != 1 {
		t.Fatalf("%d revisions registered, want 1", len(reg))
	}
	container := reg[0]["containerDefinitions"].([]any)[0].(map[string]any)
	if img := container["image"]; img != "example.com/web:7" {
		t.Errorf("registered image %v, want the file's", img)
	}
	// The file's container settings ship with the image.
	if reg[0]["cpu"] != "512" || reg[0]["memory"] != "1024" {
		t.Errorf("registered cpu %v and memory %v, want the file's 512 and 1024", reg[0]["cpu"], reg[0]["memory"])
	}
	if env := fmt.Sprint(container["environment"]); env != "[map[name:GREETING value:hello] map[name:LOG_LEVEL value:debug]]" {
		t.Errorf("registered environment %s, want the file's", env)
	}
	if sec := fmt.Sprint(container["secrets"]); sec != "[map[name:DB_PASSWORD valueFrom:arn:aws:ssm:us-east-1:123456789012:parameter/app/db]]" {
		t.Errorf("registered secrets %s, want the file's", sec)
	}
	if ups := srv.Updates(); len(ups) != 1 || ups[0]["desiredCount"] != nil {
		t.Errorf("UpdateService = %v, want no desiredCount: the top level's is provision's", ups)
	}
	// --image on the command line wins over the file.
	code, _, stderr = run(t, "deploy", "--cluster", "demo", "--service", "web", "--image", "example.com/web:8", "--no-wait")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	reg = srv.Registered()
	if img := reg[len(reg)-1]["containerDefinitions"].([]any)[0].(map[string]any)["image"]; img != "example.com/web:8" {
		t.Errorf("registered image %v, want the flag's", img)
	}
}

// TestFileStackDirFindsTheStackForDeploy: a stack_dir in the file finds the
// stack for deploy, and the file's name then stays unused rather than
// conflicting with it.
func TestFileStackDirFindsTheStackForDeploy(t *testing.T) {
	srv := deployServer(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{completedAtOnce}})
	wd := writeConfig(t, "name = \"shop\"\nstack_dir = \"stack\"\ndeploy {\n  check_image_arch = false\n  no_wait = true\n}\n")
	if err := os.Mkdir(filepath.Join(wd, "stack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := stack.WriteOutputs(filepath.Join(wd, "stack"), stack.Outputs{Cluster: "demo", Service: "web", ContainerName: "app", Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "deploy", "--image", "example.com/web:9", "--endpoint-url", srv.URL)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if len(srv.Registered()) != 1 {
		t.Errorf("%d revisions registered, want 1", len(srv.Registered()))
	}
}

// TestSmokeTestReadsConfigFile: the smoke_test block's checks run against
// --url; a wrong expectation in the file fails the test (exit 1) rather
// than being ignored.
func TestSmokeTestReadsConfigFile(t *testing.T) {
	srv, requests := versionServer(t, "v1.2.3")
	for _, tc := range []struct {
		version string
		code    int
	}{{"v1.2.3", ExitOK}, {"v9.9.9", ExitFailed}} {
		writeConfig(t, fmt.Sprintf(`
name = "shop"
smoke_test {
  path        = "/version"
  expect_json = ["version=%s"]
  consecutive = 1
  interval    = "10ms"
  timeout     = "300ms"
}
`, tc.version))
		code, out, stderr := run(t, "smoke-test", "--url", srv.URL)
		if code != tc.code {
			t.Errorf("expecting %s: exit %d, want %d\n%s%s", tc.version, code, tc.code, out, stderr)
		}
	}
	if requests.Load() == 0 {
		t.Error("no request reached the app")
	}
}

// TestDeployRefusesBadFileValues: a container setting the file gives deploy
// is checked as the flag is, exit 2 before any AWS call, pointing at its line.
func TestDeployRefusesBadFileValues(t *testing.T) {
	srv := deployServer(t, ecsfake.Options{})
	writeConfig(t, "image = \"example.com/web:7\"\ncpu = 100\n")
	code, out, stderr := run(t, deployArgs(srv, "--cluster", "demo", "--service", "web")...)
	if code != ExitUsage || out != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "--cpu: 100 CPU units is out of range") || !strings.Contains(stderr, "(set by cpu at graviton-cd.hcl:2:1)") {
		t.Errorf("stderr = %q", stderr)
	}
	if n := len(srv.CallLog()); n != 0 {
		t.Errorf("%d AWS calls, want none", n)
	}
}
