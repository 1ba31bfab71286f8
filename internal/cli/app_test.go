package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// run executes the CLI in-process and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := RunIO(t.Context(), append([]string{"graviton-cd"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpListsSubcommandsAndExitCodes(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != ExitOK {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"provision", "deploy", "smoke-test", "destroy", "version", "EXIT CODES", "GRAVITON_CD_"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help does not mention %q:\n%s", want, out)
		}
	}
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{name: "unknown command", args: []string{"launch"}, code: ExitUsage, msg: `unknown command "launch"`},
		{name: "unknown flag", args: []string{"version", "--bogus"}, code: ExitUsage, msg: "bogus"},
		{name: "bad output flag", args: []string{"version", "--output", "yaml"}, code: ExitUsage, msg: "use text or json"},
		{name: "bad output env", args: []string{"version"}, env: map[string]string{"GRAVITON_CD_OUTPUT": "xml"}, code: ExitUsage, msg: "use text or json"},
		{name: "bad log level", args: []string{"--log-level", "trace", "version"}, code: ExitUsage, msg: "info or debug"},
		{name: "bad region", args: []string{"version", "--region", "US East 1"}, code: ExitUsage, msg: "us-east-1"},
		{name: "bad duration", args: []string{"deploy", "--cluster", "c", "--service", "s", "--image", "x:1", "--timeout", "5"}, code: ExitUsage, msg: `--timeout: "5" is not a valid value: use a number with a unit`},
		{name: "bad integer", args: []string{"provision", "--name", "x", "--min-size", "two"}, code: ExitUsage, msg: `--min-size: "two" is not a valid value: use a whole number`},
		{name: "bad boolean env", args: []string{"deploy", "--cluster", "c", "--service", "s", "--image", "x:1"}, env: map[string]string{"GRAVITON_CD_NO_WAIT": "yes"}, code: ExitUsage, msg: "no-wait"},
		{name: "version", args: []string{"version"}, code: ExitOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Fatalf("stderr %q does not say %q", stderr, tc.msg)
			}
		})
	}
}

func TestFlagWinsOverEnv(t *testing.T) {
	t.Setenv("GRAVITON_CD_OUTPUT", "text")
	code, out, _ := run(t, "version", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var v map[string]any
	if err := json.Unmarshal(resultOf(t, out), &v); err != nil || v["version"] == "" {
		t.Fatalf("--output json should win over GRAVITON_CD_OUTPUT=text, got %q (%v)", out, err)
	}

	t.Setenv("GRAVITON_CD_OUTPUT", "json")
	if _, out, _ := run(t, "version"); !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("GRAVITON_CD_OUTPUT=json should give JSON, got %q", out)
	}
	// A global flag before the subcommand counts as well.
	if _, out, _ := run(t, "--output", "text", "version"); !strings.HasPrefix(out, "graviton-cd ") {
		t.Fatalf("--output text before the subcommand should give text, got %q", out)
	}
}

func TestRedactMasksSecrets(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	t.Setenv("MY_REGISTRY_TOKEN", "registry-token-value-123")
	t.Setenv("GRAVITON_CD_SECRET_ENV_VARS", "MY_REGISTRY_TOKEN, UNSET_ONE")
	var buf bytes.Buffer
	w := redactingWriter{&buf, loadSecrets()}
	w.Write([]byte("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and registry-token-value-123\n"))
	if got := buf.String(); got != "key *** and ***\n" {
		t.Fatalf("got %q", got)
	}
}

func TestMisspellingsGetSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deplyo"}, `unknown command "deplyo": did you mean deploy? run graviton-cd --help`},
		{[]string{"stauts"}, `unknown command "stauts": did you mean status?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate": run graviton-cd --help`},
		{[]string{"deploy", "--imgae", "x"}, "unknown flag --imgae: did you mean --image? see --help"},
		{[]string{"provision", "--instnce-type", "t4g.small"}, "unknown flag --instnce-type: did you mean --instance-type?"},
		{[]string{"destroy", "--zzzz"}, "unknown flag --zzzz: see --help"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != ExitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tc.want)
			}
		})
	}
}

func TestHelpSubcommand(t *testing.T) {
	code, stdout, stderr := run(t, "help", "deploy")
	if code != ExitOK || !strings.Contains(stdout+stderr, "graviton-cd deploy -") {
		t.Errorf("help deploy: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr := run(t, "help", "nope"); code != ExitUsage || !strings.Contains(stderr, `unknown command "nope"`) {
		t.Errorf("help nope: exit %d, %s", code, stderr)
	}
}
