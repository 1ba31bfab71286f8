package orbrun

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/cwlogs/cwlogsfake"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// TestDebuggingVerbCommandsWithRealBinary runs the orb's logs, run-task and
// rollback commands and the deploy command's dry_run with the real binary
// against the ECS and CloudWatch Logs fakes behind one endpoint, so that
// each parameter is shown to reach its flag.
func TestDebuggingVerbCommandsWithRealBinary(t *testing.T) {
	bin := realBinary(t)
	o := loadOrb(t)
	const taskID = "0123abcd89abcdef0123456789abcdef"
	td := func() map[string]any {
		return map[string]any{
			"family": "shop", "cpu": "256", "memory": "512",
			"containerDefinitions": []any{map[string]any{
				"name": "app", "image": "example.com/shop:1", "essential": true,
				"logConfiguration": map[string]any{"logDriver": "awslogs", "options": map[string]any{
					"awslogs-group": "/ecs/shop", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}},
			}},
		}
	}
	ecsSrv := ecsfake.New(t, ecsfake.NewClock(time.Now()), ecsfake.Options{
		Cluster: "prod", Service: "shop", DesiredCount: 1, TaskDefinition: td(),
		PriorRevisions: []map[string]any{td(), td()},
		Rollouts:       [][]ecsfake.Frame{{{At: 0, Running: 1, Rollout: "COMPLETED", PriorGone: true}}},
		Tasks:          []ecsfake.TaskScript{{ID: taskID, ExitCode: 0}},
	})
	logs := cwlogsfake.NewHandler("/ecs/shop")
	logs.Put("/ecs/shop", "app/app/"+taskID, time.Now().Add(-time.Minute), "ERROR migration 0042 already applied")
	logs.Put("/ecs/shop", "app/app/"+taskID, time.Now().Add(-time.Minute), "done")
	target, _ := url.Parse(ecsSrv.URL)
	toECS := httputil.NewSingleHostReverseProxy(target)
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "Logs_") {
			logs.ServeHTTP(w, r)
			return
		}
		toECS.ServeHTTP(w, r)
	}))
	defer router.Close()

	run := func(t *testing.T, command string, params map[string]any) string {
		t.Helper()
		all := map[string]any{"cluster": "prod", "service": "shop", "region": "us-east-1"}
		for k, v := range params {
			all[k] = v
		}
		var out bytes.Buffer
		_, err := o.RunCommand(context.Background(), command, all, Options{
			Dir: t.TempDir(),
			Env: []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "GRAVITON_CD_BIN=" + bin, "TMPDIR=" + t.TempDir(),
				"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=orb-test-secret-value", "AWS_CONFIG_FILE=/dev/null",
				"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL=" + router.URL},
			Stdout: &out, Stderr: &out,
		})
		t.Logf("%s:\n%s", command, out.String())
		if err != nil {
			t.Fatalf("%s: %v", command, err)
		}
		if strings.Contains(out.String(), "orb-test-secret-value") {
			t.Error("the secret key appears in the output")
		}
		return out.String()
	}

	t.Run("logs", func(t *testing.T) {
		out := run(t, "logs", map[string]any{"since": "5m", "filter": "ERROR", "task": "0123abcd"})
		if !strings.Contains(out, "0123abcd ERROR migration 0042 already applied") || strings.Contains(out, " done") {
			t.Error("logs did not print the task's ERROR line alone")
		}
	})
	t.Run("run-task", func(t *testing.T) {
		out := run(t, "run-task", map[string]any{"command": `sh -c 'bin/migrate --to "$TARGET"'`, "container": "app", "timeout": "5m", "log_lines": 1})
		if !strings.Contains(out, "run-task succeeded: task "+taskID) || !strings.Contains(out, "| done") {
			t.Error("run-task did not report the task and its last line")
		}
		co := ecsSrv.RunTasks()[0]["overrides"].(map[string]any)["containerOverrides"].([]any)[0].(map[string]any)
		if !slices.Equal(co["command"].([]any), []any{"sh", "-c", `bin/migrate --to "$TARGET"`}) {
			t.Errorf("command override %v", co["command"])
		}
	})
	t.Run("deploy dry_run", func(t *testing.T) {
		out := run(t, "deploy", map[string]any{"image": "example.com/shop:2", "check_image_arch": false, "dry_run": true})
		if !strings.Contains(out, `+      "image": "example.com/shop:2",`) || ecsSrv.Calls("RegisterTaskDefinition") != 0 || ecsSrv.Calls("UpdateService") != 0 {
			t.Error("the dry run did not print the diff, or changed something")
		}
	})
	t.Run("rollback", func(t *testing.T) {
		out := run(t, "rollback", map[string]any{"to_revision": "1", "timeout": "2m"})
		if !strings.Contains(out, "rollback succeeded") || !strings.HasSuffix(ecsSrv.ServiceTaskDefinition(), "task-definition/shop:1") {
			t.Errorf("service runs %s after the rollback", ecsSrv.ServiceTaskDefinition())
		}
	})
}
