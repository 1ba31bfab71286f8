// Package smoketest proves a deployed app works over HTTP: named checks, each
// with expectations (status, body, headers, JSON, latency), retried through the
// app's warm-up until one overall deadline, with a JUnit report for CI.
//
// All input is parsed into a validated Plan first (NewPlan); every bad value
// is a *config.UsageError before any request is made. Run then executes the
// plan.
//
// Semantics, in brief:
//   - A check passes after Consecutive passes in a row, Interval apart. Any
//     failure resets the count, so an app that flaps between versions fails.
//   - Warm-up failures (connection refused or reset, DNS name not found, no
//     response in time, 502/503/504) and unmet expectations on an answer
//     (wrong version, 404 from a listener rule not yet in place, slow
//     response) are retried until the deadline: the app may be mid-rollout.
//   - Failures that waiting cannot fix end the check at once: an untrusted or
//     mismatched TLS certificate, a plain-HTTP server behind an https:// URL,
//     a redirect loop, and 4xx answers other than 404, 408, 425 and 429.
//   - Redirects are followed, at most MaxRedirects hops, and expectations are
//     judged on the final response (the redirect target counts). A check that
//     expects a 3xx status does not follow redirects, so it can assert the
//     redirect itself.
//   - Every attempt opens a new connection (no keep-alive), so each one proves
//     the whole path: name, TCP, TLS and the app.
//   - The log gets a line when a check's outcome changes, not one per attempt,
//     and a heartbeat a minute after the last line while nothing changes; a
//     failed check's reason goes to the report and the CLI's error, once.
package smoketest

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/progress"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// Defaults for the flags, as the CLI shows them in --help.
const (
	DefaultExpectStatus = "200"
	DefaultTimeout      = 2 * time.Minute
	DefaultInterval     = 2 * time.Second
	DefaultConsecutive  = 3
	// MaxRedirects is how many redirect hops a check follows before it fails.
	MaxRedirects = 10
	// maxConsecutive keeps a typo (300 for 3) from turning into a ten-minute wait.
	maxConsecutive = 100
)

// Options are the smoke-test settings as the user typed them (flags or
// GRAVITON_CD_* variables). Empty strings take the defaults above.
type Options struct {
	URL             string
	StackDir        string
	Path            string // resolved against URL or the stack's URL: /version
	ExpectStatus    string
	ExpectBody      string
	ExpectBodyRegex string
	ExpectHeaders   []string
	ExpectJSON      []string
	ChecksFile      string
	Timeout         string
	Interval        string
	Consecutive     string
	MaxLatency      string
	JUnitFile       string
	ConnectTo       []string
	CACertFile      string
	Insecure        bool
}

// Plan is a validated smoke test, ready to run.
type Plan struct {
	Checks      []Check
	Timeout     time.Duration
	Interval    time.Duration
	Consecutive int
	JUnitFile   string // empty: no JUnit report
	ConnectTo   []ConnectRule
	RootCAs     *x509.CertPool // nil: the system pool
	Insecure    bool
}

// Check is one named request and what its response must satisfy.
type Check struct {
	Name    string
	Method  string
	URL     *url.URL
	Headers map[string]string // sent as given; "Host" sets the Host header
	Body    string
	Expect  Expectations
}

