package orbpack

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// checksumsRefRe finds every path that names a checksums.txt in a config.
var checksumsRefRe = regexp.MustCompile(`[\w./-]*checksums\.txt`)

// TestReleasePathsAgree reads goreleaser.yaml and the places that consume its
// output (both CircleCI configs, the Makefile) and checks that each names the
// checksums file where goreleaser writes it: a job that reads dist/checksums.txt
// while goreleaser writes dist/release/checksums.txt fails on every commit.
func TestReleasePathsAgree(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var gr struct {
		Dist     string `yaml:"dist"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
		} `yaml:"checksum"`
	}
	if err := yaml.Unmarshal(b, &gr); err != nil {
		t.Fatalf("goreleaser.yaml: %v", err)
	}
	if gr.Dist == "" || gr.Checksum.NameTemplate != "checksums.txt" {
		t.Fatalf("goreleaser.yaml: dist %q, checksum name %q; want a dist and checksums.txt", gr.Dist, gr.Checksum.NameTemplate)
	}
	want := path.Join(gr.Dist, gr.Checksum.NameTemplate)

	for _, f := range []string{".circleci/config.yml", ".circleci/test-deploy.yml", "Makefile"} {
		t.Run(f, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(repoRoot, f))
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ReplaceAll(string(b), "$(RELEASE_DIR)", releaseDirInMakefile(t))
			refs := checksumsRefRe.FindAllString(text, -1)
			found := false
			for _, r := range refs {
				if !strings.Contains(r, "/") {
					continue // a file name in prose or a grep pattern
				}
				found = true
				if r != want {
					t.Errorf("%s names %s; goreleaser writes %s", f, r, want)
				}
			}
			if f != ".circleci/config.yml" && !found {
				t.Errorf("%s names no checksums.txt path; want %s", f, want)
			}
		})
	}
}

// releaseDirInMakefile is the Makefile's RELEASE_DIR.
func releaseDirInMakefile(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RELEASE_DIR\s*=\s*(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the Makefile sets no RELEASE_DIR")
	}
	return string(m[1])
}

// TestReleaseJobsUseTheMakefile: the snapshot job runs `make snapshot` and
// stores dist/release, and the release job runs `make release`, so what CI
// builds on every commit is what a tag publishes.
func TestReleaseJobsUseTheMakefile(t *testing.T) {
	for f, want := range map[string][]string{
		".circleci/config.yml":      {"command: make snapshot", "path: dist/release\n"},
		".circleci/test-deploy.yml": {"command: make release", "- dist/release/checksums.txt"},
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", f, w)
			}
		}
	}
}
