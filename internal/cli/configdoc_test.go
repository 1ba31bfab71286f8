package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/configfile"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite the generated attribute table in docs/config-file.md")

const configDoc = "../../docs/config-file.md"

// TestConfigDocExampleParses: the full example in docs/config-file.md reads
// with the CLI's schema, and provision renders a stack from it.
func TestConfigDocExampleParses(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	example := hclBlockAfter(t, configDoc, "<!-- config-file example")
	f, err := configfile.Parse("example.hcl", example, newConfigSchema().schema)
	if err != nil {
		t.Fatalf("the doc's example does not read: %v", err)
	}
	for _, block := range []string{"", "deploy", "smoke_test", "status", "destroy"} {
		if len(f.Settings(block)) == 0 {
			t.Errorf("the example says nothing in section %q", block)
		}
	}
	wd := writeConfig(t, string(example))
	code, _, stderr := run(t, "provision", "--render-only", "--state-backend", "local", "--dir", "stack")
	if code != ExitOK {
		t.Fatalf("provision from the doc's example: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(wd, "stack", hclgen.ModuleFile)); err != nil {
		t.Error(err)
	}
}

// TestReadmeConfigExampleRenders: the graviton-cd.hcl of the README's
// section on the file renders a stack as it stands.
func TestReadmeConfigExampleRenders(t *testing.T) {
	isolateAWS(t)
	t.Setenv("PATH", "")
	example := hclBlockAfter(t, "../../README.md", "## A real app in one file")
	wd := writeConfig(t, string(example))
	code, _, stderr := run(t, "provision", "--render-only", "--state-backend", "local", "--dir", "stack")
	if code != ExitOK {
		t.Fatalf("provision from the README's example: exit %d\n%s", code, stderr)
	}
	module, err := os.ReadFile(filepath.Join(wd, "stack", hclgen.ModuleFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aws_appautoscaling_policy", "aws_lb_listener\" \"https\"", "DB_PASSWORD"} {
		if !bytes.Contains(module, []byte(want)) {
			t.Errorf("the module rendered from the README's example lacks %s", want)
		}
	}
}

// hclBlockAfter is the first ```hcl block after marker in the file at path.
func hclBlockAfter(t *testing.T, path, marker string) []byte {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(doc, []byte(marker))
	if !ok {
		t.Fatalf("%s has no %q", path, marker)
	}
	_, rest, _ = bytes.Cut(rest, []byte("```hcl\n"))
	block, _, ok := bytes.Cut(rest, []byte("```"))
	if !ok {
		t.Fatalf("%s has no hcl block after %q", path, marker)
	}
	return block
}

const (
	docBegin = "<!-- BEGIN config-file attributes (generated) -->\n"
	docEnd   = "<!-- END config-file attributes (generated) -->"
)

// TestConfigDocIsCurrent: the doc's attribute table is the one the flags
// make now. Run with -update-docs to rewrite it.
func TestConfigDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile(configDoc)
	if err != nil {
		t.Fatal(err)
	}
	head, rest, ok := strings.Cut(string(doc), docBegin)
	_, tail, ok2 := strings.Cut(rest, docEnd)
	if !ok || !ok2 {
		t.Fatal("no generated-table markers in the doc")
	}
	table := configDocTable(newConfigSchema())
	if *updateDocs {
		if err := os.WriteFile(configDoc, []byte(head+docBegin+table+docEnd+tail), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got, _, _ := strings.Cut(rest, docEnd); got != table {
		t.Errorf("the attribute table in docs/config-file.md is not the flags': run go test ./internal/cli -run TestConfigDocIsCurrent -update-docs")
	}
}

// docEscaper keeps a flag's help text one cell of a Markdown table.
var docEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

// configDocTable lists every attribute of every section with its type,
// default and the flag's help.
func configDocTable(cs configSchema) string {
	var b strings.Builder
	for _, sec := range cs.schema {
		command := topLevelCommand
		title := "Top level (`graviton-cd provision`, and the global flags)"
		if sec.Block != "" {
			command = strings.ReplaceAll(sec.Block, "_", "-")
			title = fmt.Sprintf("`%s { }` (`graviton-cd %s`)", sec.Block, command)
		}
		fmt.Fprintf(&b, "\n### %s\n\n| attribute | type | default | |\n|---|---|---|---|\n", title)
		for _, a := range sec.Attrs {
			def := cs.defaults[command][a.Flag]
			if def != "" {
				def = "`" + def + "`"
			}
			kind := map[configfile.Kind]string{configfile.String: "string", configfile.Int: "number", configfile.Bool: "bool",
				configfile.Duration: "duration", configfile.List: "list or map"}[a.Kind]
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", a.Name, kind, def, docEscaper.Replace(a.Usage))
		}
	}
	b.WriteString("\n")
	return b.String()
}
