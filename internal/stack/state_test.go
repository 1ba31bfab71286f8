package stack

import (
	"maps"
	"slices"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestManagedAddresses(t *testing.T) {
	raw := []byte(`{"version":4,"resources":[
	  {"mode":"data","type":"aws_ami","name":"x","instances":[{}]},
	  {"mode":"managed","type":"aws_vpc","name":"this","instances":[{"attributes":{}}]},
	  {"mode":"managed","type":"aws_subnet","name":"public","instances":[{"index_key":0},{"index_key":1}]},
	  {"mode":"managed","type":"aws_iam_role","name":"r","instances":[{"index_key":"task"}]},
	  {"module":"module.m","mode":"managed","type":"aws_lb","name":"this","instances":[{}]}
	]}`)
	got, err := ManagedAddresses(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aws_vpc.this", "aws_subnet.public[0]", "aws_subnet.public[1]", `aws_iam_role.r["task"]`, "module.m.aws_lb.this"}
	if !slices.Equal(got, want) {
		t.Errorf("ManagedAddresses = %q, want %q", got, want)
	}
	for _, empty := range []string{"", "  \n"} {
		if got, err := ManagedAddresses([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("ManagedAddresses(%q) = %q, %v; want none", empty, got, err)
		}
	}
	if _, err := ManagedAddresses([]byte(`{"version":3}`)); err == nil {
		t.Error("a version 3 state was accepted")
	}
}

func TestManagedIDs(t *testing.T) {
	raw := []byte(`{"version":4,"resources":[
	  {"mode":"data","type":"aws_availability_zones","name":"available","instances":[{"attributes":{"id":"us-east-1"}}]},
	  {"mode":"managed","type":"aws_vpc","name":"this","instances":[{"attributes":{"id":"vpc-1","cidr_block":"10.0.0.0/16"}}]},
	  {"mode":"managed","type":"aws_subnet","name":"public","instances":[{"index_key":0,"attributes":{"id":"subnet-0"}},{"index_key":1,"attributes":{"id":"subnet-1"}}]},
	  {"mode":"managed","type":"aws_lb_listener","name":"http","instances":[{"attributes":{}}]}
	]}`)
	got, err := ManagedIDs(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aws_vpc.this": "vpc-1", "aws_subnet.public[0]": "subnet-0", "aws_subnet.public[1]": "subnet-1", "aws_lb_listener.http": ""}
	if !maps.Equal(got, want) {
		t.Errorf("ManagedIDs = %q, want %q", got, want)
	}
	if got, err := ManagedIDs(nil); err != nil || len(got) != 0 {
		t.Errorf("ManagedIDs(empty) = %q, %v; want none", got, err)
	}
}

func TestRenderImports(t *testing.T) {
	b, err := RenderImports([]Import{
		{Address: "aws_launch_template.this", ID: "lt-0123"},
		{Address: "aws_subnet.public[1]", ID: `"}${file("/etc/passwd")}`},
	})
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclparse.NewParser().ParseHCL(b, importsFile)
	if diags.HasErrors() {
		t.Fatalf("imports do not parse: %s\n%s", diags, b)
	}
	content, diags := f.Body.Content(importSchema)
	if diags.HasErrors() || len(content.Blocks) != 2 {
		t.Fatalf("want 2 import blocks: %s\n%s", diags, b)
	}
	attrs, _ := content.Blocks[1].Body.JustAttributes()
	v, diags := attrs["id"].Expr.Value(nil)
	if diags.HasErrors() || v.AsString() != `"}${file("/etc/passwd")}` {
		t.Errorf("id is not the literal string: %#v %s", v, diags)
	}
	if _, err := RenderImports([]Import{{Address: "not an address", ID: "x"}}); err == nil {
		t.Error("a bad address was rendered")
	}
}

var importSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "import"}}}

func TestStateOutputs(t *testing.T) {
	raw := []byte(`{"version":4,"outputs":{
	  "stack_name":{"value":"demo","type":"string"},
	  "url":{"value":"http://demo-alb.example","type":"string"},
	  "ephemeral":{"value":"true","type":"string"},
	  "ports":{"value":[80],"type":["list","number"]}
	},"resources":[]}`)
	m, err := StateOutputs(raw)
	if err != nil {
		t.Fatal(err)
	}
	o := OutputsFrom(m)
	if o.StackName != "demo" || o.URL != "http://demo-alb.example" || m[hclgen.OutputEphemeral] != "true" {
		t.Errorf("outputs %+v from %v", o, m)
	}
	if _, ok := m["ports"]; ok {
		t.Error("a non-string output was kept")
	}
	if m, err := StateOutputs(nil); err != nil || len(m) != 0 {
		t.Errorf("no state: %v, %v", m, err)
	}
}