// NewPlan validates opts into a Plan. Every error is a *config.UsageError that
// names the flag at fault and what a right value looks like.
func NewPlan(opts Options) (*Plan, error) {
	p := &Plan{Insecure: opts.Insecure}
	var err error
	if p.Timeout, err = parsePositiveDuration("timeout", opts.Timeout, DefaultTimeout); err != nil {
		return nil, err
	}
	if p.Interval, err = parsePositiveDuration("interval", opts.Interval, DefaultInterval); err != nil {
		return nil, err
	}
	if p.Consecutive, err = parseConsecutive(opts.Consecutive); err != nil {
		return nil, err
	}
	// The passes alone take (consecutive-1) intervals, and the last request
	// needs time of its own: the timeout must be more than that, not equal.
	if need := time.Duration(p.Consecutive-1) * p.Interval; need >= p.Timeout {
		return nil, config.Usagef("timeout", "%s is too short for %d passes in a row %s apart: they take %s before the last answer, so give more than that (such as %s), or lower --consecutive or --interval",
			p.Timeout, p.Consecutive, p.Interval, progress.Duration(need), progress.Duration(suggestTimeout(need)))
	}

	defaults, err := flagExpectations(opts)
	if err != nil {
		return nil, err
	}
	base, err := baseURL(opts)
	if err != nil {
		return nil, err
	}
	switch {
	case opts.ChecksFile != "" && opts.Path != "":
		return nil, config.Usagef("path", "cannot be used with --checks: give each check its own path: in the file")
	case opts.ChecksFile != "":
		if p.Checks, err = readChecksFile(opts.ChecksFile, base, defaults); err != nil {
			return nil, err
		}
	case base == nil:
		return nil, config.Usagef("url", "no URL to test: give --url https://…, --stack-dir with provision's outputs.json, or --checks FILE")
	default:
		target := base
		if opts.Path != "" {
			var ok bool
			if target, ok = resolvePath(base, opts.Path); !ok {
				return nil, config.Usagef("path", "%q is not a URL path: write /version or /health?deep=1 (the scheme and host come from --url or --stack-dir)", opts.Path)
			}
		}
		p.Checks = []Check{{Name: "GET " + pathOf(target), Method: "GET", URL: target, Expect: defaults}}
	}

	if p.ConnectTo, err = parseEach("connect-to", opts.ConnectTo, ParseConnectRule); err != nil {
		return nil, err
	}
	if opts.CACertFile != "" {
		if opts.Insecure {
			return nil, config.Usagef("insecure", "cannot be used with --ca-cert: --insecure skips the certificate check that --ca-cert sets up; keep one")
		}
		if p.RootCAs, err = loadCACert(opts.CACertFile); err != nil {
			return nil, err
		}
	}
	if p.JUnitFile, err = checkJUnitPath(opts.JUnitFile); err != nil {
		return nil, err
	}
	return p, nil
}

// suggestTimeout is a timeout with room for a streak that takes need: need
// plus time for the app to warm up, rounded up to a whole minute.
func suggestTimeout(need time.Duration) time.Duration {
	return (need + time.Minute + time.Minute - 1).Truncate(time.Minute)
}

// resolvePath resolves p, a path with an optional query, against base; false
// when p is not such a path (it has a scheme or a host, or does not parse).
func resolvePath(base *url.URL, p string) (*url.URL, bool) {
	ref, err := url.Parse(p)
	if err != nil || ref.Scheme != "" || ref.Host != "" {
		return nil, false
	}
	return base.ResolveReference(ref), true
}

// validPort reports whether p is a TCP port number, 1 to 65535.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// parseEach parses every non-blank value of a repeatable flag (the orb passes
// every parameter as a variable, and an unset list arrives as one empty
// string); the first bad one is a usage error naming the flag.
func parseEach[T any](flag string, values []string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, v := range values {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		x, err := parse(v)
		if err != nil {
			return nil, config.Usagef(flag, "%v", err)
		}
		out = append(out, x)
	}
	return out, nil
}

func parsePositiveDuration(flag, s string, def time.Duration) (time.Duration, error) {
	d, err := positiveDuration(s, def, flag == "max-latency")
	if err != nil {
		return 0, config.Usagef(flag, "%v", err)
	}
	return d, nil
}

// positiveDuration parses a duration above zero; "" is def. A bare number is
// refused with a hint in ms and s when smallUnits, else in s and m.
func positiveDuration(s string, def time.Duration, smallUnits bool) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if _, numErr := strconv.ParseFloat(s, 64); numErr == nil {
			if smallUnits {
				return 0, fmt.Errorf("%q has no unit: write %sms (milliseconds) or %ss (seconds)", s, s, s)
			}
			return 0, fmt.Errorf("%q has no unit: write %ss (seconds) or %sm (minutes)", s, s, s)
		}
		return 0, fmt.Errorf("%q is not a duration: use a number with a unit, like 30s, 2m or 500ms", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be more than zero: use a duration like 30s or 2m", s)
	}
	return d, nil
}

