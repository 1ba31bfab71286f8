package orbpack

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Finding is one review rule broken by one component.
type Finding struct {
	Where string // "jobs/deploy", "@orb.yml"
	Rule  string // short rule name, e.g. "run-step-name"
	Msg   string
}

func (f Finding) String() string { return fmt.Sprintf("%s: [%s] %s", f.Where, f.Rule, f.Msg) }

// OrbRef is how examples refer to this orb: <alias>: graviton-cd/graviton-cd@<version>.
const OrbRef = "graviton-cd/graviton-cd"

// ParamRefRe matches a parameter reference, << parameters.name >>, and
// captures the name. orbrun substitutes parameters with it.
var ParamRefRe = regexp.MustCompile(`<<\s*parameters\.([A-Za-z0-9_-]+)\s*>>`)

var (
	envNameRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	snakeCaseRe = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	envRefRe    = regexp.MustCompile(`\$\{?[A-Za-z_]`)
	// secretNameRe spots parameters that would carry a secret's value.
	secretNameRe = regexp.MustCompile(`(secret|token|password|passwd|private_key|access_key)`)
)

// reservedJobKeys are keys of a workflow's job invocation: a job parameter with
// one of these names could never be set.
var reservedJobKeys = map[string]bool{
	"name": true, "requires": true, "context": true, "filters": true, "matrix": true,
	"type": true, "pre-steps": true, "post-steps": true, "serial-group": true, "override-with": true,
}

// builtinSteps are CircleCI's own steps, with the keys each one requires.
var builtinSteps = map[string][]string{
	"checkout":             nil,
	"setup_remote_docker":  nil,
	"add_ssh_keys":         nil,
	"attach_workspace":     {"at"},
	"persist_to_workspace": {"root", "paths"},
	"store_test_results":   {"path"},
	"store_artifacts":      {"path"},
	"save_cache":           {"key", "paths"},
	"restore_cache":        nil,
}

var paramTypes = map[string]bool{
	"string": true, "boolean": true, "integer": true, "enum": true,
	"executor": true, "steps": true, "env_var_name": true,
}

// ReviewDir reads the orb source in dir and reviews it.
func ReviewDir(dir string) ([]Finding, error) {
	src, err := ReadSource(dir)
	if err != nil {
		return nil, err
	}
	return Review(src), nil
}

// Review checks the orb source against the orb-tools review rules that apply
// here, plus the parameter wiring that CircleCI only reports at run time:
//
//   - @orb.yml: version 2.1, a description, display.source_url and home_url;
//   - every job, command, executor and example has a description;
//   - every run step is a map with a name; a multi-line command is an include
//     of scripts/*.sh, and an included script holds no "<<" (CircleCI would
//     read it as parameter syntax);
//   - parameters are snake_case, of a known type, with defaults of that type
//     and no $ENV in a default; job parameters avoid workflow keys (name…);
//     a parameter named like a secret is an env_var_name, never a value;
//   - every job has an executor parameter;
//   - every << parameters.x >> is declared and every declared parameter is used;
//   - steps call only CircleCI's steps or this orb's commands, with declared
//     arguments, every required one given;
//   - there is an example, each uses this orb's jobs or commands with arguments
//     they declare.
//
// Component names are not held to snake_case (orb-tools' naming rule): the job
// names provision, deploy, smoke-test and destroy are a contract with users.
func Review(src *Source) []Finding {
	r := &reviewer{src: src}
	r.root()
	for _, section := range Sections {
		for _, name := range slices.Sorted(maps.Keys(src.Components[section])) {
			c := src.Components[section][name]
			where := section + "/" + name
			if strings.TrimSpace(ScalarValue(MapValue(c, "description"))) == "" {
				r.add(where, "description", "has no description")
			}
			switch section {
			case "jobs", "commands", "executors":
				r.parameters(where, section, c)
			}
			switch section {
			case "jobs":
				r.job(where, c)
			case "commands":
				r.steps(where, MapValue(c, "steps"))
			case "examples":
				r.example(where, c)
			}
		}
	}
	if len(src.Components["examples"]) == 0 {
		r.add("examples", "examples", "the orb has no usage examples")
	}
	sort.SliceStable(r.findings, func(i, j int) bool { return r.findings[i].Where < r.findings[j].Where })
	return r.findings
}

