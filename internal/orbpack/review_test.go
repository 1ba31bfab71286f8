package orbpack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReviewOfThisOrbIsClean(t *testing.T) {
	findings, err := ReviewDir(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("%s", f)
	}
}

// TestReviewCatchesEachRule breaks a copy of the source once per rule and
// expects the review to name that rule for that component.
func TestReviewCatchesEachRule(t *testing.T) {
	cases := []struct {
		name      string
		mutate    func(t *testing.T, dir string)
		wantWhere string
		wantRule  string
	}{
		{"job without description", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "destroy.yml"), "description: >\n  Destroy the stack", "x-note: >\n  Destroy the stack")
		}, "jobs/destroy", "description"},
		{"executor without description", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "executors", "arm.yml"), "description: >\n  The same", "x-note: >\n  The same")
		}, "executors/arm", "description"},
		{"example without description", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "examples", "oidc_auth.yml"), "description: >", "x-note: >")
		}, "examples/oidc_auth", "description"},
		{"parameter without description", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "    description: graviton-cd release to install", "    x-note: graviton-cd release to install")
		}, "commands/install", "description"},
		{"run step without name", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "      name: Install graviton-cd\n", "")
		}, "commands/install", "run-step-name"},
		{"bare run step", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "destroy.yml"), "steps:\n", "steps:\n  - run: echo hi\n")
		}, "commands/destroy", "run-step-name"},
		{"parameter not snake_case", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "  base_url:\n", "  baseUrl:\n")
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "<< parameters.base_url >>", "<< parameters.baseUrl >>")
		}, "commands/install", "snake-case-parameter"},
		{"environment variable in a default", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "deploy.yml"), "    default: \"15m\"\n", "    default: ${DEPLOY_TIMEOUT}\n")
		}, "commands/deploy", "env-in-default"},
		{"undeclared parameter", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "destroy.yml"), "<< parameters.log_level >>", "<< parameters.log_levle >>")
		}, "commands/destroy", "undeclared-parameter"},
		{"unused parameter", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "destroy.yml"), "parameters:\n", "parameters:\n  spare:\n    type: string\n    default: \"\"\n    description: Never used.\n")
		}, "commands/destroy", "unused-parameter"},
		{"job parameter named like a workflow key", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "provision.yml"), "  stack_name:\n", "  name:\n")
			replaceIn(t, filepath.Join(dir, "jobs", "provision.yml"), "<< parameters.stack_name >>", "<< parameters.name >>")
		}, "jobs/provision", "reserved-parameter"},
		{"long inline shell", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "install.yml"), "command: <<include(scripts/install.sh)>>", "command: |\n        echo one\n        echo two")
		}, "commands/install", "inline-shell"},
		{"heredoc in a script", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, "scripts", "collect-plan.sh"), "cat <<EOF\nx\nEOF\n")
		}, "jobs/provision", "include"}, // reported where the script is included
		{"boolean with a string default", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "deploy.yml"), "    type: boolean\n    default: false\n", "    type: boolean\n    default: \"no\"\n")
		}, "commands/deploy", "parameter-type"},
		{"enum default outside its values", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "destroy.yml"), "    default: info\n", "    default: trace\n")
		}, "commands/destroy", "parameter-type"},
		{"executor default that does not exist", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "deploy.yml"), "    default: default\n", "    default: x86\n")
		}, "jobs/deploy", "parameter-type"},
		{"call to an unknown command", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "deploy.yml"), "  - install:\n", "  - instal:\n")
		}, "jobs/deploy", "unknown-command"},
		{"command argument that is not a parameter", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "deploy.yml"), "      binary_path: << parameters.binary_path >>\n", "      binary_path: << parameters.binary_path >>\n      checksum: x\n")
		}, "jobs/deploy", "arguments"},
		{"persist_to_workspace without paths", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "provision.yml"), "            paths:\n              - << parameters.stack_dir >>\n", "")
		}, "jobs/provision", "steps"},
		{"example with an unknown job", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "examples", "oidc_auth.yml"), "- graviton-cd/deploy:", "- graviton-cd/ship:")
		}, "examples/oidc_auth", "examples"},
		{"example missing a required argument", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "examples", "oidc_auth.yml"), "            image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:<< pipeline.git.revision >>\n", "")
		}, "examples/oidc_auth", "arguments"},
		{"example passing an unknown argument", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "examples", "oidc_auth.yml"), "            stack_name: shop\n", "            stack_name: shop\n            ami: ami-123\n")
		}, "examples/oidc_auth", "arguments"},
		{"display without source_url", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "@orb.yml"), "  source_url: https://github.com/graviton-cd/graviton-cd\n", "")
		}, "@orb.yml", "display"},
		{"secret passed by value", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "commands", "destroy.yml"), "  aws_secret_access_key:\n    type: env_var_name\n", "  aws_secret_access_key:\n    type: string\n")
		}, "commands/destroy", "secret-parameter"},
		{"job without an executor parameter", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "jobs", "destroy.yml"), "  executor:\n    type: executor\n", "  executor:\n    type: string\n")
		}, "jobs/destroy", "executor"},
		{"no examples", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "examples")); err != nil {
				t.Fatal(err)
			}
		}, "examples", "examples"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copySource(t)
			tc.mutate(t, dir)
			findings, err := ReviewDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range findings {
				if strings.HasPrefix(f.Where, tc.wantWhere) && f.Rule == tc.wantRule {
					return
				}
			}
			t.Errorf("no [%s] finding for %s; got %v", tc.wantRule, tc.wantWhere, findings)
		})
	}
}

// TestExamplesCoverEachUseCase names the use cases the issue asks examples for.
func TestExamplesCoverEachUseCase(t *testing.T) {
	src, err := ReadSource(srcDir)
	if err != nil {
		t.Fatal(err)
	}
	for useCase, name := range map[string]string{
		"build → provision → deploy → smoke-test → destroy": "full_pipeline",
		"deploy only, to an existing cluster":               "deploy_existing_cluster",
		"OIDC auth":                                         "oidc_auth",
		"an ephemeral per-branch environment":               "ephemeral_branch_environment",
		"a canary release verified by checks, rolled back":  "canary_release",
	} {
		if _, ok := src.Components["examples"][name]; !ok {
			t.Errorf("no example %s for %s", name, useCase)
		}
	}
	full, err := os.ReadFile(filepath.Join(srcDir, "examples", "full_pipeline.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- build", "graviton-cd/provision", "graviton-cd/deploy", "graviton-cd/smoke-test", "graviton-cd/destroy", "destroy_on_fail: true"} {
		if !strings.Contains(string(full), want) {
			t.Errorf("full_pipeline does not contain %q", want)
		}
	}
}
