package configfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var testSchema = Schema{
	{Attrs: []Attr{
		{Name: "name", Flag: "name", Kind: String},
		{Name: "cpu", Flag: "cpu", Kind: Int},
		{Name: "private_subnets", Flag: "private-subnets", Kind: Bool},
		{Name: "timeout", Flag: "timeout", Kind: Duration},
		{Name: "env", Flag: "env", Kind: List},
		{Name: "instance_type", Flag: "instance-type", Kind: String},
	}},
	{Block: "deploy", Attrs: []Attr{
		{Name: "timeout", Flag: "timeout", Kind: Duration},
		{Name: "rollback_on_failure", Flag: "rollback-on-failure", Kind: Bool},
	}},
	{Block: "smoke_test", Attrs: []Attr{
		{Name: "path", Flag: "path", Kind: String},
		{Name: "expect_header", Flag: "expect-header", Kind: List},
	}},
}

func values(ss []Setting) map[string][]string {
	m := map[string][]string{}
	for _, s := range ss {
		m[s.Attr.Flag] = s.Values
	}
	return m
}

func TestParseTurnsEachKindIntoFlagText(t *testing.T) {
	src := `
name            = "shop"
cpu             = 512
private_subnets = true
timeout         = "45m"
env = {
  LOG_LEVEL = "debug"
  A_FIRST   = 1
}
instance_type = null

deploy {
  rollback_on_failure = true
  timeout             = "20m"
}

smoke_test {
  expect_header = ["Content-Type:text/html", "X-App:"]
}
`
	f, err := Parse("graviton-cd.hcl", []byte(src), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	top := values(f.Settings(""))
	want := map[string][]string{
		"name": {"shop"}, "cpu": {"512"}, "private-subnets": {"true"}, "timeout": {"45m"},
		"env": {"A_FIRST=1", "LOG_LEVEL=debug"}, // a map: KEY=VALUE items by key
	}
	if len(top) != len(want) {
		t.Errorf("top level = %v, want %v (a null is no setting)", top, want)
	}
	for k, v := range want {
		if !slices.Equal(top[k], v) {
			t.Errorf("%s = %q, want %q", k, top[k], v)
		}
	}
	if d := values(f.Settings("deploy")); !slices.Equal(d["timeout"], []string{"20m"}) || !slices.Equal(d["rollback-on-failure"], []string{"true"}) {
		t.Errorf("deploy = %v", d)
	}
	if s := values(f.Settings("smoke_test")); !slices.Equal(s["expect-header"], []string{"Content-Type:text/html", "X-App:"}) {
		t.Errorf("smoke_test = %v", s)
	}
	first := f.Settings("")[0]
	if first.Attr.Name != "name" || first.Pos() != "graviton-cd.hcl:2:1" {
		t.Errorf("first setting %s at %s, want name at graviton-cd.hcl:2:1", first.Attr.Name, first.Pos())
	}
}

func TestListTakesAListOrOneString(t *testing.T) {
	f, err := Parse("c.hcl", []byte(`env = ["A=1", "B=x=y"]`), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Settings("")[0].Values; !slices.Equal(got, []string{"A=1", "B=x=y"}) {
		t.Errorf("list = %q", got)
	}
	f, err = Parse("c.hcl", []byte(`env = "A=1"`), testSchema)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Settings("")[0].Values; !slices.Equal(got, []string{"A=1"}) {
		t.Errorf("one string = %q", got)
	}
}

// TestParseErrors: each bad file is refused with the HCL diagnostic at its
// line and column, and a misspelled name gets a suggestion.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string
	}{
		{"misspelled", "name = \"a\"\nnmae = \"b\"\n", []string{"c.hcl:2:1", "Unsupported argument", `Did you mean "name"?`}},
		{"unlike anything", "zzz = 1\n", []string{"c.hcl:1:1", "takes no zzz at the top level"}},
		{"command flag at top", "rollback_on_failure = true\n", []string{"c.hcl:1:1", "put it in a deploy { } block"}},
		{"stack flag in a block", "deploy {\n  cpu = 1\n}\n", []string{"c.hcl:2:3", "put it at the top level"}},
		{"string for a number", "cpu = \"lots\"\n", []string{"c.hcl:1:7", "cpu must be a whole number"}},
		{"fraction for a number", "cpu = 1.5\n", []string{"c.hcl:1:7", "1.5 is not a whole number"}},
		{"list for a string", "name = [\"a\"]\n", []string{"c.hcl:1:8", "name must be a string", "got tuple"}},
		{"word for a bool", "private_subnets = \"yes\"\n", []string{"c.hcl:1:19", "true or false"}},
		{"bad duration", "timeout = \"ten minutes\"\n", []string{"c.hcl:1:11", "is not a duration"}},
		{"nested list", "env = [[\"a\"]]\n", []string{"c.hcl:1:7", "an item of the list"}},
		{"variable", "name = var.x\n", []string{"c.hcl:1:8", "Variables not allowed"}},
		{"syntax", "name = \"a\n", []string{"c.hcl:1"}},
		{"unknown block", "deplyo {\n}\n", []string{"c.hcl:1:1", "Unsupported block type", `Did you mean "deploy"?`}},
		{"labelled block", "deploy \"x\" {\n}\n", []string{"c.hcl:1:8", "takes no label"}},
		{"duplicate block", "deploy {\n}\ndeploy {\n}\n", []string{"c.hcl:3:1", "first is at line 1"}},
		{"block in block", "deploy {\n  x {\n  }\n}\n", []string{"c.hcl:2:3", "attributes only"}},
		{"duplicate attribute", "name = \"a\"\nname = \"b\"\n", []string{"c.hcl:2:1", "Attribute redefined"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.hcl", []byte(tc.src), testSchema)
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.hcl"), testSchema)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	p := filepath.Join(t.TempDir(), DefaultName)
	if err := os.WriteFile(p, []byte(`name = "x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p, testSchema)
	if err != nil || f.Settings("")[0].Values[0] != "x" {
		t.Fatalf("Load = %v, %v", f, err)
	}
}
