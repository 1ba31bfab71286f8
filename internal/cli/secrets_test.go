package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Marker secrets in every variable the binary must never print. The
// provision → deploy → destroy lifecycle is checked the same way in
// internal/iampolicy's recorded test; these are the subcommands that need no
// Terraform: none may print a marker, whatever it logs at debug level, and
// whether it passes or fails.
func TestNoSecretInAnyOutput(t *testing.T) {
	markers := map[string]string{
		"AWS_SECRET_ACCESS_KEY": "gcd-marker-secret-access-key-3c1d",
		"AWS_SESSION_TOKEN":     "gcd-marker-session-token-88aa",
		"CIRCLE_OIDC_TOKEN_V2":  "gcd-marker-oidc-token-19fe",
		"MY_API_KEY":            "gcd-marker-env-var-name-4b07",
		"MY_QUOTED":             `gcd-marker-"quoted"<&>-5a2c`, // JSON writes it escaped
	}
	for k, v := range markers {
		t.Setenv(k, v)
	}
	t.Setenv("GRAVITON_CD_SECRET_ENV_VARS", "MY_API_KEY,MY_QUOTED")
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("gcd-marker-web-identity-file-6e21"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	markers["AWS_WEB_IDENTITY_TOKEN_FILE content"] = "gcd-marker-web-identity-file-6e21"

	// An app that echoes every secret back: what smoke-test prints of a body
	// or header must still be masked.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Debug", markers["MY_API_KEY"])
		w.WriteHeader(http.StatusServiceUnavailable)
		for _, v := range markers {
			io.WriteString(w, v+"\n")
		}
	}))
	defer echo.Close()
	// Only the marker with a quote in it: a body is shown %q-quoted, then
	// written again in JSON.
	quoted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, markers["MY_QUOTED"])
	}))
	defer quoted.Close()

	junit := filepath.Join(t.TempDir(), "junit.xml")
	cases := [][]string{
		{"smoke-test", "--junit", junit, "--url", echo.URL, "--timeout", "300ms", "--interval", "50ms", "--consecutive", "1", "--expect-body", markers["AWS_SESSION_TOKEN"]},
		{"smoke-test", "--url", echo.URL + "/?key=" + markers["MY_API_KEY"], "--timeout", "200ms", "--interval", "50ms", "--consecutive", "1"},
		{"smoke-test", "--url", quoted.URL, "--timeout", "200ms", "--interval", "50ms", "--consecutive", "1"},
		{"deploy", "--cluster", "c", "--service", "s", "--image", "bad image " + markers["AWS_SECRET_ACCESS_KEY"]},
		{"provision", "--name", markers["MY_API_KEY"], "--render-only"},
		{"iam-policy", "--name", markers["CIRCLE_OIDC_TOKEN_V2"]},
		{"version"},
	}
	for _, args := range cases {
		for _, output := range []string{"text", "json"} {
			t.Run(args[0]+" "+output, func(t *testing.T) {
				code, stdout, stderr := run(t, append([]string{"--log-level", "debug", "--output", output}, args...)...)
				report, _ := os.ReadFile(junit) // the JUnit file CircleCI stores counts as output too
				for name, v := range markers {
					// As it is, quoted as a body is (%q), and either in JSON.
					goQuoted := strconv.Quote(v)
					goQuoted = goQuoted[1 : len(goQuoted)-1]
					inJSON := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
					found := false
					for _, f := range []string{v, goQuoted, inJSON(v), inJSON(goQuoted)} {
						found = found || strings.Contains(stdout+stderr+string(report), f)
					}
					if found {
						t.Errorf("%s (exit %d) printed the value of %s:\n%s%s", args[0], code, name, stdout, stderr)
					}
				}
			})
		}
	}
}
