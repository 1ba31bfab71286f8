package cli

import (
	"io"
	"os"
	"strconv"
	"strings"
)

// secretEnvVars are never printed, whatever prints them (terraform included).
var secretEnvVars = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "CIRCLE_OIDC_TOKEN", "CIRCLE_OIDC_TOKEN_V2",
}

// secrets are the values to mask. They are read once per run, not per line:
// the environment and the token file the orb writes do not change meanwhile.
type secrets []string

// loadSecrets collects the values to mask: the variables above, the web
// identity token file's content, and every variable named in
// GRAVITON_CD_SECRET_ENV_VARS (the orb's env_var_name parameters).
func loadSecrets() secrets {
	names := append([]string(nil), secretEnvVars...)
	for _, n := range strings.Split(os.Getenv("GRAVITON_CD_SECRET_ENV_VARS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	var vals secrets
	for _, n := range names {
		// Short values would mask ordinary words; real secrets are long.
		if v := os.Getenv(n); len(v) >= 6 {
			vals = append(vals, v)
		}
	}
	if f := os.Getenv("AWS_WEB_IDENTITY_TOKEN_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			if v := strings.TrimSpace(string(b)); len(v) >= 6 {
				vals = append(vals, v)
			}
		}
	}
	return vals
}

// mask masks every secret value in s, one after another, so that a secret
// holding another is masked whole.
func (sec secrets) mask(s string) string {
	for _, v := range sec {
		for _, f := range secretForms(v) {
			s = strings.ReplaceAll(s, f, "***")
		}
	}
	return s
}

// secretForms are the ways v reaches a message: as it is, and quoted as Go's
// %q quotes a response body (a quote or a newline in it escaped).
func secretForms(v string) []string {
	if q := strconv.Quote(v); q[1:len(q)-1] != v {
		return []string{q[1 : len(q)-1], v}
	}
	return []string{v}
}

// redactingWriter masks secrets in everything written through it. Each write
// is masked on its own; the loggers here write whole lines at a time.
type redactingWriter struct {
	w       io.Writer
	secrets secrets
}

func (r redactingWriter) Write(p []byte) (int, error) {
	masked := r.secrets.mask(string(p))
	if _, err := io.WriteString(r.w, masked); err != nil {
		return 0, err
	}
	return len(p), nil
}
