package smoketest

import (
	"fmt"
	"strconv"
	"strings"
)

// JSONPath is a dot path into a JSON document: "version", "build.commit",
// "items.0.name" or "items[0].name". A number selects an array element, or an
// object key when the value there is an object.
type JSONPath struct {
	segments []string
	text     string
}

// ParseJSONPath parses a dot path with optional [n] array indexes.
func ParseJSONPath(s string) (JSONPath, error) {
	if s == "" {
		return JSONPath{}, fmt.Errorf("empty JSON path: use a dot path like version or build.commit")
	}
	var segs []string
	for _, part := range strings.Split(s, ".") {
		key, rest, hasIndex := strings.Cut(part, "[")
		if hasIndex && rest == "" {
			return JSONPath{}, fmt.Errorf("JSON path %q has an unclosed [: use [0], [1], …", s)
		}
		if key == "" && rest == "" {
			return JSONPath{}, fmt.Errorf("JSON path %q has an empty segment: use a dot path like build.commit", s)
		}
		if key != "" {
			segs = append(segs, key)
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			if _, err := strconv.Atoi(idx); !ok || err != nil {
				return JSONPath{}, fmt.Errorf("JSON path %q has a bad index [%s: use [0], [1], …", s, rest)
			}
			segs = append(segs, idx)
			if after != "" && !strings.HasPrefix(after, "[") {
				return JSONPath{}, fmt.Errorf("JSON path %q: %q after an index: put a dot before the next key", s, after)
			}
			rest = strings.TrimPrefix(after, "[")
		}
	}
	return JSONPath{segments: segs, text: s}, nil
}

// String returns the path as typed.
func (p JSONPath) String() string { return p.text }

// Lookup walks doc (as decoded by encoding/json) along the path.
func (p JSONPath) Lookup(doc any) (any, error) {
	cur := doc
	for i, seg := range p.segments {
		at := strings.Join(p.segments[:i], ".")
		if at == "" {
			at = "the top level"
		}
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return nil, fmt.Errorf("there is no key %q at %s", seg, at)
			}
			cur = next
		case []any:
			idx, err := strconv.Atoi(seg)
			if err != nil {
				return nil, fmt.Errorf("%s is an array, so %q must be an index", at, seg)
			}
			if idx < 0 || idx >= len(v) {
				return nil, fmt.Errorf("index %d is out of range at %s (length %d)", idx, at, len(v))
			}
			cur = v[idx]
		default:
			return nil, fmt.Errorf("%s is %s, not an object or array", at, renderJSONValue(cur))
		}
	}
	return cur, nil
}
