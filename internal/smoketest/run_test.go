package smoketest

import (
	"bytes"
	"context"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Tests use real, short intervals (10 ms) against servers on 127.0.0.1; no
// test waits longer than its --timeout of a few hundred milliseconds.

// syncBuffer collects log lines written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fastOptions are Options with test-sized timing.
func fastOptions(url string) Options {
	return Options{URL: url, Interval: "10ms", Timeout: "2s", Consecutive: "3"}
}

// mustPlan builds a plan or fails the test.
func mustPlan(t *testing.T, opts Options) *Plan {
	t.Helper()
	p, err := NewPlan(opts)
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	return p
}

// runPlan runs opts and returns the report and the log.
func runPlan(t *testing.T, opts Options) (*Report, string) {
	t.Helper()
	var logBuf syncBuffer
	r := &Runner{Log: progress.New(&logBuf, nil, true), UserAgent: "smoketest-test"}
	rep := r.Run(context.Background(), mustPlan(t, opts))
	t.Logf("log:\n%s", logBuf.String())
	return rep, logBuf.String()
}

func versionHandler(version func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"version":%q,"arch":"arm64","build":{"tags":["stable","arm64"]}}`, version())
	}
}

func TestWarmUpThen200Passes(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) <= 4 {
			http.Error(w, "no healthy targets", http.StatusServiceUnavailable)
			return
		}
		versionHandler(func() string { return "v2" })(w, r)
	}))
	defer srv.Close()

	opts := fastOptions(srv.URL + "/version")
	opts.ExpectJSON = []string{"version=v2"}
	rep, logText := runPlan(t, opts)

	if !rep.Passed {
		t.Fatalf("want pass after warm-up, got %+v", rep.Checks)
	}
	c := rep.Checks[0]
	if c.Attempts != 7 || c.PassesInARow != 3 {
		t.Errorf("attempts = %d, passes in a row = %d; want 7 and 3", c.Attempts, c.PassesInARow)
	}
	if got := strings.Count(logText, "expected status 200, got 503"); got != 1 {
		t.Errorf("want the repeated 503 printed once, not per attempt; got %d lines", got)
	}
	if got := strings.Count(logText, "pass, 200 OK"); got != 1 || !strings.Contains(logText, "(1 of 3 in a row)") {
		t.Errorf("want the streak's first pass printed once; got %d lines", got)
	}
	if !strings.Contains(logText, `"no healthy targets"`) {
		t.Errorf("log should quote the body of the 503")
	}
}

func TestFlappingVersionFailsWithConsecutive(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(versionHandler(func() string {
		if requests.Add(1)%2 == 0 {
			return "v1"
		}
		return "v2"
	}))
	defer srv.Close()

	opts := fastOptions(srv.URL + "/version")
	opts.ExpectJSON = []string{"version=v2"}
	opts.Timeout = "300ms"
	rep, _ := runPlan(t, opts)

	if rep.Passed {
		t.Fatal("a flapping app must fail with --consecutive 3")
	}
	f := rep.Checks[0].Failure
	for _, want := range []string{`JSON version = "v2", got "v1"`, "no 3 passes in a row", "longest run of passes 1", "200 OK"} {
		if !strings.Contains(f, want) {
			t.Errorf("failure %q should contain %q", f, want)
		}
	}

	opts.Consecutive = "1"
	if rep, _ := runPlan(t, opts); !rep.Passed {
		t.Errorf("with --consecutive 1 the first v2 answer passes")
	}
}

func TestSlowAppFailsMaxLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(60 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintln(w, "slow hello")
	}))
	defer srv.Close()

	opts := fastOptions(srv.URL)
	opts.MaxLatency = "20ms"
	opts.Timeout = "400ms"
	rep, _ := runPlan(t, opts)
	if rep.Passed {
		t.Fatal("a 60ms app must fail --max-latency 20ms")
	}
	if f := rep.Checks[0].Failure; !strings.Contains(f, "within 20ms") {
		t.Errorf("failure %q should name the latency limit", f)
	}

	opts.MaxLatency = "2s"
	opts.Timeout = "2s"
	if rep, _ := runPlan(t, opts); !rep.Passed {
		t.Errorf("a 60ms app passes --max-latency 2s: %+v", rep.Checks[0])
	}
}

// writeServerCA writes the httptest TLS server's certificate (its own CA) as PEM.
func writeServerCA(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSWithCACert(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello over TLS")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	defer srv.Close()

	opts := fastOptions(srv.URL)
	opts.CACertFile = writeServerCA(t, srv)
	opts.ExpectBody = "over TLS"
	if rep, _ := runPlan(t, opts); !rep.Passed {
		t.Fatalf("with --ca-cert the check passes: %+v", rep.Checks[0])
	}

	t.Run("without the CA it fails at once", func(t *testing.T) {
		opts := fastOptions(srv.URL)
		rep, _ := runPlan(t, opts)
		c := rep.Checks[0]
		if c.Passed {
			t.Fatal("an untrusted certificate must fail")
		}
		if c.Attempts != 1 {
			t.Errorf("an untrusted certificate is not retried; attempts = %d", c.Attempts)
		}
		if !strings.Contains(c.Failure, "unknown authority") || !strings.Contains(c.Failure, "--ca-cert") {
			t.Errorf("failure %q should say the CA is unknown and suggest --ca-cert", c.Failure)
		}
		if rep.Duration > time.Second {
			t.Errorf("fail-fast took %s", rep.Duration)
		}
	})

	t.Run("insecure skips verification", func(t *testing.T) {
		opts := fastOptions(srv.URL)
		opts.Insecure = true
		if rep, _ := runPlan(t, opts); !rep.Passed {
			t.Errorf("--insecure passes: %+v", rep.Checks[0])
		}
	})
}

func TestConnectToKeepsHostHeaderAndTLSServerName(t *testing.T) {
	var seenHost, seenSNI atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenHost.Store(r.Host)
		seenSNI.Store(r.TLS.ServerName)
		fmt.Fprintln(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	// The httptest certificate is valid for example.com, so verification
	// passes only if the TLS server name stays example.com.
	opts := fastOptions("https://example.com/health")
	opts.ConnectTo = []string{"example.com:443:127.0.0.1:" + port}
	opts.CACertFile = writeServerCA(t, srv)
	opts.Consecutive = "1"
	if rep, _ := runPlan(t, opts); !rep.Passed {
		t.Fatalf("check through --connect-to failed: %+v", rep.Checks[0])
	}
	if got := seenHost.Load(); got != "example.com" {
		t.Errorf("Host header = %v, want example.com", got)
	}
	if got := seenSNI.Load(); got != "example.com" {
		t.Errorf("TLS server name = %v, want example.com", got)
	}
}

func TestConnectToNameThatDoesNotResolve(t *testing.T) {
	const alb = "my-alb-123.us-east-1.elb.amazonaws.com"
	var seenHost atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenHost.Store(r.Host)
		versionHandler(func() string { return "v1.2.3" })(w, r)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	for _, rule := range []string{
		alb + ":80:127.0.0.1:" + port, // exact
		"::127.0.0.1:" + port,         // any host, any port
		alb + "::127.0.0.1:" + port,   // any port
	} {
		t.Run(rule, func(t *testing.T) {
			seenHost.Store("")
			opts := fastOptions("http://" + alb + "/version")
			opts.ConnectTo = []string{rule}
			opts.ExpectJSON = []string{"version=v1.2.3", "build.tags[1]=arm64"}
			rep, logText := runPlan(t, opts)
			if !rep.Passed {
				t.Fatalf("check failed: %+v", rep.Checks[0])
			}
			if got := seenHost.Load(); got != alb {
				t.Errorf("Host header the server saw = %q, want %q", got, alb)
			}
			if !strings.Contains(logText, "connect to 127.0.0.1:"+port+" instead of "+alb+":80") {
				t.Errorf("debug log should show the mapping")
			}
		})
	}

	t.Run("a rule for another port does not apply", func(t *testing.T) {
		rule := alb + ":8443:127.0.0.1:" + port
		p := mustPlan(t, Options{URL: "http://" + alb + "/", ConnectTo: []string{rule}})
		if p.ConnectTo[0].matches(alb, "80") {
			t.Errorf("rule %s must not match port 80", rule)
		}
	})
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "the new page") })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	t.Run("followed, target judged", func(t *testing.T) {
		opts := fastOptions(srv.URL + "/old")
		opts.ExpectBody = "new page"
		rep, logText := runPlan(t, opts)
		if !rep.Passed {
			t.Fatalf("redirect not followed: %+v", rep.Checks[0])
		}
		if !strings.Contains(logText, "after 1 redirect to "+srv.URL+"/new") {
			t.Errorf("log should say where the redirect went")
		}
	})
	t.Run("expecting 3xx asserts the redirect itself", func(t *testing.T) {
		opts := fastOptions(srv.URL + "/old")
		opts.ExpectStatus = "302"
		opts.ExpectHeaders = []string{"Location:/new"}
		if rep, _ := runPlan(t, opts); !rep.Passed {
			t.Fatalf("302 expected: %+v", rep.Checks[0])
		}
	})
	t.Run("loop fails at once", func(t *testing.T) {
		rep, _ := runPlan(t, fastOptions(srv.URL+"/loop"))
		c := rep.Checks[0]
		if c.Passed || c.Attempts != 1 || !strings.Contains(c.Failure, "redirect loop: stopped after 10 redirects") {
			t.Errorf("want an immediate redirect-loop failure, got %+v", c)
		}
	})
}

func TestChecksFileOneFailingAndJUnit(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "Hello from v2")
	})
	mux.HandleFunc("/version", versionHandler(func() string { return "v2" }))
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		fmt.Fprintf(w, "token=%s", r.Header.Get("X-Token"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	checks := filepath.Join(dir, "checks.yaml")
	writeFile(t, checks, `
checks:
  - name: home
    path: /
    expect:
      status: 2xx
      body: Hello
  - name: version
    path: /version
    expect:
      json: {version: v2, arch: arm64}
      headers: {Content-Type: application/json}
      max_latency: 1s
  - name: echo
    path: /echo
    method: post
    headers: {X-Token: abc}
    body: ping
    expect:
      status: [200, 201]
      body_regex: '^token=abc$'
      headers: {X-Method: POST}
  - name: missing page
    path: /missing
`)
	junit := filepath.Join(dir, "results", "smoke.xml")
	opts := fastOptions(srv.URL)
	opts.ChecksFile = checks
	opts.JUnitFile = junit
	opts.Timeout = "300ms"
	rep, _ := runPlan(t, opts)

	if rep.Passed {
		t.Fatal("the missing page must fail the smoke test")
	}
	for _, c := range rep.Checks {
		if want := c.Name != "missing page"; c.Passed != want {
			t.Errorf("check %q passed = %v, want %v (%s)", c.Name, c.Passed, want, c.Failure)
		}
	}
	missing := rep.Checks[3]
	if !strings.Contains(missing.Failure, "expected status 200, got 404") || missing.Attempts < 2 {
		t.Errorf("404 is retried until the deadline; got %d attempts: %s", missing.Attempts, missing.Failure)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), `check "missing page" failed`) {
		t.Errorf("Err() = %v, want it to name the failed check", err)
	}

	if err := WriteJUnit(junit, rep); err != nil {
		t.Fatal(err)
	}
	suites := readJUnit(t, junit)
	if suites.Tests != 4 || suites.Failures != 1 || len(suites.Suites) != 1 {
		t.Fatalf("testsuites: tests=%d failures=%d suites=%d; want 4, 1, 1", suites.Tests, suites.Failures, len(suites.Suites))
	}
	s := suites.Suites[0]
	if s.Tests != 4 || s.Failures != 1 || len(s.Cases) != 4 {
		t.Fatalf("testsuite: tests=%d failures=%d cases=%d", s.Tests, s.Failures, len(s.Cases))
	}
	for i, tc := range s.Cases {
		if tc.Name != rep.Checks[i].Name {
			t.Errorf("testcase %d name = %q, want %q", i, tc.Name, rep.Checks[i].Name)
		}
		if secs, err := strconv.ParseFloat(tc.Time, 64); err != nil || secs <= 0 {
			t.Errorf("testcase %q time = %q, want seconds > 0", tc.Name, tc.Time)
		}
		if (tc.Failure != nil) != (tc.Name == "missing page") {
			t.Errorf("testcase %q failure = %+v", tc.Name, tc.Failure)
		}
	}
	if f := s.Cases[3].Failure; f == nil || !strings.Contains(f.Message, "got 404") || !strings.Contains(f.Text, "got 404") {
		t.Errorf("failure element should carry the reason: %+v", f)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// readJUnit parses a JUnit file back with encoding/xml, into structures
// declared here rather than the package's own, so the test checks the XML.
func readJUnit(t *testing.T, path string) parsedSuites {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		t.Errorf("JUnit file should start with an XML declaration")
	}
	var s parsedSuites
	if err := xml.Unmarshal(data, &s); err != nil {
		t.Fatalf("parse JUnit: %v\n%s", err, data)
	}
	if s.XMLName.Local != "testsuites" {
		t.Errorf("root element = %q, want testsuites", s.XMLName.Local)
	}
	return s
}

type parsedSuites struct {
	XMLName  xml.Name
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// resetHandler aborts the TCP connection (RST, via SetLinger(0)) for the
// first resets requests, then answers normally.
func resetHandler(t *testing.T, resets int32) http.HandlerFunc {
	var requests atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) <= resets {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			return
		}
		fmt.Fprintln(w, "recovered")
	}
}

func TestConnectionResets(t *testing.T) {
	t.Run("retried through warm-up", func(t *testing.T) {
		srv := httptest.NewServer(resetHandler(t, 3))
		defer srv.Close()
		rep, logText := runPlan(t, fastOptions(srv.URL))
		if !rep.Passed || rep.Checks[0].Attempts != 6 {
			t.Fatalf("want a pass on attempt 6 after 3 resets: %+v", rep.Checks[0])
		}
		// A reset reads as "reset" or "closed" depending on timing: each
		// kind is printed when it first appears, not per attempt.
		if n := strings.Count(logText, "connection reset by the server") + strings.Count(logText, "closed the connection"); n < 1 || n > 3 {
			t.Errorf("want the resets reported, got %d lines", n)
		}
	})
	t.Run("a target that keeps resetting fails at the deadline", func(t *testing.T) {
		srv := httptest.NewServer(resetHandler(t, 1<<30))
		defer srv.Close()
		opts := fastOptions(srv.URL)
		opts.Timeout = "200ms"
		rep, _ := runPlan(t, opts)
		c := rep.Checks[0]
		if c.Passed || c.Attempts < 2 {
			t.Fatalf("want a failure after several attempts: %+v", c)
		}
		if !strings.Contains(c.Failure, "connection reset") && !strings.Contains(c.Failure, "closed the connection") {
			t.Errorf("failure %q should say the connection was reset", c.Failure)
		}
		if c.LastStatus != 0 {
			t.Errorf("no answer ever came, last status = %d", c.LastStatus)
		}
	})
}

func TestConnectionRefusedUntilTheAppStarts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens now: connection refused

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "up") })}
	started := make(chan struct{})
	go func() {
		time.Sleep(80 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listen again on %s: %v", addr, err)
			close(started)
			return
		}
		close(started)
		srv.Serve(ln)
	}()
	defer func() { <-started; srv.Close() }()

	rep, logText := runPlan(t, fastOptions("http://"+addr+"/"))
	if !rep.Passed {
		t.Fatalf("want a pass once the app listens: %+v", rep.Checks[0])
	}
	if strings.Count(logText, "connection refused (nothing listening yet); retrying every 10ms") != 1 {
		t.Errorf("log should show the refused attempts, once")
	}
}

func TestClientErrorFailsAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	}))
	defer srv.Close()
	rep, _ := runPlan(t, fastOptions(srv.URL))
	c := rep.Checks[0]
	if c.Passed || c.Attempts != 1 {
		t.Fatalf("403 is not retried: %+v", c)
	}
	if !strings.Contains(c.Failure, "expected status 200, got 403") || !strings.Contains(c.Failure, "waiting will not change that") {
		t.Errorf("failure %q should explain the 403", c.Failure)
	}
}

func TestCancelledJobStops(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rep := (&Runner{}).Run(ctx, mustPlan(t, fastOptions(srv.URL)))
	c := rep.Checks[0]
	if c.Passed || !strings.Contains(c.Failure, "stopped after") || !strings.Contains(c.Failure, "503") {
		t.Errorf("a cancelled run fails and keeps the last failure: %+v", c)
	}
	if rep.Duration > time.Second {
		t.Errorf("cancel took %s", rep.Duration)
	}
}

func TestStreakTooShortForDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()
	opts := fastOptions(srv.URL)
	opts.Interval = "60ms"
	opts.Timeout = "150ms"
	opts.Consecutive = "2"
	opts.ExpectBody = "ok"
	// 2 passes 60ms apart fit in 150ms: passes.
	if rep, _ := runPlan(t, opts); !rep.Passed {
		t.Fatalf("want pass: %+v", rep.Checks[0])
	}
}

func TestInjectedClockMeasuresLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()
	// Each reading of the fake clock advances it by 300ms, so every request
	// "takes" 300ms whatever the machine does.
	var mu sync.Mutex
	fake := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		fake = fake.Add(300 * time.Millisecond)
		return fake
	}
	opts := fastOptions(srv.URL)
	opts.MaxLatency = "250ms"
	opts.Timeout = "100ms"
	opts.Consecutive = "1"
	rep := (&Runner{Now: now}).Run(context.Background(), mustPlan(t, opts))
	c := rep.Checks[0]
	if c.Passed || !strings.Contains(c.Failure, "expected a response within 250ms, took 300ms") {
		t.Errorf("want a latency failure measured by the injected clock: %+v", c)
	}
	if c.LastLatencyMS != 300 {
		t.Errorf("last latency = %vms, want 300", c.LastLatencyMS)
	}
}

func TestHangingAppReportsTheWaitingRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	defer srv.Close()
	opts := fastOptions(srv.URL)
	opts.Timeout = "100ms"
	rep, logText := runPlan(t, opts)
	c := rep.Checks[0]
	if c.Passed || !strings.Contains(c.Failure, "still waiting for an answer when time ran out") {
		t.Errorf("a hanging app must not read as a short streak: %+v", c)
	}
	if !strings.Contains(logText, "attempt 1: cut short") {
		t.Errorf("log should show the interrupted attempt")
	}
}

func TestConnectToThatMatchesNothingIsWarned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }))
	defer srv.Close()
	opts := fastOptions(srv.URL)
	opts.Consecutive = "1"
	opts.ConnectTo = []string{"my-alb.example.com:8080:127.0.0.1:1"}
	_, logText := runPlan(t, opts)
	if !strings.Contains(logText, "warning: --connect-to my-alb.example.com:8080:127.0.0.1:1 matches no check URL") {
		t.Errorf("want a warning for a rule that matches no check")
	}
}

// TestResetMidBody serves from a raw listener: the status line and part of
// the body, then a TCP reset, the way a task killed mid-answer looks.
func TestResetMidBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			conn.Read(buf) // the request; its content does not matter
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
		}
	}()
	opts := fastOptions("http://" + ln.Addr().String() + "/")
	opts.Timeout = "150ms"
	rep, _ := runPlan(t, opts)
	c := rep.Checks[0]
	if c.Passed || c.Attempts < 2 {
		t.Fatalf("a reset mid-body is retried and fails at the deadline: %+v", c)
	}
	if !strings.Contains(c.Failure, "reading the body: ") || c.LastStatus != 200 {
		t.Errorf("failure %q should say the body was cut (status %d seen)", c.Failure, c.LastStatus)
	}
}
