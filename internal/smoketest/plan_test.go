package smoketest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// TestBadInputIsAUsageError holds, for every flag, the bad values a user
// plausibly types. Each must be a *config.UsageError naming the flag, with a
// message that says what would be right. NewPlan makes no request, so none of
// these can reach a server (the CLI test checks that end to end).
func TestBadInputIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		writeFile(t, p, content)
		return p
	}
	notPEM := file("not.pem", "hello")
	goodChecks := file("good.yaml", "checks:\n  - name: a\n    path: /\n")
	aFile := file("a-file", "x")
	emptyStack := t.TempDir()
	if err := stack.WriteOutputs(emptyStack, stack.Outputs{StackName: "s"}); err != nil {
		t.Fatal(err)
	}
	badJSONStack := t.TempDir()
	writeFile(t, filepath.Join(badJSONStack, stack.OutputsFile), "{not json")

	const url = "http://127.0.0.1:1/"
	tests := []struct {
		name    string
		opts    Options
		flag    string
		message string // part of the message
	}{
		{"no url at all", Options{}, "url", "no URL to test"},
		{"url without scheme", Options{URL: "my-alb.example.com/health"}, "url", "write http://my-alb.example.com/health"},
		{"url with ftp scheme", Options{URL: "ftp://x/"}, "url", "only http:// and https://"},
		{"url without host", Options{URL: "http:///path"}, "url", "has no host"},
		{"url unparseable", Options{URL: "http://[::1/"}, "url", "is not a URL"},
		{"url with bad port", Options{URL: "http://host:99999/"}, "url", "from 1 to 65535"},
		{"url with credentials", Options{URL: "https://user:secret@host/"}, "url", "carries credentials"},
		{"url and stack-dir", Options{URL: url, StackDir: dir}, "url", "not both"},
		{"path with host", Options{URL: url, Path: "//other.example.com/x"}, "path", "is not a URL path"},
		{"path with scheme", Options{URL: url, Path: "https://x/version"}, "path", "is not a URL path"},
		{"path with checks", Options{URL: url, Path: "/version", ChecksFile: goodChecks}, "path", "cannot be used with --checks"},
		{"path without url", Options{Path: "/version"}, "url", "no URL to test"},
		{"stack-dir without outputs", Options{StackDir: t.TempDir()}, "stack-dir", "run provision"},
		{"stack-dir with bad outputs", Options{StackDir: badJSONStack}, "stack-dir", "not valid outputs JSON"},
		{"stack-dir without url", Options{StackDir: emptyStack}, "stack-dir", "no url or alb_dns_name"},
		{"expect-status word", Options{URL: url, ExpectStatus: "ok"}, "expect-status", "2xx"},
		{"expect-status out of range", Options{URL: url, ExpectStatus: "700"}, "expect-status", "100 to 599"},
		{"expect-status 6xx", Options{URL: url, ExpectStatus: "6xx"}, "expect-status", "not a status"},
		{"expect-status only commas", Options{URL: url, ExpectStatus: ","}, "expect-status", "no status given"},
		{"expect-body-regex unclosed", Options{URL: url, ExpectBodyRegex: "v(1"}, "expect-body-regex", "does not compile"},
		{"expect-header without colon", Options{URL: url, ExpectHeaders: []string{"Content-Type"}}, "expect-header", "Name:value"},
		{"expect-header empty name", Options{URL: url, ExpectHeaders: []string{":x"}}, "expect-header", "empty header name"},
		{"expect-header space in name", Options{URL: url, ExpectHeaders: []string{"Content Type:x"}}, "expect-header", "letters, digits and dashes"},
		{"expect-json without =", Options{URL: url, ExpectJSON: []string{"version"}}, "expect-json", "path=value"},
		{"expect-json empty path", Options{URL: url, ExpectJSON: []string{"=v1"}}, "expect-json", "empty JSON path"},
		{"expect-json empty segment", Options{URL: url, ExpectJSON: []string{"a..b=1"}}, "expect-json", "empty segment"},
		{"expect-json bad index", Options{URL: url, ExpectJSON: []string{"tags[x]=1"}}, "expect-json", "bad index"},
		{"expect-json unclosed index", Options{URL: url, ExpectJSON: []string{"tags[=1"}}, "expect-json", "unclosed ["},
		{"checks missing file", Options{URL: url, ChecksFile: filepath.Join(dir, "nope.yaml")}, "checks", "give the path of a YAML file"},
		{"checks empty file", Options{URL: url, ChecksFile: file("empty.yaml", "")}, "checks", "is empty"},
		{"checks not YAML", Options{URL: url, ChecksFile: file("bad.yaml", "checks: [\n")}, "checks", "not a valid checks file"},
		{"checks no list", Options{URL: url, ChecksFile: file("nolist.yaml", "checks: []\n")}, "checks", "has no checks"},
		{"checks typo in field", Options{URL: url, ChecksFile: file("typo.yaml", "checks:\n  - name: a\n    path: /\n    exepct: {status: 200}\n")}, "checks", "field exepct not found in a check (known: name, path"},
		{"checks typo in expect", Options{URL: url, ChecksFile: file("typo2.yaml", "checks:\n  - path: /\n    expect: {stauts: 200}\n")}, "checks", "in expect (known: status"},
		{"checks neither path nor url", Options{URL: url, ChecksFile: file("nopath.yaml", "checks:\n  - name: a\n")}, "checks", "neither path nor url"},
		{"checks both path and url", Options{URL: url, ChecksFile: file("both.yaml", "checks:\n  - path: /\n    url: http://x/\n")}, "checks", "both path and url"},
		{"checks path without base", Options{ChecksFile: goodChecks}, "checks", "needs a base URL"},
		{"checks bad url", Options{ChecksFile: file("badurl.yaml", "checks:\n  - url: x.example.com\n")}, "checks", "has no scheme"},
		{"checks duplicate names", Options{URL: url, ChecksFile: file("dup.yaml", "checks:\n  - {name: a, path: /}\n  - {name: a, path: /x}\n")}, "checks", "two checks are named \"a\""},
		{"checks bad method", Options{URL: url, ChecksFile: file("method.yaml", "checks:\n  - {path: /, method: 'GE T'}\n")}, "checks", "not an HTTP method"},
		{"checks bad status", Options{URL: url, ChecksFile: file("status.yaml", "checks:\n  - {path: /, expect: {status: [200, ok]}}\n")}, "checks", `"ok" is not a status`},
		{"checks status map", Options{URL: url, ChecksFile: file("status2.yaml", "checks:\n  - {path: /, expect: {status: {a: 1}}}\n")}, "checks", "use a code (200)"},
		{"checks bad regex", Options{URL: url, ChecksFile: file("re.yaml", "checks:\n  - {path: /, expect: {body_regex: '('}}\n")}, "checks", "does not compile"},
		{"checks bad json path", Options{URL: url, ChecksFile: file("jp.yaml", "checks:\n  - {path: /, expect: {json: {'a..b': 1}}}\n")}, "checks", "empty segment"},
		{"checks bad header", Options{URL: url, ChecksFile: file("hd.yaml", "checks:\n  - {path: /, headers: {'X Y': 1}}\n")}, "checks", "letters, digits and dashes"},
		{"checks bad max_latency", Options{URL: url, ChecksFile: file("ml.yaml", "checks:\n  - {path: /, expect: {max_latency: 5}}\n")}, "checks", "max_latency \"5\" has no unit: write 5ms"},
		{"checks names the check", Options{URL: url, ChecksFile: file("named.yaml", "checks:\n  - {name: ok, path: /}\n  - {name: broken, path: /, method: '1'}\n")}, "checks", "check 2 (broken)"},
		{"timeout without unit", Options{URL: url, Timeout: "120"}, "timeout", "write 120s"},
		{"timeout word", Options{URL: url, Timeout: "soon"}, "timeout", "not a duration"},
		{"timeout zero", Options{URL: url, Timeout: "0s"}, "timeout", "more than zero"},
		{"timeout negative", Options{URL: url, Timeout: "-1m"}, "timeout", "more than zero"},
		{"timeout too short for the streak", Options{URL: url, Timeout: "3s", Interval: "2s", Consecutive: "3"}, "timeout", "too short for 3 passes in a row"},
		// The defaults (3 in a row, 2s apart) take 4s: 4s is too short, and the
		// message must not call 4s enough.
		{"timeout equal to the streak", Options{URL: url, Timeout: "4s"}, "timeout",
			"--timeout: 4s is too short for 3 passes in a row 2s apart: they take 4s before the last answer, so give more than that (such as 2m)"},
		{"interval without unit", Options{URL: url, Interval: "2"}, "interval", "write 2s"},
		{"interval zero", Options{URL: url, Interval: "0"}, "interval", "more than zero"},
		{"consecutive zero", Options{URL: url, Consecutive: "0"}, "consecutive", "from 1 to 100"},
		{"consecutive word", Options{URL: url, Consecutive: "three"}, "consecutive", "whole number"},
		{"consecutive too many", Options{URL: url, Consecutive: "300"}, "consecutive", "from 1 to 100"},
		{"max-latency without unit", Options{URL: url, MaxLatency: "500"}, "max-latency", "write 500ms (milliseconds)"},
		{"max-latency negative", Options{URL: url, MaxLatency: "-5ms"}, "max-latency", "more than zero"},
		{"junit is a directory", Options{URL: url, JUnitFile: dir}, "junit", "is a directory"},
		{"junit under a file", Options{URL: url, JUnitFile: filepath.Join(aFile, "x.xml")}, "junit", "is a file, not a directory"},
		{"connect-to too few fields", Options{URL: url, ConnectTo: []string{"alb:80:127.0.0.1"}}, "connect-to", "HOST:PORT:ADDR:PORT"},
		{"connect-to too many fields", Options{URL: url, ConnectTo: []string{"a:1:b:2:c"}}, "connect-to", "has 5 fields"},
		{"connect-to bad port", Options{URL: url, ConnectTo: []string{"alb:http:127.0.0.1:8080"}}, "connect-to", "from 1 to 65535"},
		{"connect-to port out of range", Options{URL: url, ConnectTo: []string{"alb:80:127.0.0.1:70000"}}, "connect-to", "from 1 to 65535"},
		{"connect-to with scheme", Options{URL: url, ConnectTo: []string{"alb:80:http//x:1"}}, "connect-to", "not a host name"},
		{"connect-to maps nowhere", Options{URL: url, ConnectTo: []string{"alb:80::"}}, "connect-to", "maps nowhere"},
		{"connect-to unclosed bracket", Options{URL: url, ConnectTo: []string{"alb:80:[::1:8080"}}, "connect-to", "unclosed ["},
		{"ca-cert missing", Options{URL: url, CACertFile: filepath.Join(dir, "nope.pem")}, "ca-cert", "give the PEM file"},
		{"ca-cert not PEM", Options{URL: url, CACertFile: notPEM}, "ca-cert", "holds no PEM certificate"},
		{"ca-cert with insecure", Options{URL: url, CACertFile: notPEM, Insecure: true}, "insecure", "keep one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPlan(tt.opts)
			if err == nil {
				t.Fatalf("NewPlan accepted bad input: %+v", p)
			}
			var ue *config.UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("want *config.UsageError, got %T: %v", err, err)
			}
			if ue.Flag != tt.flag {
				t.Errorf("flag = %q, want %q (%v)", ue.Flag, tt.flag, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("message %q should contain %q", err.Error(), tt.message)
			}
			if strings.Contains(err.Error(), "at least") {
				t.Errorf("message %q contradicts itself", err.Error())
			}
		})
	}
}