type reviewer struct {
	src      *Source
	findings []Finding
}

func (r *reviewer) add(where, rule, format string, args ...any) {
	r.findings = append(r.findings, Finding{Where: where, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (r *reviewer) root() {
	root := r.src.Root
	if v := ScalarValue(MapValue(root, "version")); v != "2.1" {
		r.add("@orb.yml", "version", "version is %q, want 2.1", v)
	}
	if strings.TrimSpace(ScalarValue(MapValue(root, "description"))) == "" {
		r.add("@orb.yml", "description", "has no description")
	}
	display := MapValue(root, "display")
	for _, k := range []string{"source_url", "home_url"} {
		if u := ScalarValue(MapValue(display, k)); !strings.HasPrefix(u, "https://") {
			r.add("@orb.yml", "display", "display.%s is %q, want an https URL", k, u)
		}
	}
}

// parameters checks declarations and that declarations and uses match.
func (r *reviewer) parameters(where, section string, c *yaml.Node) {
	declared := map[string]bool{}
	params := MapValue(c, "parameters")
	if params != nil && params.Kind != yaml.MappingNode {
		r.add(where, "parameter-type", "parameters must be a mapping")
		params = nil
	}
	for i := 0; params != nil && i+1 < len(params.Content); i += 2 {
		name, p := params.Content[i].Value, params.Content[i+1]
		declared[name] = true
		r.parameter(where, section, name, p)
	}
	used := map[string]bool{}
	for i := 0; i+1 < len(c.Content); i += 2 {
		if c.Content[i].Value == "parameters" {
			continue
		}
		Walk(c.Content[i+1], func(n *yaml.Node) {
			if n.Kind != yaml.ScalarNode {
				return
			}
			for _, m := range ParamRefRe.FindAllStringSubmatch(n.Value, -1) {
				used[m[1]] = true
				if !declared[m[1]] {
					r.add(where, "undeclared-parameter", "line %d uses << parameters.%s >>, which is not declared", n.Line, m[1])
				}
			}
		})
	}
	for _, name := range slices.Sorted(maps.Keys(declared)) {
		if !used[name] {
			r.add(where, "unused-parameter", "parameter %s is declared but never used", name)
		}
	}
}

func (r *reviewer) parameter(where, section, name string, p *yaml.Node) {
	if !snakeCaseRe.MatchString(name) {
		r.add(where, "snake-case-parameter", "parameter %s is not snake_case", name)
	}
	if section == "jobs" && reservedJobKeys[name] {
		r.add(where, "reserved-parameter", "parameter %s clashes with the workflow job key of that name", name)
	}
	if strings.TrimSpace(ScalarValue(MapValue(p, "description"))) == "" {
		r.add(where, "description", "parameter %s has no description", name)
	}
	typ := ScalarValue(MapValue(p, "type"))
	if secretNameRe.MatchString(name) && typ != "env_var_name" {
		r.add(where, "secret-parameter", "parameter %s looks like a secret: make it an env_var_name parameter that names the variable holding it", name)
	}
	if !paramTypes[typ] {
		r.add(where, "parameter-type", "parameter %s has type %q, want one of string, boolean, integer, enum, executor, steps, env_var_name", name, typ)
		return
	}
	def := MapValue(p, "default")
	if def == nil {
		return // required
	}
	val := ScalarValue(def)
	if def.Kind == yaml.ScalarNode && envRefRe.MatchString(val) {
		r.add(where, "env-in-default", "parameter %s default %q reads an environment variable; CircleCI does not expand it there", name, val)
	}
	switch typ {
	case "boolean":
		if def.Tag != "!!bool" {
			r.add(where, "parameter-type", "boolean parameter %s has default %q", name, val)
		}
	case "integer":
		if _, err := strconv.Atoi(val); err != nil || def.Tag != "!!int" {
			r.add(where, "parameter-type", "integer parameter %s has default %q", name, val)
		}
	case "enum":
		ok := false
		for _, e := range seqValues(MapValue(p, "enum")) {
			ok = ok || e == val
		}
		if !ok {
			r.add(where, "parameter-type", "enum parameter %s has default %q, not one of its values", name, val)
		}
	case "env_var_name":
		if !IsEnvVarName(val) {
			r.add(where, "parameter-type", "env_var_name parameter %s has default %q, not a variable name", name, val)
		}
	case "executor":
		if _, ok := r.src.Components["executors"][val]; !ok {
			r.add(where, "parameter-type", "executor parameter %s defaults to %q, which is not an executor of this orb", name, val)
		}
	}
}

func (r *reviewer) job(where string, c *yaml.Node) {
	if ScalarValue(MapValue(MapValue(MapValue(c, "parameters"), "executor"), "type")) != "executor" {
		r.add(where, "executor", "has no executor parameter: users choose amd64 or arm (Graviton) with it")
	}
	exec := MapValue(c, "executor")
	if exec == nil && MapValue(c, "docker") == nil && MapValue(c, "machine") == nil && MapValue(c, "macos") == nil {
		r.add(where, "executor", "names no executor")
	}
	if name := ScalarValue(exec); exec != nil && !ParamRefRe.MatchString(name) {
		if _, ok := r.src.Components["executors"][name]; !ok {
			r.add(where, "executor", "executor %q is not an executor of this orb", name)
		}
	}
	r.steps(where, MapValue(c, "steps"))
}

// steps checks a steps list of a job or command.
func (r *reviewer) steps(where string, steps *yaml.Node) {
	if steps == nil || steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
		r.add(where, "steps", "has no steps")
		return
	}
	for i, s := range steps.Content {
		r.step(where, fmt.Sprintf("step %d", i+1), s)
	}
}

func (r *reviewer) step(where, at string, s *yaml.Node) {
	if s.Kind == yaml.ScalarNode {
		if _, ok := builtinSteps[s.Value]; ok {
			return
		}
		r.commandCall(where, at, s.Value, nil)
		return
	}
	if s.Kind != yaml.MappingNode || len(s.Content) != 2 {
		r.add(where, "steps", "%s (line %d) must be a map with one key", at, s.Line)
		return
	}
	key, body := s.Content[0].Value, s.Content[1]
	switch key {
	case "run":
		r.run(where, at, body)
	case "when", "unless":
		if MapValue(body, "condition") == nil {
			r.add(where, "steps", "%s: %s has no condition", at, key)
		}
		inner := MapValue(body, "steps")
		if inner == nil || inner.Kind != yaml.SequenceNode {
			r.add(where, "steps", "%s: %s has no steps", at, key)
			return
		}
		for j, s2 := range inner.Content {
			r.step(where, fmt.Sprintf("%s.%d", at, j+1), s2)
		}
	default:
		if required, ok := builtinSteps[key]; ok {
			for _, k := range required {
				if MapValue(body, k) == nil {
					r.add(where, "steps", "%s: %s needs %s", at, key, k)
				}
			}
			return
		}
		r.commandCall(where, at, key, body)
	}
}

func (r *reviewer) run(where, at string, body *yaml.Node) {
	if body.Kind != yaml.MappingNode {
		r.add(where, "run-step-name", "%s (line %d) is a bare run step: give it a name and a command", at, body.Line)
		return
	}
	if strings.TrimSpace(ScalarValue(MapValue(body, "name"))) == "" {
		r.add(where, "run-step-name", "%s (line %d) has no name", at, body.Line)
	}
	cmd := ScalarValue(MapValue(body, "command"))
	rel, isInclude := IncludePath(cmd)
	switch {
	case isInclude:
		text, err := r.src.ReadInclude(rel)
		if err != nil {
			r.add(where, "include", "%s: %v", at, err)
			return
		}
		if strings.Contains(text, "<<") {
			r.add(where, "include", "%s: %s contains \"<<\", which CircleCI reads as parameter syntax: avoid heredocs and here-strings in orb scripts", at, rel)
		}
	case strings.Contains(strings.TrimSpace(cmd), "\n"):
		r.add(where, "inline-shell", "%s (line %d): a multi-line command belongs in scripts/*.sh, included with <<include(scripts/x.sh)>>", at, body.Line)
	}
}

// commandCall checks a step that calls one of this orb's commands.
func (r *reviewer) commandCall(where, at, name string, args *yaml.Node) {
	cmd, ok := r.src.Components["commands"][name]
	if !ok {
		r.add(where, "unknown-command", "%s calls %q, which is neither a CircleCI step nor a command of this orb", at, name)
		return
	}
	r.arguments(where, at+" ("+name+")", MapValue(cmd, "parameters"), args, nil)
}

// arguments checks the arguments given to a command or job against its
// parameters: each must be declared, each required one given.
func (r *reviewer) arguments(where, what string, params, args *yaml.Node, ignore map[string]bool) {
	given := map[string]bool{}
	if args != nil && args.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(args.Content); i += 2 {
			k := args.Content[i].Value
			given[k] = true
			if ignore[k] {
				continue
			}
			if MapValue(params, k) == nil {
				r.add(where, "arguments", "%s: argument %s is not a parameter", what, k)
			}
		}
	}
	for i := 0; params != nil && i+1 < len(params.Content); i += 2 {
		k := params.Content[i].Value
		if MapValue(params.Content[i+1], "default") == nil && !given[k] {
			r.add(where, "arguments", "%s: required parameter %s is not given", what, k)
		}
	}
}

func (r *reviewer) example(where string, c *yaml.Node) {
	usage := MapValue(c, "usage")
	if usage == nil {
		r.add(where, "examples", "has no usage")
		return
	}
	if v := ScalarValue(MapValue(usage, "version")); v != "2.1" {
		r.add(where, "examples", "usage version is %q, want 2.1", v)
	}
	alias := ExampleAlias(usage)
	if alias == "" {
		r.add(where, "examples", "usage does not import %s@<version> in orbs", OrbRef)
		return
	}
	prefix := alias + "/"
	uses := 0
	Walk(usage, func(n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			return
		}
		// Orb commands called from the example's own jobs.
		if steps := MapValue(n, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
			for _, s := range steps.Content {
				name, args := s.Value, (*yaml.Node)(nil)
				if s.Kind == yaml.MappingNode && len(s.Content) == 2 {
					name, args = s.Content[0].Value, s.Content[1]
				}
				if cmd, ok := strings.CutPrefix(name, prefix); ok {
					uses++
					if def, ok := r.src.Components["commands"][cmd]; ok {
						r.arguments(where, name, MapValue(def, "parameters"), args, nil)
					} else {
						r.add(where, "examples", "calls %s, which is not a command of this orb", name)
					}
				}
			}
		}
	})
	workflows := MapValue(usage, "workflows")
	for i := 0; workflows != nil && i+1 < len(workflows.Content); i += 2 {
		jobs := MapValue(workflows.Content[i+1], "jobs")
		if jobs == nil {
			continue
		}
		for _, inv := range jobs.Content {
			name, args := inv.Value, (*yaml.Node)(nil)
			if inv.Kind == yaml.MappingNode && len(inv.Content) == 2 {
				name, args = inv.Content[0].Value, inv.Content[1]
			}
			job, ok := strings.CutPrefix(name, prefix)
			if !ok {
				continue
			}
			uses++
			def, ok := r.src.Components["jobs"][job]
			if !ok {
				r.add(where, "examples", "runs %s, which is not a job of this orb", name)
				continue
			}
			r.arguments(where, name, MapValue(def, "parameters"), args, reservedJobKeys)
		}
	}
	if uses == 0 {
		r.add(where, "examples", "uses none of the orb's jobs or commands")
	}
}

// ScalarValue returns the value of a YAML scalar node, or "" for any other node.
func ScalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func seqValues(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// IsEnvVarName reports whether s is a valid env_var_name parameter value.
func IsEnvVarName(s string) bool { return envNameRe.MatchString(s) }

// ExampleAlias returns the name an example's usage imports this orb under
// (its orbs key for OrbRef@<version>), or "" when it does not import it.
func ExampleAlias(usage *yaml.Node) string {
	alias := ""
	orbs := MapValue(usage, "orbs")
	for i := 0; orbs != nil && i+1 < len(orbs.Content); i += 2 {
		if strings.HasPrefix(ScalarValue(orbs.Content[i+1]), OrbRef+"@") {
			alias = orbs.Content[i].Value
		}
	}
	return alias
}
