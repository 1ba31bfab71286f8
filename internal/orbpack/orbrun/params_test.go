package orbrun

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/graviton-cd/graviton-cd/internal/orbpack"
)

func parseNode(t *testing.T, s string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Content[0]
}

func TestTruthy(t *testing.T) {
	for _, tc := range []struct {
		cond string
		want bool
	}{
		{`true`, true},
		{`false`, false},
		{`""`, false},
		{`graviton-cd-stack`, true},
		{`0`, false},
		{`3`, true},
		{`~`, false},
		{`{not: true}`, false},
		{`{and: [true, x]}`, true},
		{`{and: [true, ""]}`, false},
		{`{or: [false, ""]}`, false},
		{`{or: [false, y]}`, true},
		{`{equal: [main, main]}`, true},
		{`{equal: [main, dev]}`, false},
		{`{matches: {pattern: "^v[0-9]+", value: v12}}`, true},
		{`{matches: {pattern: "v[0-9]+", value: xv12}}`, false},
	} {
		t.Run(tc.cond, func(t *testing.T) {
			got, err := truthy(parseNode(t, tc.cond))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("truthy(%s) = %v, want %v", tc.cond, got, tc.want)
			}
		})
	}
	if _, err := truthy(parseNode(t, `{xor: [a, b]}`)); err == nil {
		t.Error("an unknown logic statement was accepted")
	}
}

func TestSubstituteKeepsTypes(t *testing.T) {
	n := parseNode(t, `
flag: << parameters.flag >>
count: << parameters.count >>
text: "<< parameters.name >>-<< parameters.count >>"
`)
	got, err := substitute("test", n, map[string]any{"flag": true, "count": 3, "name": "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if v := orbpack.MapValue(got, "flag"); v.ShortTag() != "!!bool" || v.Value != "true" {
		t.Errorf("flag = %s %q, want a boolean true", v.ShortTag(), v.Value)
	}
	if v := orbpack.MapValue(got, "count"); v.ShortTag() != "!!int" || v.Value != "3" {
		t.Errorf("count = %s %q, want an integer 3", v.ShortTag(), v.Value)
	}
	if v := orbpack.MapValue(got, "text"); v.Value != "shop-3" {
		t.Errorf("text = %q, want shop-3", v.Value)
	}
	if orbpack.MapValue(n, "flag").Value != "<< parameters.flag >>" {
		t.Error("substitute changed its input")
	}
	if _, err := substitute("test", n, map[string]any{"flag": true}); err == nil {
		t.Error("an undeclared parameter was substituted")
	}
	if _, err := substitute("test", parseNode(t, `c: <<include(scripts/x.sh)>>`), nil); err == nil {
		t.Error("an unresolved include was accepted")
	}
}

func TestPipelineValues(t *testing.T) {
	n := parseNode(t, `image: "app:<< pipeline.git.revision >>"`)
	if err := substitutePipeline(n, map[string]string{"pipeline.git.revision": "abc"}); err != nil {
		t.Fatal(err)
	}
	if v := orbpack.MapValue(n, "image").Value; v != "app:abc" {
		t.Errorf("image = %q", v)
	}
	if err := substitutePipeline(parseNode(t, `x: << pipeline.number >>`), nil); err == nil {
		t.Error("a missing pipeline value was accepted")
	}
}
