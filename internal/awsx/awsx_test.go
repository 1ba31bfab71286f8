package awsx

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// isolate clears the machine's AWS settings so each case sees only its own.
func isolate(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_STS", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadRegion(t *testing.T) {
	cases := []struct {
		name       string
		env        map[string]string
		flag       string
		want       string
		wantUsage  bool
		profileCfg string
	}{
		{name: "AWS_REGION", env: map[string]string{"AWS_REGION": "eu-west-1"}, want: "eu-west-1"},
		{name: "AWS_DEFAULT_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "eu-north-1"}, want: "eu-north-1"},
		{name: "flag overrides env", env: map[string]string{"AWS_REGION": "eu-west-1"}, flag: "ap-south-1", want: "ap-south-1"},
		{name: "profile", env: map[string]string{"AWS_PROFILE": "ci"}, profileCfg: "[profile ci]\nregion = us-west-2\n", want: "us-west-2"},
		{name: "none is a usage error", wantUsage: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			if tc.profileCfg != "" {
				f := filepath.Join(t.TempDir(), "config")
				if err := os.WriteFile(f, []byte(tc.profileCfg), 0o600); err != nil {
					t.Fatal(err)
				}
				t.Setenv("AWS_CONFIG_FILE", f)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := Load(t.Context(), Options{Region: tc.flag})
			if tc.wantUsage {
				if !config.IsUsage(err) || !strings.Contains(err.Error(), "AWS_REGION") {
					t.Fatalf("want a usage error naming AWS_REGION, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.want {
				t.Fatalf("region = %q, want %q", cfg.Region, tc.want)
			}
		})
	}
}

// recorder is an endpoint that remembers which services called it.
type recorder struct {
	mu      sync.Mutex
	targets []string
}

func (r *recorder) server(t *testing.T, answer func(w http.ResponseWriter, req *http.Request, body string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.targets = append(r.targets, req.Header.Get("X-Amz-Target")+string(b))
		r.mu.Unlock()
		answer(w, req, string(b))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func ecsAnswer(w http.ResponseWriter, _ *http.Request, _ string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	io.WriteString(w, `{"clusterArns":[]}`)
}

func TestLoadEndpoints(t *testing.T) {
	cases := []struct {
		name string
		set  func(t *testing.T, url string) Options
	}{
		{"AWS_ENDPOINT_URL", func(t *testing.T, url string) Options { t.Setenv("AWS_ENDPOINT_URL", url); return Options{} }},
		{"AWS_ENDPOINT_URL_ECS", func(t *testing.T, url string) Options { t.Setenv("AWS_ENDPOINT_URL_ECS", url); return Options{} }},
		{"--endpoint-url", func(t *testing.T, url string) Options { return Options{EndpointURL: url} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("AWS_REGION", "us-east-1")
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			var rec recorder
			srv := rec.server(t, ecsAnswer)
			cfg, err := Load(t.Context(), tc.set(t, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ecs.NewFromConfig(cfg).ListClusters(t.Context(), &ecs.ListClustersInput{}); err != nil {
				t.Fatalf("list clusters: %v", err)
			}
			if len(rec.targets) != 1 || !strings.HasSuffix(strings.SplitN(rec.targets[0], "{", 2)[0], ".ListClusters") {
				t.Fatalf("endpoint saw %q, want one ListClusters call", rec.targets)
			}
		})
	}
}

// CircleCI OIDC: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE must lead to an
// AssumeRoleWithWebIdentity call carrying the token, and its credentials.
func TestLoadWebIdentity(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "us-east-1")
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("oidc-token-from-circleci"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	var rec recorder
	srv := rec.server(t, func(w http.ResponseWriter, _ *http.Request, body string) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>ASIAFROMOIDC</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`)
	})
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	cfg, err := Load(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatalf("retrieve credentials: %v", err)
	}
	if creds.AccessKeyID != "ASIAFROMOIDC" {
		t.Fatalf("access key = %q, want the one from AssumeRoleWithWebIdentity", creds.AccessKeyID)
	}
	if len(rec.targets) != 1 || !strings.Contains(rec.targets[0], "AssumeRoleWithWebIdentity") || !strings.Contains(rec.targets[0], "oidc-token-from-circleci") {
		t.Fatalf("STS saw %q, want AssumeRoleWithWebIdentity with the token", rec.targets)
	}
}

// The orb's session_duration reaches STS as DurationSeconds; a value outside
// what STS accepts is a usage error before any call.
func TestLoadWebIdentitySessionDuration(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "us-east-1")
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("oidc-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/deployer")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
	var rec recorder
	srv := rec.server(t, func(w http.ResponseWriter, _ *http.Request, body string) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>
</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`)
	})
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv(SessionDurationEnv, "7200s")
	cfg, err := Load(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Credentials.Retrieve(t.Context()); err != nil {
		t.Fatalf("retrieve credentials: %v", err)
	}
	if len(rec.targets) != 1 || !strings.Contains(rec.targets[0], "DurationSeconds=7200") {
		t.Fatalf("STS saw %q, want DurationSeconds=7200", rec.targets)
	}
	for _, bad := range []string{"60s", "13h", "two hours"} {
		t.Setenv(SessionDurationEnv, bad)
		if _, err := Load(t.Context(), Options{}); err == nil {
			t.Errorf("%s=%q loaded, want a usage error", SessionDurationEnv, bad)
		}
	}
}

// TestLoadWithoutCredentials: no credentials anywhere is bad configuration
// (exit 2) that names the variables to set, found before any AWS call.
func TestLoadWithoutCredentials(t *testing.T) {
	isolate(t)
	_, err := Load(t.Context(), Options{Region: "us-east-1"})
	if !config.IsUsage(err) {
		t.Fatalf("want a usage error, got %v", err)
	}
	for _, want := range []string{"no usable AWS credentials", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
