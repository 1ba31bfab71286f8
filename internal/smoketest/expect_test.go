package smoketest

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStatusSet(t *testing.T) {
	tests := []struct {
		in       string
		match    []int
		noMatch  []int
		redirect bool
	}{
		{"200", []int{200}, []int{201, 503}, false},
		{"200, 204", []int{200, 204}, []int{201}, false},
		{"2xx", []int{200, 204, 299}, []int{301, 199}, false},
		{"2XX,301", []int{250, 301}, []int{302}, true},
		{"3xx", []int{302}, []int{200}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseStatusSet(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.match {
				if !s.Match(c) {
					t.Errorf("%d should match", c)
				}
			}
			for _, c := range tt.noMatch {
				if s.Match(c) {
					t.Errorf("%d should not match", c)
				}
			}
			if s.IncludesRedirect() != tt.redirect {
				t.Errorf("IncludesRedirect = %v", !tt.redirect)
			}
		})
	}
}

func TestJSONPathLookup(t *testing.T) {
	body := []byte(`{"version":"v2","n":1.0,"ok":true,"none":null,"build":{"tags":["stable","arm64"],"0":"zero"},"items":[{"name":"a"},{"name":"b"}]}`)
	tests := []struct {
		expect string
		fails  string // empty: passes
	}{
		{"version=v2", ""},
		{"version=v1", `got "v2"`},
		{"n=1", ""},
		{"n=1.0", ""},
		{"n=2", "got 1.0"},
		{"ok=true", ""},
		{"none=null", ""},
		{"build.tags[1]=arm64", ""},
		{"build.tags.0=stable", ""},
		{"build.0=zero", ""},
		{"items[1].name=b", ""},
		{"items.1.name=b", ""},
		{"build.tags=[\"stable\",\"arm64\"]", ""},
		{"build.missing=x", `no key "missing" at build`},
		{"items[5].name=x", "index 5 is out of range at items (length 2)"},
		{"items.name=x", "items is an array"},
		{"version.major=2", `version is "v2", not an object`},
	}
	for _, tt := range tests {
		t.Run(tt.expect, func(t *testing.T) {
			j, err := ParseJSONExpectation(tt.expect)
			if err != nil {
				t.Fatal(err)
			}
			e := Expectations{Status: mustStatus(t, "200"), JSON: []JSONExpectation{j}}
			got := e.Evaluate(&Observation{Status: 200, Body: body})
			if tt.fails == "" {
				if got != nil {
					t.Errorf("want pass, got %v", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.fails) {
				t.Errorf("want failure containing %q, got %v", tt.fails, got)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		j, _ := ParseJSONExpectation("version=v2")
		e := Expectations{Status: mustStatus(t, "200"), JSON: []JSONExpectation{j}}
		got := e.Evaluate(&Observation{Status: 200, Body: []byte("<html>")})
		if len(got) != 1 || !strings.Contains(got[0], "does not parse") {
			t.Errorf("got %v", got)
		}
	})
}

func mustStatus(t *testing.T, s string) StatusSet {
	t.Helper()
	set, err := ParseStatusSet(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestEvaluate(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	obs := &Observation{Status: 200, StatusText: "200 OK", Header: h, Body: []byte(`{"version":"v2"}`), Latency: 30 * time.Millisecond}
	tests := []struct {
		name  string
		e     Expectations
		fails []string
	}{
		{"all met", Expectations{
			Status: mustStatus(t, "2xx"), BodyContains: `"v2"`, BodyRegex: regexp.MustCompile(`v\d`),
			Headers:    []HeaderExpectation{{Name: "Content-Type", Contains: "application/json"}},
			MaxLatency: 50 * time.Millisecond,
		}, nil},
		{"wrong status is reported alone", Expectations{Status: mustStatus(t, "204"), BodyContains: "nope"}, []string{"expected status 204, got 200"}},
		{"every unmet expectation", Expectations{
			Status: mustStatus(t, "200"), BodyContains: "v3", BodyRegex: regexp.MustCompile(`^x`),
			Headers:    []HeaderExpectation{{Name: "X-Version"}, {Name: "Content-Type", Contains: "text/html"}},
			MaxLatency: 10 * time.Millisecond,
		}, []string{
			"expected a response within 10ms, took 30ms",
			"expected header X-Version present, it is missing",
			`expected header Content-Type containing "text/html", got "application/json; charset=utf-8"`,
			`expected the body to contain "v3"`,
			"expected the body to match /^x/",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.Evaluate(obs)
			if strings.Join(got, "\n") != strings.Join(tt.fails, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.fails, "\n"))
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  hello\n\tworld \n", "hello world"},
		{strings.Repeat("a", 100), strings.Repeat("a", 12) + "…"},
		{"twelve runes  \n", "twelve runes"},
		{"bad \xff byte", "bad byte"},
	}
	for _, tt := range tests {
		if got := excerpt([]byte(tt.in), 12); got != tt.want {
			t.Errorf("excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassifyTransportError(t *testing.T) {
	c := &Check{Name: "x", URL: &url.URL{Scheme: "http", Host: "my-alb.example.com"}}
	dnsNotFound := &url.Error{Op: "Get", URL: "http://my-alb.example.com/", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Name: "my-alb.example.com", Err: "no such host", IsNotFound: true}}}
	f := classifyTransportError(dnsNotFound, c, time.Second)
	if !f.Retryable || !strings.Contains(f.Reason, "DNS name my-alb.example.com not found") || !strings.Contains(f.Reason, "--connect-to") {
		t.Errorf("DNS not found is retryable and suggests --connect-to: %+v", f)
	}
	other := classifyTransportError(&url.Error{Op: "Get", URL: "http://x/", Err: net.UnknownNetworkError("weird")}, c, time.Second)
	if !other.Retryable || strings.Contains(other.Reason, "Get ") {
		t.Errorf("unknown errors are retried, without the url.Error prefix: %+v", other)
	}
}