func parseConsecutive(s string) (int, error) {
	if s == "" {
		return DefaultConsecutive, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > maxConsecutive {
		return 0, config.Usagef("consecutive", "%q is not a count of passes in a row: use a whole number from 1 to %d (default %d)", s, maxConsecutive, DefaultConsecutive)
	}
	return n, nil
}

// flagExpectations builds the expectations given by --expect-* and
// --max-latency. With --checks they are the defaults every check starts from.
func flagExpectations(opts Options) (Expectations, error) {
	var e Expectations
	status := opts.ExpectStatus
	if status == "" {
		status = DefaultExpectStatus
	}
	var err error
	if e.Status, err = ParseStatusSet(status); err != nil {
		return e, config.Usagef("expect-status", "%v", err)
	}
	e.BodyContains = opts.ExpectBody
	if opts.ExpectBodyRegex != "" {
		if e.BodyRegex, err = regexp.Compile(opts.ExpectBodyRegex); err != nil {
			return e, config.Usagef("expect-body-regex", "%q does not compile (%v): write a Go regular expression (RE2 syntax)", opts.ExpectBodyRegex, err)
		}
	}
	if e.Headers, err = parseEach("expect-header", opts.ExpectHeaders, ParseHeaderExpectation); err != nil {
		return e, err
	}
	if e.JSON, err = parseEach("expect-json", opts.ExpectJSON, ParseJSONExpectation); err != nil {
		return e, err
	}
	if opts.MaxLatency != "" {
		if e.MaxLatency, err = parsePositiveDuration("max-latency", opts.MaxLatency, 0); err != nil {
			return e, err
		}
	}
	return e, nil
}

// baseURL is --url, or the URL in --stack-dir's outputs.json; nil if neither
// is given (a checks file may give every check its own url).
func baseURL(opts Options) (*url.URL, error) {
	switch {
	case opts.URL != "" && opts.StackDir != "":
		return nil, config.Usagef("url", "cannot be used with --stack-dir: give the URL directly or take it from outputs.json, not both")
	case opts.URL != "":
		return parseHTTPURL("url", opts.URL)
	case opts.StackDir != "":
		out, err := stack.ReadOutputs(opts.StackDir)
		if err != nil {
			return nil, err
		}
		raw := out.URL
		if raw == "" && out.ALBDNSName != "" {
			raw = "http://" + out.ALBDNSName
		}
		if raw == "" {
			return nil, config.Usagef("stack-dir", "%s has no url or alb_dns_name: re-run provision, or pass --url", filepath.Join(opts.StackDir, stack.OutputsFile))
		}
		return parseHTTPURL("stack-dir", raw)
	}
	return nil, nil
}

func parseHTTPURL(flag, raw string) (*url.URL, error) {
	u, err := httpURL(raw)
	if err != nil {
		return nil, config.Usagef(flag, "%v", err)
	}
	return u, nil
}

// httpURL parses an absolute http(s) URL to test, refusing what would fail or
// leak later: no scheme, no host, a bad port, credentials.
func httpURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw != "" && !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("%q has no scheme: write http://%s or https://%s", raw, raw, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL (%v): use a full URL like https://app.example.com/health", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, fmt.Errorf("%q has no scheme: write http://%s or https://%s", raw, raw, raw)
		}
		return nil, fmt.Errorf("%q uses %s: only http:// and https:// URLs can be tested", raw, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host: use a full URL like https://app.example.com/health", raw)
	}
	if port := u.Port(); port != "" {
		if !validPort(port) {
			return nil, fmt.Errorf("%q: port %q is not a number from 1 to 65535", raw, port)
		}
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries credentials: they would be printed in logs and JUnit; send an Authorization header from a --checks file instead", u.Redacted())
	}
	u.Fragment = ""
	return u, nil
}

func pathOf(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

func loadCACert(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, config.Usagef("ca-cert", "read %s: %v: give the PEM file of the CA that signed the app's certificate", path, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, config.Usagef("ca-cert", "%s holds no PEM certificate: give a file with -----BEGIN CERTIFICATE----- blocks", path)
	}
	return pool, nil
}

// checkJUnitPath refuses a path that cannot become a file. The file and its
// directories are only written once the checks have run.
func checkJUnitPath(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", config.Usagef("junit", "%s is a directory: give a file name inside it, like %s", path, filepath.Join(path, "smoke-test.xml"))
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return "", config.Usagef("junit", "%s cannot be created: %s is a file, not a directory", path, dir)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", config.Usagef("junit", "%s cannot be created: %v", path, err)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	return path, nil
}

// String summarises the plan for the log.
func (p *Plan) String() string {
	return fmt.Sprintf("%s, %s in a row each, %s apart, within %s", progress.Plural(len(p.Checks), "check", "checks"),
		progress.Plural(p.Consecutive, "pass", "passes"), progress.Duration(p.Interval), progress.Duration(p.Timeout))
}
