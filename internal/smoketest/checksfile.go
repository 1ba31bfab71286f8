package smoketest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// The --checks file. Example:
//
//	checks:
//	  - name: home
//	    path: /
//	    expect:
//	      status: 2xx
//	      body: Hello
//	  - name: version
//	    path: /version
//	    expect:
//	      json: {version: v1.2.3}
//	      max_latency: 500ms
//	  - name: login
//	    url: https://auth.example.com/login
//	    method: POST
//	    headers: {Content-Type: application/json}
//	    body: '{"user":"smoke"}'
//	    expect:
//	      status: [200, 201]
//	      headers: {Set-Cookie: session=}
//	      body_regex: '"ok":\s*true'
//
// The --expect-* and --max-latency flags are the defaults each check starts
// from; a check's own expect.X replaces the flag's X.
type checksFile struct {
	Checks []checkSpec `yaml:"checks"`
}

type checkSpec struct {
	Name    string            `yaml:"name"`
	Path    string            `yaml:"path"`
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	Expect  expectSpec        `yaml:"expect"`
}

type expectSpec struct {
	Status     yaml.Node         `yaml:"status"` // 200, "2xx", or a list of either
	Body       *string           `yaml:"body"`
	BodyRegex  *string           `yaml:"body_regex"`
	Headers    map[string]string `yaml:"headers"`
	JSON       map[string]string `yaml:"json"`
	MaxLatency *string           `yaml:"max_latency"`
}

var methodPattern = regexp.MustCompile(`^[A-Za-z]+$`)

// readChecksFile parses and validates the checks file. Relative paths resolve
// against base (--url or outputs.json).
func readChecksFile(path string, base *url.URL, defaults Expectations) ([]Check, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, config.Usagef("checks", "read %s: %v: give the path of a YAML file with a list of checks", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true) // a typo such as "exepct" must not silently drop expectations
	var file checksFile
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, config.Usagef("checks", "%s is empty: list checks under a top-level checks: key", path)
		}
		return nil, config.Usagef("checks", "%s is not a valid checks file: %s", path, friendlyYAMLError(err))
	}
	if len(file.Checks) == 0 {
		return nil, config.Usagef("checks", "%s has no checks: list them under a top-level checks: key, each with a name and a path or url", path)
	}
	var checks []Check
	for i, spec := range file.Checks {
		c, err := spec.toCheck(base, defaults)
		if err != nil {
			label := fmt.Sprintf("check %d", i+1)
			if spec.Name != "" {
				label += fmt.Sprintf(" (%s)", spec.Name)
			}
			return nil, config.Usagef("checks", "%s, %s: %v", path, label, err)
		}
		if slices.ContainsFunc(checks, func(o Check) bool { return o.Name == c.Name }) {
			return nil, config.Usagef("checks", "%s: two checks are named %q: give each its own name, it names the JUnit testcase", path, c.Name)
		}
		checks = append(checks, c)
	}
	return checks, nil
}

// friendlyYAMLError replaces Go type names in yaml.v3's messages with the
// fields a user can write.
func friendlyYAMLError(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n ", "")
	msg = strings.ReplaceAll(msg, "in type smoketest.checksFile", "at the top level (known: checks)")
	msg = strings.ReplaceAll(msg, "in type smoketest.checkSpec", "in a check (known: name, path, url, method, headers, body, expect)")
	msg = strings.ReplaceAll(msg, "in type smoketest.expectSpec", "in expect (known: status, body, body_regex, headers, json, max_latency)")
	return msg
}

func (s checkSpec) toCheck(base *url.URL, defaults Expectations) (Check, error) {
	c := Check{Name: strings.TrimSpace(s.Name), Method: strings.ToUpper(s.Method), Body: s.Body, Expect: defaults}
	if c.Method == "" {
		c.Method = http.MethodGet
	}
	if !methodPattern.MatchString(c.Method) {
		return c, fmt.Errorf("method %q is not an HTTP method: use GET, HEAD, POST, …", s.Method)
	}
	switch {
	case s.Path != "" && s.URL != "":
		return c, fmt.Errorf("has both path and url: give one")
	case s.URL != "":
		u, err := httpURL(s.URL)
		if err != nil {
			return c, fmt.Errorf("url %v", err)
		}
		c.URL = u
	case s.Path != "":
		if base == nil {
			return c, fmt.Errorf("path %q needs a base URL: give --url or --stack-dir, or write a full url: in the check", s.Path)
		}
		u, ok := resolvePath(base, s.Path)
		if !ok {
			return c, fmt.Errorf("path %q is not a URL path: write /health, or use url: for a full URL", s.Path)
		}
		c.URL = u
	default:
		return c, fmt.Errorf("has neither path nor url: give path: /health (relative to --url) or url: https://…")
	}
	if c.Name == "" {
		c.Name = c.Method + " " + pathOf(c.URL)
	}
	for name := range s.Headers {
		if err := validHeaderName(name); err != nil {
			return c, fmt.Errorf("headers: %w", err)
		}
	}
	c.Headers = s.Headers
	if err := s.Expect.apply(&c.Expect); err != nil {
		return c, fmt.Errorf("expect: %w", err)
	}
	return c, nil
}

// apply overrides the defaults in e with what the spec sets.
func (s expectSpec) apply(e *Expectations) error {
	if !s.Status.IsZero() {
		text, err := statusText(&s.Status)
		if err != nil {
			return err
		}
		if e.Status, err = ParseStatusSet(text); err != nil {
			return fmt.Errorf("status: %w", err)
		}
	}
	if s.Body != nil {
		e.BodyContains = *s.Body
	}
	if s.BodyRegex != nil {
		e.BodyRegex = nil
		if *s.BodyRegex != "" {
			re, err := regexp.Compile(*s.BodyRegex)
			if err != nil {
				return fmt.Errorf("body_regex %q does not compile (%v): write a Go regular expression (RE2 syntax)", *s.BodyRegex, err)
			}
			e.BodyRegex = re
		}
	}
	if s.Headers != nil {
		e.Headers = nil
		for _, name := range slices.Sorted(maps.Keys(s.Headers)) {
			h, err := ParseHeaderExpectation(name + ":" + s.Headers[name])
			if err != nil {
				return fmt.Errorf("headers: %w", err)
			}
			e.Headers = append(e.Headers, h)
		}
	}
	if s.JSON != nil {
		e.JSON = nil
		for _, path := range slices.Sorted(maps.Keys(s.JSON)) {
			j, err := ParseJSONExpectation(path + "=" + s.JSON[path])
			if err != nil {
				return fmt.Errorf("json: %w", err)
			}
			e.JSON = append(e.JSON, j)
		}
	}
	if s.MaxLatency != nil {
		d, err := positiveDuration(*s.MaxLatency, 0, true)
		if err != nil {
			return fmt.Errorf("max_latency %v", err)
		}
		e.MaxLatency = d
	}
	return nil
}

// statusText turns 200, "2xx" or [200, "3xx"] into "200", "2xx" or "200,3xx".
func statusText(n *yaml.Node) (string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value, nil
	case yaml.SequenceNode:
		var parts []string
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return "", fmt.Errorf("status (line %d): list items must be codes or classes like 200 or 2xx", item.Line)
			}
			parts = append(parts, item.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", fmt.Errorf("status (line %d): use a code (200), a class (2xx) or a list of them", n.Line)
}
