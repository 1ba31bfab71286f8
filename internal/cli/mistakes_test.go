package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// mistake is one thing a user gets wrong, as issue 17 found them on a first
// run, with what graviton-cd must answer.
type mistake struct {
	name string
	args []string          // after the subcommand's name, which is args[0]
	env  map[string]string // on top of the defaults below
	code int
	// first is what the first line of stderr starts with, after
	// "graviton-cd: error: ".
	first string
	// ecs, when set, serves ECS: the mistake is only visible to AWS (a
	// service that does not exist) and one call is expected.
	ecs *ecsfake.Options
}

// libraryInternals are signs of a library's message reaching the user.
var libraryInternals = regexp.MustCompile(`strconv\.|name\.Insecure|operation error|\*[a-z]+\.[A-Z]\w+|[a-z]+\.[A-Z]\w+Error\b|ec2imds|panic|goroutine|regexp: Compile|yaml: unmarshal|json: cannot`)

// TestRealisticMistakes: each mistake exits with its code, says so on the
// first line of stderr in the user's terms, writes nothing (in the stack
// directory or the working directory), and for exit 2 makes no AWS call.
func TestRealisticMistakes(t *testing.T) {
	long := strings.Repeat("a", 21)
	cases := []mistake{
		// provision
		{name: "stack name of two letters", args: []string{"provision", "--name", "ab"}, code: 2, first: "--name:"},
		{name: "stack name of one letter", args: []string{"provision", "--name", "a"}, code: 2, first: "--name:"},
		{name: "stack name too long", args: []string{"provision", "--name", long}, code: 2, first: "--name:"},
		{name: "stack name in capitals", args: []string{"provision", "--name", "Demo"}, code: 2, first: "--name:"},
		{name: "provision without a name", args: []string{"provision"}, code: 2, first: "--name:"},
		{name: "provision without credentials", args: []string{"provision", "--name", "demo", "--plan-only"}, env: noCreds, code: 2, first: "no usable AWS credentials"},
		{name: "provision without a region", args: []string{"provision", "--name", "demo", "--plan-only"}, env: noRegion, code: 2, first: "--region:"},
		{name: "misspelt flag --imgae", args: []string{"provision", "--name", "demo", "--imgae", "nginx"}, code: 2, first: "unknown flag --imgae: did you mean --image?"},
		{name: "min size not a number", args: []string{"provision", "--name", "demo", "--min-size", "two"}, code: 2, first: `--min-size: "two" is not a valid value`},
		{name: "container port 0", args: []string{"provision", "--name", "demo", "--container-port", "0"}, code: 2, first: "--container-port:"},
		{name: "container port 70000", args: []string{"provision", "--name", "demo", "--container-port", "70000"}, code: 2, first: "--container-port:"},
		{name: "desired capacity above max", args: []string{"provision", "--name", "demo", "--desired-capacity", "5", "--max-size", "2"}, code: 2, first: "--desired-capacity:"},
		{name: "VPC CIDR too big", args: []string{"provision", "--name", "demo", "--vpc-cidr", "10.0.0.0/8"}, code: 2, first: "--vpc-cidr:"},
		{name: "tag without a value", args: []string{"provision", "--name", "demo", "--tags", "team"}, code: 2, first: "--tags:"},
		{name: "unknown state backend", args: []string{"provision", "--name", "demo", "--state-backend", "gcs"}, code: 2, first: "--state-backend:"},
		{name: "provision timeout without a unit", args: []string{"provision", "--name", "demo", "--timeout", "30"}, code: 2, first: `--timeout: "30" is not a valid value`},
		{name: "unknown network mode", args: []string{"provision", "--name", "demo", "--network-mode", "host"}, code: 2, first: "--network-mode:"},
		{name: "x86 instance type", args: []string{"provision", "--name", "demo", "--instance-type", "t3.small"}, code: 2, first: "--instance-type:"},
		{name: "VPC without subnets", args: []string{"provision", "--name", "demo", "--vpc-id", "vpc-0123456789abcdef0"}, code: 2, first: "--"},
		{name: "--dir and --stack-dir disagree", args: []string{"provision", "--name", "demo", "--dir", "a", "--stack-dir", "b"}, code: 2, first: "--stack-dir:"},
		{name: "health check path without slash", args: []string{"provision", "--name", "demo", "--health-check-path", "health"}, code: 2, first: "--health-check-path:"},
		{name: "task memory too small", args: []string{"provision", "--name", "demo", "--memory", "1"}, code: 2, first: "--memory:"},
		{name: "private subnets flag as a word", args: []string{"provision", "--name", "demo", "--private-subnets=yes"}, code: 2, first: `--private-subnets: "yes" is not a valid value`},

		// deploy
		{name: "misspelt subcommand deplyo", args: []string{"deplyo", "--image", "nginx:1"}, code: 2, first: `unknown command "deplyo": did you mean deploy?`},
		{name: "service that does not exist", args: []string{"deploy", "--cluster", "demo", "--service", "nope", "--image", "a/b:1", "--check-image-arch=false"}, ecs: &ecsfake.Options{}, code: 2, first: "service nope not found in cluster demo: check --cluster and --service"},
		{name: "service name with a slash", args: []string{"deploy", "--cluster", "demo", "--service", "web/api", "--image", "a/b:1"}, code: 2, first: "--service:"},
		{name: "no wait with rollback", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1", "--no-wait", "--rollback-on-failure"}, code: 2, first: "--rollback-on-failure: cannot be used with --no-wait"},
		{name: "deploy without a service", args: []string{"deploy", "--image", "a/b:1"}, code: 2, first: "deploy needs a service"},
		{name: "image with capitals", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "Example.com/Web:1"}, code: 2, first: "--image:"},
		{name: "image with a space", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "web app:1"}, code: 2, first: "--image:"},
		{name: "deploy timeout without a unit", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1", "--timeout", "5"}, code: 2, first: `--timeout: "5" is not a valid value`},
		{name: "negative desired count", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1", "--desired-count", "-1"}, code: 2, first: "--desired-count:"},
		{name: "cluster ARN of another service", args: []string{"deploy", "--cluster", "arn:aws:ecr:us-east-1:123456789012:repository/web", "--service", "web", "--image", "a/b:1"}, code: 2, first: "--cluster:"},
		{name: "cluster ARN cut short", args: []string{"deploy", "--cluster", "arn:aws:ecs:us-east-1", "--service", "web", "--image", "a/b:1"}, code: 2, first: "--cluster:"},
		{name: "endpoint that is not a URL", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1", "--endpoint-url", "localhost:5000"}, code: 2, first: "--endpoint-url:"},
		{name: "deploy without credentials", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1"}, env: noCreds, code: 2, first: "no usable AWS credentials"},
		{name: "deploy stack name too short", args: []string{"deploy", "--name", "ab", "--image", "a/b:1"}, code: 2, first: "--name:"},
		{name: "check-image-arch as a word", args: []string{"deploy", "--cluster", "demo", "--service", "web", "--image", "a/b:1"}, env: map[string]string{"GRAVITON_CD_CHECK_IMAGE_ARCH": "maybe"}, code: 2, first: `--check-image-arch: "maybe" (from GRAVITON_CD_CHECK_IMAGE_ARCH) is not a valid value: use true or false`},

		// smoke-test
		{name: "smoke-test timeout of 4s", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--timeout", "4s"}, code: 2, first: "--timeout:"},
		{name: "smoke-test interval 0", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--interval", "0s"}, code: 2, first: "--interval:"},
		{name: "smoke-test interval without a unit", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--interval", "5"}, code: 2, first: "--interval:"},
		{name: "smoke-test ftp URL", args: []string{"smoke-test", "--url", "ftp://example.com/"}, code: 2, first: "--url:"},
		{name: "smoke-test without a URL", args: []string{"smoke-test"}, code: 2, first: "--url:"},
		{name: "consecutive 0", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--consecutive", "0"}, code: 2, first: "--consecutive:"},
		{name: "status code 999", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--expect-status", "999"}, code: 2, first: "--expect-status:"},
		{name: "body regex that does not compile", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--expect-body-regex", "(v1"}, code: 2, first: "--expect-body-regex:"},
		{name: "connect-to without ports", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--connect-to", "example.com"}, code: 2, first: "--connect-to:"},
		{name: "checks file missing", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--checks", "nope.yaml"}, code: 2, first: "--checks:"},
		{name: "insecure as a word", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--insecure=maybe"}, code: 2, first: `--insecure: "maybe" is not a valid value`},
		{name: "max latency without a unit", args: []string{"smoke-test", "--url", "http://127.0.0.1:1", "--max-latency", "500"}, code: 2, first: "--max-latency:"},

		// destroy, status, iam-policy, doctor, global flags
		{name: "destroy without a stack", args: []string{"destroy"}, code: 2, first: "--name:"},
		{name: "destroy of a directory provision never wrote", args: []string{"destroy", "--stack-dir", "empty"}, code: 2, first: "--stack-dir:"},
		{name: "status without a stack", args: []string{"status"}, code: 2, first: "--name: status needs a stack"},
		{name: "status negative events", args: []string{"status", "--name", "demo", "--events", "-1"}, code: 2, first: "--events:"},
		{name: "iam-policy for a misspelt step", args: []string{"iam-policy", "--for", "deplyo"}, code: 2, first: "--for:"},
		{name: "iam-policy short account ID", args: []string{"iam-policy", "--account-id", "123"}, code: 2, first: "--account-id:"},
		{name: "doctor without credentials", args: []string{"doctor"}, env: noCreds, code: 2, first: "no usable AWS credentials"},
		{name: "doctor without a region", args: []string{"doctor"}, env: noRegion, code: 2, first: "--region:"},
		{name: "doctor for a misspelt step", args: []string{"doctor", "--for", "provison"}, code: 2, first: "--for:"},
		{name: "unknown output format", args: []string{"version", "--output", "yaml"}, code: 2, first: `--output: "yaml" is not a format`},
		{name: "unknown log level", args: []string{"--log-level", "trace", "version"}, code: 2, first: "--log-level:"},
		{name: "region with spaces", args: []string{"status", "--name", "demo", "--region", "US East 1"}, code: 2, first: "--region:"},
		{name: "role session too short", args: []string{"status", "--name", "demo"}, env: map[string]string{"GRAVITON_CD_ROLE_SESSION_DURATION": "5m"}, code: 2, first: "GRAVITON_CD_ROLE_SESSION_DURATION="},
	}
	if len(cases) < 40 {
		t.Fatalf("%d mistakes; issue 17 asks for at least 40", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var awsCalls atomic.Int32
			aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				awsCalls.Add(1)
				http.Error(w, "no AWS call expected", http.StatusTeapot)
			}))
			defer aws.Close()
			isolateAWS(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "test")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			t.Setenv("AWS_ENDPOINT_URL", aws.URL)
			args := tc.args
			if tc.ecs != nil {
				srv := deployServer(t, *tc.ecs)
				args = append(args, "--endpoint-url", srv.URL, "--region", "us-east-1")
				defer func() {
					if n := len(srv.CallLog()); n == 0 {
						t.Errorf("no ECS call: the mistake should be found by asking ECS")
					}
				}()
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			// Nothing may be written: the working directory (where the
			// default stack directory would go) starts and stays empty, and
			// so does a directory named by the flags.
			wd := t.TempDir()
			t.Chdir(wd)
			if err := os.Mkdir("empty", 0o755); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := run(t, args...)
			first, _, _ := strings.Cut(stderr, "\n")
			t.Logf("exit %d: %s", code, first)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tc.code, stderr)
			}
			if want := "graviton-cd: error: " + tc.first; !strings.HasPrefix(first, want) {
				t.Errorf("first line of stderr:\n  %s\nwant it to start with\n  %s", first, want)
			}
			if m := libraryInternals.FindString(stderr + stdout); m != "" {
				t.Errorf("a library's internals (%q) reach the user:\n%s", m, stderr)
			}
			if code == ExitUsage && stdout != "" {
				t.Errorf("stdout on bad input: %q", stdout)
			}
			if code == ExitUsage && tc.ecs == nil && awsCalls.Load() != 0 {
				t.Errorf("%d AWS calls on bad input, want none", awsCalls.Load())
			}
			var written []string
			_ = filepath.WalkDir(wd, func(p string, d os.DirEntry, err error) error {
				if p != wd && p != filepath.Join(wd, "empty") {
					written = append(written, strings.TrimPrefix(p, wd+"/"))
				}
				return nil
			})
			if len(written) > 0 {
				t.Errorf("written: %v", written)
			}
		})
	}
}

var (
	noCreds  = map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_ROLE_ARN": "", "AWS_WEB_IDENTITY_TOKEN_FILE": ""}
	noRegion = map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}
)