// A timeout just over the streak's length is enough; pluralised summary.
func TestPlanTimeoutJustOverTheStreak(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{URL: "http://x", Timeout: "4100ms"}, "1 check, 3 passes in a row each, 2s apart, within 4.1s"},
		{Options{URL: "http://x", Timeout: "2m", Consecutive: "1"}, "1 check, 1 pass in a row each, 2s apart, within 2m"},
	}
	for _, tt := range tests {
		p, err := NewPlan(tt.opts)
		if err != nil {
			t.Fatalf("NewPlan(%+v): %v", tt.opts, err)
		}
		if got := p.String(); got != tt.want {
			t.Errorf("plan = %q, want %q", got, tt.want)
		}
	}
}

func TestPlanDefaultsAndSources(t *testing.T) {
	p := mustPlan(t, Options{URL: "https://app.example.com/health?deep=1"})
	if p.Timeout != DefaultTimeout || p.Interval != DefaultInterval || p.Consecutive != DefaultConsecutive {
		t.Errorf("defaults: %s", p)
	}
	if len(p.Checks) != 1 || p.Checks[0].Name != "GET /health?deep=1" || !p.Checks[0].Expect.Status.Match(200) || p.Checks[0].Expect.Status.Match(204) {
		t.Errorf("single check: %+v", p.Checks)
	}

	t.Run("stack-dir url", func(t *testing.T) {
		dir := t.TempDir()
		if err := stack.WriteOutputs(dir, stack.Outputs{URL: "http://my-alb-123.us-east-1.elb.amazonaws.com"}); err != nil {
			t.Fatal(err)
		}
		p := mustPlan(t, Options{StackDir: dir})
		if got := p.Checks[0].URL.String(); got != "http://my-alb-123.us-east-1.elb.amazonaws.com" {
			t.Errorf("url = %s", got)
		}
	})
	t.Run("stack-dir url with --path", func(t *testing.T) {
		dir := t.TempDir()
		if err := stack.WriteOutputs(dir, stack.Outputs{URL: "http://my-alb-123.us-east-1.elb.amazonaws.com"}); err != nil {
			t.Fatal(err)
		}
		p := mustPlan(t, Options{StackDir: dir, Path: "/version"})
		if got := p.Checks[0].URL.String(); got != "http://my-alb-123.us-east-1.elb.amazonaws.com/version" || p.Checks[0].Name != "GET /version" {
			t.Errorf("url = %s, name %q", got, p.Checks[0].Name)
		}
	})
	t.Run("stack-dir falls back to the ALB name", func(t *testing.T) {
		dir := t.TempDir()
		if err := stack.WriteOutputs(dir, stack.Outputs{ALBDNSName: "my-alb-123.us-east-1.elb.amazonaws.com"}); err != nil {
			t.Fatal(err)
		}
		p := mustPlan(t, Options{StackDir: dir})
		if got := p.Checks[0].URL.String(); got != "http://my-alb-123.us-east-1.elb.amazonaws.com" {
			t.Errorf("url = %s", got)
		}
	})
	t.Run("checks file: flags are defaults, check fields replace them", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "c.yaml")
		writeFile(t, f, `
checks:
  - path: version
  - name: api
    url: https://api.example.com/v1/ping
    method: head
    expect:
      status: 2xx
      max_latency: 250ms
      json: {ok: "true"}
`)
		p := mustPlan(t, Options{URL: "http://alb.example.com/app/", ChecksFile: f, MaxLatency: "1s", ExpectJSON: []string{"version=v1"}})
		a, b := p.Checks[0], p.Checks[1]
		if a.Name != "GET /app/version" || a.URL.String() != "http://alb.example.com/app/version" {
			t.Errorf("relative path resolves against --url: %s %s", a.Name, a.URL)
		}
		if a.Expect.MaxLatency != time.Second || len(a.Expect.JSON) != 1 || a.Expect.JSON[0].Value != "v1" {
			t.Errorf("flag defaults not applied: %+v", a.Expect)
		}
		if b.Method != "HEAD" || b.Expect.MaxLatency != 250*time.Millisecond || b.Expect.JSON[0].Path.String() != "ok" || !b.Expect.Status.Match(204) {
			t.Errorf("check fields should replace the defaults: %+v", b)
		}
	})
	t.Run("connect-to forms", func(t *testing.T) {
		p := mustPlan(t, Options{URL: "http://x/", ConnectTo: []string{"alb:80:127.0.0.1:8080", "::[::1]:9000", "alb:443::8443"}})
		want := []ConnectRule{
			{Host: "alb", Port: "80", ToAddr: "127.0.0.1", ToPort: "8080"},
			{ToAddr: "::1", ToPort: "9000"},
			{Host: "alb", Port: "443", ToPort: "8443"},
		}
		for i, w := range want {
			got := p.ConnectTo[i]
			got.text = ""
			if got != w {
				t.Errorf("rule %d = %+v, want %+v", i, got, w)
			}
		}
	})
}

func TestJUnitPathMayNotExistYet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "smoke.xml")
	p := mustPlan(t, Options{URL: "http://x/", JUnitFile: path})
	if p.JUnitFile != path {
		t.Errorf("JUnitFile = %q", p.JUnitFile)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("validation must not create directories: %v", err)
	}
}

// TestExampleChecksFile keeps the documented example valid.
func TestExampleChecksFile(t *testing.T) {
	p := mustPlan(t, Options{URL: "http://my-alb-123.us-east-1.elb.amazonaws.com", ChecksFile: filepath.Join("testdata", "checks.example.yaml")})
	var names []string
	for _, c := range p.Checks {
		names = append(names, c.Method+" "+c.Name+" "+c.URL.Path)
	}
	want := "GET home page /|GET version /version|POST api ping /api/ping|GET old path redirects /old"
	if got := strings.Join(names, "|"); got != want {
		t.Errorf("checks = %s\nwant     %s", got, want)
	}
	if !p.Checks[3].Expect.Status.IncludesRedirect() {
		t.Errorf("the redirect check must not follow redirects")
	}
}
