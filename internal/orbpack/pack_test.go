package orbpack

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// srcDir is the orb source of this repository, seen from this package.
const srcDir = "../../src"

func packSource(t *testing.T, opts Options) []byte {
	t.Helper()
	b, err := Pack(srcDir, opts)
	if err != nil {
		t.Fatalf("pack %s: %v", srcDir, err)
	}
	return b
}

// orbDoc is the packed orb decoded into plain Go values.
type orbDoc struct {
	Version     any                       `yaml:"version"`
	Description string                    `yaml:"description"`
	Display     map[string]string         `yaml:"display"`
	Commands    map[string]map[string]any `yaml:"commands"`
	Executors   map[string]map[string]any `yaml:"executors"`
	Jobs        map[string]map[string]any `yaml:"jobs"`
	Examples    map[string]map[string]any `yaml:"examples"`
}

func decodeOrb(t *testing.T, b []byte) orbDoc {
	t.Helper()
	var d orbDoc
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatalf("packed orb does not parse: %v", err)
	}
	return d
}

func TestPackedOrbHasEveryComponent(t *testing.T) {
	d := decodeOrb(t, packSource(t, Options{}))
	if d.Version != 2.1 {
		t.Errorf("version = %v, want 2.1", d.Version)
	}
	want := map[string][]string{
		"jobs":      {"deploy", "destroy", "provision", "smoke-test"},
		"commands":  {"deploy", "destroy", "install", "logs", "provision", "rollback", "run-task", "smoke-test"},
		"executors": {"arm", "default"},
		"examples":  {"canary_release", "config_file", "deploy_existing_cluster", "ephemeral_branch_environment", "full_pipeline", "migrate_and_roll_back", "multi_environment_promotion", "oidc_auth"},
	}
	got := map[string][]string{
		"jobs": slices.Sorted(maps.Keys(d.Jobs)), "commands": slices.Sorted(maps.Keys(d.Commands)),
		"executors": slices.Sorted(maps.Keys(d.Executors)), "examples": slices.Sorted(maps.Keys(d.Examples)),
	}
	for section, names := range want {
		if strings.Join(got[section], ",") != strings.Join(names, ",") {
			t.Errorf("%s = %v, want %v", section, got[section], names)
		}
	}
	for name := range d.Examples {
		if strings.Contains(name, "example") {
			t.Errorf("example %s: names do not say example", name)
		}
	}
}

func TestPackIsDeterministicAndRoundTrips(t *testing.T) {
	first := packSource(t, Options{})
	for i := 0; i < 3; i++ {
		if again := packSource(t, Options{}); !bytes.Equal(first, again) {
			t.Fatalf("pack %d differs from the first", i+2)
		}
	}
	// Encoding the parsed packed orb again changes nothing: the output is in
	// the encoder's canonical form, so a reviewer's diff shows only real change.
	var n yaml.Node
	if err := yaml.Unmarshal(first, &n); err != nil {
		t.Fatal(err)
	}
	again, err := Encode(n.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := yaml.Unmarshal(first, &a); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(again, &b); err != nil {
		t.Fatal(err)
	}
	ea, _ := yaml.Marshal(a)
	eb, _ := yaml.Marshal(b)
	if !bytes.Equal(ea, eb) {
		t.Errorf("packed orb does not survive a parse and encode")
	}
}

func TestPackResolvesIncludes(t *testing.T) {
	b := packSource(t, Options{})
	if bytes.Contains(b, []byte("include(")) {
		t.Errorf("packed orb still has an include directive")
	}
	script, err := os.ReadFile(filepath.Join(srcDir, "scripts", "install.sh"))
	if err != nil {
		t.Fatal(err)
	}
	run := installRun(t, decodeOrb(t, b))
	if run["command"] != string(script) {
		t.Errorf("install's command is not scripts/install.sh byte for byte")
	}
}

// installRun is the install command's run step that installs the binary.
func installRun(t *testing.T, d orbDoc) map[string]any {
	t.Helper()
	for _, s := range d.Commands["install"]["steps"].([]any) {
		if run, ok := s.(map[string]any)["run"].(map[string]any); ok && run["name"] == "Install graviton-cd" {
			return run
		}
	}
	t.Fatal("the install command has no step named Install graviton-cd")
	return nil
}

func TestPackPinsReleaseAndEmbedsChecksums(t *testing.T) {
	sums := strings.Repeat("a", 64) + "  graviton-cd_linux_amd64\n" + strings.Repeat("b", 64) + "  graviton-cd_linux_arm64\n"
	d := decodeOrb(t, packSource(t, Options{ReleaseVersion: "v2.3.4", Checksums: []byte(sums)}))
	for name, j := range d.Jobs {
		v := j["parameters"].(map[string]any)["version"].(map[string]any)["default"]
		if v != "2.3.4" {
			t.Errorf("job %s: version default = %v, want 2.3.4", name, v)
		}
	}
	run := installRun(t, d)
	env := run["environment"].(map[string]any)
	if env["ORB_EMBEDDED_VERSION"] != "2.3.4" || env["ORB_EMBEDDED_CHECKSUMS"] != sums {
		t.Errorf("embedded env = %q / %q", env["ORB_EMBEDDED_VERSION"], env["ORB_EMBEDDED_CHECKSUMS"])
	}
	if v := d.Commands["install"]["parameters"].(map[string]any)["version"].(map[string]any)["default"]; v != "2.3.4" {
		t.Errorf("install version default = %v", v)
	}
}

func TestPackRefusesBadReleaseOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"checksums without version": {Checksums: []byte(strings.Repeat("a", 64) + "  x\n")},
		"not sha256sum lines":       {ReleaseVersion: "1.0.0", Checksums: []byte("deadbeef graviton-cd_linux_amd64\n")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Pack(srcDir, opts); err == nil {
				t.Fatal("pack succeeded, want an error")
			}
		})
	}
}

// TestVersionDefaultsAgree keeps the pinned release in one value across the
// install command and every job.
func TestVersionDefaultsAgree(t *testing.T) {
	d := decodeOrb(t, packSource(t, Options{}))
	want := d.Commands["install"]["parameters"].(map[string]any)["version"].(map[string]any)["default"]
	for name, j := range d.Jobs {
		got := j["parameters"].(map[string]any)["version"].(map[string]any)["default"]
		if got != want {
			t.Errorf("job %s pins version %v, install pins %v", name, got, want)
		}
	}
}

func TestPackRefusesBadSource(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(dir string)
		wantErr string
	}{
		{"include outside src", func(dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "<<include(scripts/install.sh)>>", "<<include(../go.mod)>>")
		}, "must stay inside"},
		{"include missing", func(dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "<<include(scripts/install.sh)>>", "<<include(scripts/nope.sh)>>")
		}, "nope.sh"},
		{"include inside a longer value", func(dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "<<include(scripts/install.sh)>>", "echo <<include(scripts/install.sh)>>")
		}, "whole value"},
		{"inline jobs in @orb.yml", func(dir string) {
			appendTo(t, filepath.Join(dir, "@orb.yml"), "jobs:\n  x:\n    steps: [checkout]\n")
		}, "inline"},
		{"yaml anchor", func(dir string) {
			appendTo(t, filepath.Join(dir, "executors", "arm.yml"), "x-anchor: &a 1\n")
		}, "anchors"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySource(t)
			tc.mutate(dir)
			_, err := Pack(dir, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("pack error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// copySource copies src/ into a temporary directory for a test to break.
func copySource(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "src")
	err := filepath.WalkDir(srcDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(srcDir, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", srcDir, err)
	}
	return dst
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}
