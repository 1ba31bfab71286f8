package cli

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// docExamples returns the graviton-cd command lines of the ```sh blocks of
// a Markdown file, in order.
func docExamples(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	inSh := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = !inSh && line == "```sh"
		case inSh && strings.HasPrefix(line, "graviton-cd "):
			words, err := splitShellWords(line)
			if err != nil {
				t.Fatalf("%s: %q: %v", path, line, err)
			}
			out = append(out, words[1:])
		}
	}
	return out
}

// TestDebuggingVerbsDocExamples runs every command of docs/debugging-verbs.md,
// in order, against the ECS and CloudWatch Logs fakes: a service on revision
// 42 of family shop, a migration task that exits 0, and its log lines. Each
// must exit 0; --name shop is the stack directory of the fakes.
func TestDebuggingVerbsDocExamples(t *testing.T) {
	const docTaskID = "0123abcd89abcdef0123456789abcdef"
	var prior []map[string]any
	for range 41 {
		prior = append(prior, webTaskDef("shop"))
	}
	e := newVerbsEnv(t, ecsfake.Options{
		TaskDefinition: webTaskDef("shop"), PriorRevisions: prior,
		Rollouts: [][]ecsfake.Frame{completedAtOnce, completedAtOnce},
		Tasks:    []ecsfake.TaskScript{{ID: docTaskID, ExitCode: 0}},
	})
	now := time.Now()
	e.logs.Put("/ecs/web", "app/app/"+docTaskID, now.Add(-9*time.Minute), "listening on :8080")
	e.logs.Put("/ecs/web", "app/app/"+docTaskID, now.Add(-8*time.Minute), "ERROR connect to db: connection refused")
	e.logs.Put("/ecs/web", "app/app/ffffffffffffffffffffffffffffffff", now.Add(-90*time.Minute), "ERROR an older one")

	examples := docExamples(t, "../../docs/debugging-verbs.md")
	verbs := map[string]int{}
	for _, ex := range examples {
		verbs[ex[0]]++
	}
	for _, v := range []string{"logs", "deploy", "run-task", "rollback"} {
		if verbs[v] == 0 {
			t.Errorf("docs/debugging-verbs.md has no %s example", v)
		}
	}
	want := map[string][]string{ // what some examples must print
		"logs --since 30m": {"0123abcd listening on :8080", "0123abcd ERROR connect to db"},
		"logs --filter":    {"ffffffff ERROR an older one", "0123abcd ERROR connect to db"},
		"logs --follow":    {"0123abcd ERROR connect to db"},
		"deploy --dry-run": {`+      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1.4.0",`, "+  desiredCount: 3", "dry run: nothing was changed"},
		"run-task":         {"run-task succeeded: task " + docTaskID},
		"rollback":         {"task-definition/shop:41 again (was arn:aws:ecs:us-east-1:123456789012:task-definition/shop:42"},
		"rollback --to 40": {"task-definition/shop:40 again"},
	}
	for _, ex := range examples {
		args := make([]string, 0, len(ex)+4)
		follow := false
		for i := 0; i < len(ex); i++ {
			switch {
			case ex[i] == "--name" && i+1 < len(ex) && ex[i+1] == "shop":
				args = append(args, "--stack-dir", e.dir)
				i++
				continue
			case ex[i] == "--follow":
				follow = true
			}
			args = append(args, ex[i])
		}
		args = append(args, "--endpoint-url", e.url)
		if ex[0] == "deploy" {
			args = append(args, "--check-image-arch=false")
		}
		t.Run(strings.Join(ex, " "), func(t *testing.T) {
			ctx := t.Context()
			if follow {
				// Ctrl-C after the first read: a follow ends with exit 0.
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer time.AfterFunc(500*time.Millisecond, cancel).Stop()
			}
			var stdout, stderr syncBuffer
			code := RunIO(ctx, append([]string{"graviton-cd"}, args...), &stdout, &stderr)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
			}
			out := stdout.String() + stderr.String()
			for k, lines := range want {
				if !matchesExample(k, ex) {
					continue
				}
				for _, l := range lines {
					if !strings.Contains(out, l) {
						t.Errorf("output lacks %q:\n%s", l, out)
					}
				}
			}
		})
	}
	if e.ecs.ServiceTaskDefinition() != "arn:aws:ecs:us-east-1:123456789012:task-definition/shop:40" {
		t.Errorf("after the examples the service runs %s, want shop:40", e.ecs.ServiceTaskDefinition())
	}
	if n := len(e.ecs.Registered()); n != 0 {
		t.Errorf("the examples registered %d revisions (the dry run must not)", n)
	}
}

// matchesExample says whether key ("verb --flag …") describes ex: its verb,
// and each flag in it present in ex, and no other flags when key names
// none beyond the verb's own listed ones.
func matchesExample(key string, ex []string) bool {
	parts := strings.Fields(key)
	if parts[0] != ex[0] {
		return false
	}
	has := map[string]bool{}
	for _, w := range ex[1:] {
		has[w] = true
	}
	for _, p := range parts[1:] {
		if !has[p] {
			return false
		}
	}
	// "rollback" alone must not match "rollback --to 40".
	if parts[0] == "rollback" && len(parts) == 1 && has["--to"] {
		return false
	}
	if parts[0] == "logs" && !has["--follow"] && strings.Contains(key, "--follow") {
		return false
	}
	return true
}
