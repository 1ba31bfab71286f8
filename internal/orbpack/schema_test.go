package orbpack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// schemaPath is CircleCI's config schema (from its YAML language server),
// which the workplace keeps beside the repository: ../shared from the repo root.
func schemaPath() string {
	if p := os.Getenv("ORBPACK_CONFIG_SCHEMA"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "..", "shared", "circleci", "config-schema.json")
}

// loadSchema compiles the schema, or skips the test when it is not there: the
// schema is a check CI runs when it can, never something go test needs.
func loadSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	p := schemaPath()
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("ORBPACK_CONFIG_SCHEMA") != "" {
			t.Fatalf("ORBPACK_CONFIG_SCHEMA: %v", err)
		}
		t.Skipf("CircleCI config schema not found at %s (set ORBPACK_CONFIG_SCHEMA): %v", p, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	sch, err := jsonschema.NewCompiler().Compile(abs)
	if err != nil {
		t.Fatalf("compile %s: %v", p, err)
	}
	return sch
}

// validateYAML checks YAML text against the schema. The YAML is turned into
// JSON values first, as CircleCI's language server sees it.
func validateYAML(sch *jsonschema.Schema, b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("to JSON: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return fmt.Errorf("to JSON: %w", err)
	}
	return sch.Validate(inst)
}

func TestPackedOrbMatchesCircleCISchema(t *testing.T) {
	sch := loadSchema(t)
	src, err := ReadSource(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := src.Packed(Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The schema's resource_class is an enum that a parameter reference cannot
	// match, though CircleCI substitutes it before it checks. Validate the
	// executors as CircleCI sees them: with their parameters' defaults.
	substituteExecutorDefaults(doc)
	substituteTimeoutDefaults(doc)
	b, err := Encode(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateYAML(sch, b); err != nil {
		t.Errorf("packed orb: %v", err)
	}
}

func TestExamplesMatchCircleCISchema(t *testing.T) {
	sch := loadSchema(t)
	src, err := ReadSource(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range slices.Sorted(maps.Keys(src.Components["examples"])) {
		t.Run(name, func(t *testing.T) {
			usage := MapValue(src.Components["examples"][name], "usage")
			b, err := Encode(usage)
			if err != nil {
				t.Fatal(err)
			}
			if err := validateYAML(sch, b); err != nil {
				t.Errorf("example %s usage: %v", name, err)
			}
		})
	}
}

func TestProjectConfigsMatchCircleCISchema(t *testing.T) {
	sch := loadSchema(t)
	for _, name := range []string{"config.yml", "test-deploy.yml"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", ".circleci", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := validateYAML(sch, b); err != nil {
				t.Errorf(".circleci/%s: %v", name, err)
			}
		})
	}
}

// substituteExecutorDefaults replaces each executor's << parameters.x >> with
// the parameter's default.
func substituteExecutorDefaults(doc *yaml.Node) {
	execs := MapValue(doc, "executors")
	for i := 1; execs != nil && i < len(execs.Content); i += 2 {
		e := execs.Content[i]
		params := MapValue(e, "parameters")
		Walk(e, func(n *yaml.Node) {
			if n.Kind != yaml.ScalarNode {
				return
			}
			n.Value = ParamRefRe.ReplaceAllStringFunc(n.Value, func(ref string) string {
				name := ParamRefRe.FindStringSubmatch(ref)[1]
				return ScalarValue(MapValue(MapValue(params, name), "default"))
			})
		})
	}
}

// substituteTimeoutDefaults does the same for no_output_timeout in jobs and
// commands: the schema gives it a pattern (20m, 1.5h) that a parameter
// reference cannot match, and CircleCI checks it after substitution.
func substituteTimeoutDefaults(doc *yaml.Node) {
	for _, section := range []string{"jobs", "commands"} {
		comps := MapValue(doc, section)
		for i := 1; comps != nil && i < len(comps.Content); i += 2 {
			params := MapValue(comps.Content[i], "parameters")
			Walk(comps.Content[i], func(n *yaml.Node) {
				if n.Kind != yaml.MappingNode {
					return
				}
				v := MapValue(n, "no_output_timeout")
				if v == nil || v.Kind != yaml.ScalarNode {
					return
				}
				if m := ParamRefRe.FindStringSubmatch(v.Value); m != nil {
					v.Value = ScalarValue(MapValue(MapValue(params, m[1]), "default"))
				}
			})
		}
	}
}

// TestSchemaCatchesABrokenOrb proves the validation above has teeth.
func TestSchemaCatchesABrokenOrb(t *testing.T) {
	sch := loadSchema(t)
	for name, broken := range map[string]string{
		"store_test_results without path": "version: 2.1\njobs:\n  j:\n    docker: [{image: cimg/base:current}]\n    steps:\n      - store_test_results: {}\n",
		"resource_class not offered":      "version: 2.1\nexecutors:\n  e:\n    docker: [{image: cimg/base:current}]\n    resource_class: huge\n",
		"step with two keys":              "version: 2.1\ncommands:\n  c:\n    steps:\n      - {run: {name: x, command: y}, checkout: {}}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if err := validateYAML(sch, []byte(broken)); err == nil {
				t.Errorf("schema accepted %q", broken)
			}
		})
	}
}
