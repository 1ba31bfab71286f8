package smoketest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// StatusSet is the set of HTTP status codes a check accepts: exact codes
// (200, 204) and classes (2xx).
type StatusSet struct {
	codes   []int
	classes []int // 2 for 2xx
	text    string
}

// ParseStatusSet parses a comma-separated list of codes and classes, such as
// "200", "200,204" or "2xx,301".
func ParseStatusSet(s string) (StatusSet, error) {
	var set StatusSet
	var parts []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		switch {
		case len(p) == 3 && strings.EqualFold(p[1:], "xx") && p[0] >= '1' && p[0] <= '5':
			set.classes = append(set.classes, int(p[0]-'0'))
			parts = append(parts, p[:1]+"xx")
		default:
			code, err := strconv.Atoi(p)
			if err != nil || code < 100 || code > 599 {
				return StatusSet{}, fmt.Errorf("%q is not a status: use codes from 100 to 599 or classes like 2xx, comma-separated (200,204 or 2xx)", p)
			}
			set.codes = append(set.codes, code)
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return StatusSet{}, fmt.Errorf("no status given: use a code like 200, a list like 200,204 or a class like 2xx")
	}
	set.text = strings.Join(parts, ",")
	return set, nil
}

// Match reports whether code is in the set.
func (s StatusSet) Match(code int) bool {
	return slices.Contains(s.codes, code) || slices.Contains(s.classes, code/100)
}

// IncludesRedirect reports whether the set accepts a 3xx status. Such a check
// asserts the redirect itself, so redirects are not followed for it.
func (s StatusSet) IncludesRedirect() bool {
	if slices.Contains(s.classes, 3) {
		return true
	}
	return slices.ContainsFunc(s.codes, func(c int) bool { return c/100 == 3 })
}

// String returns the set as it would be typed: "200" or "2xx,301".
func (s StatusSet) String() string { return s.text }

// HeaderExpectation requires a response header; a non-empty Contains also
// requires one of its values to contain that text.
type HeaderExpectation struct {
	Name     string
	Contains string
}

// ParseHeaderExpectation parses "Name:value" (value may be empty, meaning the
// header only has to be present).
func ParseHeaderExpectation(s string) (HeaderExpectation, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok {
		return HeaderExpectation{}, fmt.Errorf("%q has no colon: use Name:value, for example Content-Type:application/json, or Name: to require only presence", s)
	}
	if err := validHeaderName(name); err != nil {
		return HeaderExpectation{}, fmt.Errorf("%q: %w", s, err)
	}
	return HeaderExpectation{Name: http.CanonicalHeaderKey(name), Contains: strings.TrimSpace(value)}, nil
}

func validHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("empty header name: use Name:value")
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return fmt.Errorf("header name %q contains %q: use letters, digits and dashes, like X-App-Version", name, r)
		}
	}
	return nil
}

// String describes the expectation for messages.
func (h HeaderExpectation) String() string {
	if h.Contains == "" {
		return "header " + h.Name + " present"
	}
	return fmt.Sprintf("header %s containing %q", h.Name, h.Contains)
}

// JSONExpectation requires the JSON body to hold Value at Path.
type JSONExpectation struct {
	Path  JSONPath
	Value string
}

// ParseJSONExpectation parses "path=value", such as "version=v1.2.3" or
// "build.tags[0]=stable".
func ParseJSONExpectation(s string) (JSONExpectation, error) {
	p, value, ok := strings.Cut(s, "=")
	if !ok {
		return JSONExpectation{}, fmt.Errorf("%q has no '=': use path=value, for example version=v1.2.3", s)
	}
	path, err := ParseJSONPath(strings.TrimSpace(p))
	if err != nil {
		return JSONExpectation{}, fmt.Errorf("%q: %w", s, err)
	}
	return JSONExpectation{Path: path, Value: value}, nil
}

// String describes the expectation for messages.
func (j JSONExpectation) String() string {
	return fmt.Sprintf("JSON %s = %q", j.Path, j.Value)
}

// Expectations are what a response must satisfy for a check to pass.
type Expectations struct {
	Status       StatusSet
	BodyContains string
	BodyRegex    *regexp.Regexp
	Headers      []HeaderExpectation
	JSON         []JSONExpectation
	MaxLatency   time.Duration // zero means no limit
}

