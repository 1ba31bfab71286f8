package orbrun

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/graviton-cd/graviton-cd/internal/orbpack"
)

var (
	pipelineRefRe = regexp.MustCompile(`<<\s*(pipeline\.[A-Za-z0-9_.-]+)\s*>>`)
	wholeRefRe    = regexp.MustCompile(`^\s*<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>\s*$`)
	includeRe     = regexp.MustCompile(`<<\s*include\(`)
)

// resolveParams checks the given arguments against a component's parameter
// declarations, as CircleCI does when it compiles a config, and fills in
// defaults. Values are bool, int or string.
func resolveParams(where string, decl *yaml.Node, given map[string]any) (map[string]any, error) {
	out := map[string]any{}
	declared := map[string]bool{}
	for i := 0; decl != nil && i+1 < len(decl.Content); i += 2 {
		name, p := decl.Content[i].Value, decl.Content[i+1]
		declared[name] = true
		typ := orbpack.ScalarValue(orbpack.MapValue(p, "type"))
		v, ok := given[name]
		if !ok {
			def := orbpack.MapValue(p, "default")
			if def == nil {
				return nil, fmt.Errorf("%s: required parameter %s is not given", where, name)
			}
			var err error
			if v, err = nodeValue(def); err != nil {
				return nil, fmt.Errorf("%s: parameter %s default: %w", where, name, err)
			}
		}
		v, err := checkType(typ, p, v)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w", where, name, err)
		}
		out[name] = v
	}
	for name := range given {
		if !declared[name] {
			return nil, fmt.Errorf("%s: %s is not a parameter", where, name)
		}
	}
	return out, nil
}

func checkType(typ string, decl *yaml.Node, v any) (any, error) {
	switch typ {
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("want a boolean, got %v", v)
	case "integer":
		switch n := v.(type) {
		case int:
			return n, nil
		case string:
			i, err := strconv.Atoi(n)
			if err != nil {
				return nil, fmt.Errorf("want an integer, got %q", n)
			}
			return i, nil
		}
		return nil, fmt.Errorf("want an integer, got %v", v)
	case "enum":
		s := fmt.Sprint(v)
		for _, e := range orbpack.MapValue(decl, "enum").Content {
			if e.Value == s {
				return s, nil
			}
		}
		return nil, fmt.Errorf("%q is not one of its values", s)
	case "env_var_name":
		s := fmt.Sprint(v)
		if !orbpack.IsEnvVarName(s) {
			return nil, fmt.Errorf("%q is not an environment variable name", s)
		}
		return s, nil
	case "string", "executor":
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("want a string, got %v (quote it)", v)
	case "steps":
		return nil, fmt.Errorf("steps parameters are not supported by this runner")
	}
	return nil, fmt.Errorf("unknown parameter type %q", typ)
}

// substitute replaces every << parameters.x >> in a copy of n. A scalar that
// is exactly one reference takes the value's type, as in CircleCI, so a
// boolean parameter stays a boolean in a `when` condition or an argument.
func substitute(where string, n *yaml.Node, params map[string]any) (*yaml.Node, error) {
	c := orbpack.Clone(n)
	var err error
	orbpack.Walk(c, func(s *yaml.Node) {
		if err != nil || s.Kind != yaml.ScalarNode {
			return
		}
		if includeRe.MatchString(s.Value) {
			err = fmt.Errorf("%s: line %d: unresolved include: run a packed orb (orbpack.Pack)", where, s.Line)
			return
		}
		if m := wholeRefRe.FindStringSubmatch(s.Value); m != nil {
			v, ok := params[m[1]]
			if !ok {
				err = fmt.Errorf("%s: line %d: << parameters.%s >> is not declared", where, s.Line, m[1])
				return
			}
			setScalar(s, v)
			return
		}
		s.Value = orbpack.ParamRefRe.ReplaceAllStringFunc(s.Value, func(ref string) string {
			name := orbpack.ParamRefRe.FindStringSubmatch(ref)[1]
			v, ok := params[name]
			if !ok {
				err = fmt.Errorf("%s: line %d: << parameters.%s >> is not declared", where, s.Line, name)
			}
			return fmt.Sprint(v)
		})
	})
	return c, err
}

// substitutePipeline replaces << pipeline.x >> values (pipeline.git.revision,
// pipeline.number, …) from the given map; an unknown one is an error.
func substitutePipeline(n *yaml.Node, values map[string]string) error {
	var err error
	orbpack.Walk(n, func(s *yaml.Node) {
		if err != nil || s.Kind != yaml.ScalarNode {
			return
		}
		s.Value = pipelineRefRe.ReplaceAllStringFunc(s.Value, func(ref string) string {
			key := pipelineRefRe.FindStringSubmatch(ref)[1]
			v, ok := values[key]
			if !ok {
				err = fmt.Errorf("line %d: no value for << %s >>: pass it in the pipeline values", s.Line, key)
			}
			return v
		})
	})
	return err
}

func setScalar(s *yaml.Node, v any) {
	s.Style = 0
	switch x := v.(type) {
	case bool:
		s.Tag, s.Value = "!!bool", strconv.FormatBool(x)
	case int:
		s.Tag, s.Value = "!!int", strconv.Itoa(x)
	default:
		s.Tag, s.Value = "!!str", fmt.Sprint(x)
	}
}

// nodeValue decodes a scalar into bool, int or string.
func nodeValue(n *yaml.Node) (any, error) {
	if n.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("line %d: want a scalar", n.Line)
	}
	switch n.ShortTag() {
	case "!!bool":
		return n.Value == "true", nil
	case "!!int":
		return strconv.Atoi(n.Value)
	case "!!null":
		return "", nil
	}
	return n.Value, nil
}

// envValue renders a value for an environment: variable, as CircleCI does.
func envValue(n *yaml.Node) string {
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// truthy evaluates a `when`/`unless` condition after substitution, with
// CircleCI's logic statements: literals, and, or, not, equal, matches.
func truthy(n *yaml.Node) (bool, error) {
	if n == nil {
		return false, nil
	}
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!bool":
			return n.Value == "true", nil
		case "!!int":
			return n.Value != "0", nil
		case "!!null":
			return false, nil
		}
		return n.Value != "", nil
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return false, fmt.Errorf("line %d: a condition is a value or one of and, or, not, equal, matches", n.Line)
	}
	op, arg := n.Content[0].Value, n.Content[1]
	switch op {
	case "not":
		v, err := truthy(arg)
		return !v, err
	case "and", "or":
		for _, a := range arg.Content {
			v, err := truthy(a)
			if err != nil {
				return false, err
			}
			if op == "and" && !v {
				return false, nil
			}
			if op == "or" && v {
				return true, nil
			}
		}
		return op == "and", nil
	case "equal":
		for _, a := range arg.Content[1:] {
			if a.Value != arg.Content[0].Value {
				return false, nil
			}
		}
		return true, nil
	case "matches":
		re, err := regexp.Compile("^(?:" + orbpack.ScalarValue(orbpack.MapValue(arg, "pattern")) + ")$")
		if err != nil {
			return false, fmt.Errorf("matches: %w", err)
		}
		return re.MatchString(orbpack.ScalarValue(orbpack.MapValue(arg, "value"))), nil
	}
	return false, fmt.Errorf("unknown logic statement %q", op)
}

// localName strips an orb alias: "graviton-cd/deploy" → "deploy".
func localName(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}
