package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
)

// TestSharedAWSConfigAssumesTheRoleOnce: under CircleCI OIDC every load of
// the configuration would call AssumeRoleWithWebIdentity; one command (here
// a stack lookup in one region, then the work in another) calls it once.
func TestSharedAWSConfigAssumesTheRoleOnce(t *testing.T) {
	var assumed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" {
			http.Error(w, "unexpected "+r.Form.Get("Action"), http.StatusBadRequest)
			return
		}
		assumed.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>
<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>%s</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ci/session</Arn><AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId></AssumedRoleUser>
</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("oidc-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	isolateAWS(t)
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL) // the web identity provider's STS client
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ci")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)

	shared := &sharedAWSConfig{}
	for _, region := range []string{"us-east-1", "eu-west-1", "eu-west-1"} {
		cfg, err := shared.Load(t.Context(), awsx.Options{Region: region, EndpointURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != region {
			t.Errorf("region %s, want %s", cfg.Region, region)
		}
		c, err := cfg.Credentials.Retrieve(t.Context())
		if err != nil || !strings.HasPrefix(c.AccessKeyID, "ASIA") {
			t.Fatalf("credentials %+v, %v", c, err)
		}
	}
	if n := assumed.Load(); n != 1 {
		t.Errorf("AssumeRoleWithWebIdentity called %d times, want 1", n)
	}
}