// Observation is what came back from one request.
type Observation struct {
	Status     int
	StatusText string // "503 Service Unavailable"
	Header     http.Header
	Body       []byte // at most maxBodyBytes
	Latency    time.Duration
	Redirects  int
	FinalURL   string
}

// Describe summarises the observation for a log line or a failure message:
// status, latency, redirects and a short excerpt of the body.
func (o *Observation) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s in %s", o.StatusText, roundLatency(o.Latency))
	if o.Redirects > 0 {
		fmt.Fprintf(&b, " after %s to %s", progress.Plural(o.Redirects, "redirect", "redirects"), o.FinalURL)
	}
	if ex := excerpt(o.Body, 80); ex != "" {
		fmt.Fprintf(&b, ", body %q", ex)
	} else {
		b.WriteString(", empty body")
	}
	return b.String()
}

func roundLatency(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

// excerpt returns up to max runes of body on one line, with control
// characters folded to spaces and "…" marking a cut.
func excerpt(body []byte, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for len(body) > 0 && n < max {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		if r == utf8.RuneError || r < ' ' || r == 0x7f {
			r = ' '
		}
		if r == ' ' {
			if space || n == 0 {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
		n++
	}
	out := strings.TrimRight(b.String(), " ")
	if len(bytes.TrimSpace(body)) > 0 {
		out += "…"
	}
	return out
}

// Evaluate returns why o does not satisfy e, one entry per unmet expectation,
// or nil when it does. A wrong status is reported alone: the body of an error
// page says nothing useful about the other expectations.
func (e *Expectations) Evaluate(o *Observation) []string {
	if !e.Status.Match(o.Status) {
		return []string{fmt.Sprintf("expected status %s, got %d", e.Status, o.Status)}
	}
	var failed []string
	if e.MaxLatency > 0 && o.Latency > e.MaxLatency {
		failed = append(failed, fmt.Sprintf("expected a response within %s, took %s", e.MaxLatency, roundLatency(o.Latency)))
	}
	for _, h := range e.Headers {
		values := o.Header.Values(h.Name)
		switch {
		case len(values) == 0:
			failed = append(failed, fmt.Sprintf("expected %s, it is missing", h))
		case h.Contains != "" && !slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, h.Contains) }):
			failed = append(failed, fmt.Sprintf("expected %s, got %q", h, strings.Join(values, ", ")))
		}
	}
	if e.BodyContains != "" && !bytes.Contains(o.Body, []byte(e.BodyContains)) {
		failed = append(failed, fmt.Sprintf("expected the body to contain %q", e.BodyContains))
	}
	if e.BodyRegex != nil && !e.BodyRegex.Match(o.Body) {
		failed = append(failed, fmt.Sprintf("expected the body to match /%s/", e.BodyRegex))
	}
	if len(e.JSON) > 0 {
		failed = append(failed, evaluateJSON(e.JSON, o.Body)...)
	}
	return failed
}

func evaluateJSON(want []JSONExpectation, body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return []string{fmt.Sprintf("expected a JSON body for %s, it does not parse (%v)", want[0], err)}
	}
	var failed []string
	for _, j := range want {
		got, err := j.Path.Lookup(doc)
		if err != nil {
			failed = append(failed, fmt.Sprintf("expected %s, %v", j, err))
			continue
		}
		if !jsonValueEquals(got, j.Value) {
			failed = append(failed, fmt.Sprintf("expected %s, got %s", j, renderJSONValue(got)))
		}
	}
	return failed
}

// jsonValueEquals compares a decoded JSON value with the text the user typed:
// strings as they are, numbers by value (1.0 equals 1), everything else by its
// compact JSON form (true, null, [1,2]).
func jsonValueEquals(got any, want string) bool {
	switch v := got.(type) {
	case string:
		return v == want
	case json.Number:
		if v.String() == want {
			return true
		}
		g, err1 := v.Float64()
		w, err2 := strconv.ParseFloat(want, 64)
		return err1 == nil && err2 == nil && g == w
	default:
		return renderJSONValue(got) == want
	}
}

func renderJSONValue(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
