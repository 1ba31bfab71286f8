package localstack

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Recorder is a reverse proxy in front of moto that remembers every AWS API
// action called through it, as IAM names ("ecs:UpdateService"). Terraform's
// provider and the SDK clients both go through it when AWS_ENDPOINT_URL points
// at it, so a test can check a least-privilege policy against what really ran.
type Recorder struct {
	URL string // the proxy's endpoint, to use in place of moto's

	mu      sync.Mutex
	actions map[string]bool
}

// credentialScope finds the service in a SigV4 Authorization header:
// "Credential=AKID/20260101/us-east-1/ecs/aws4_request".
var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

// iamPrefix maps SigV4 signing names to IAM action prefixes where they differ.
var iamPrefix = map[string]string{"tagging": "tag"}

// Record starts a recording proxy in front of moto for this test.
func Record(t testing.TB) *Recorder {
	t.Helper()
	target, err := url.Parse(Moto(t))
	if err != nil {
		t.Fatalf("parse moto URL: %v", err)
	}
	r := &Recorder{actions: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if a := actionOf(req); a != "" {
			r.mu.Lock()
			r.actions[a] = true
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// actionOf names the API action of a request, reading (and restoring) a
// query-protocol body when the action is not in a header.
func actionOf(req *http.Request) string {
	m := credentialScope.FindStringSubmatch(req.Header.Get("Authorization"))
	if m == nil {
		return ""
	}
	service := m[1]
	if p, ok := iamPrefix[service]; ok {
		service = p
	}
	if target := req.Header.Get("X-Amz-Target"); target != "" {
		return service + ":" + target[strings.LastIndex(target, ".")+1:]
	}
	if a := req.URL.Query().Get("Action"); a != "" {
		return service + ":" + a
	}
	if req.Body == nil {
		return ""
	}
	body, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
		return service + ":" + v.Get("Action")
	}
	return ""
}

// Actions returns every action seen so far, sorted.
func (r *Recorder) Actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.actions))
}
