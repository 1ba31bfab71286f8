package ecsdeploy

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy/ecsfake"
)

// TestDeployShipsContainerSettings: on the wire, the registered revision
// carries the given environment, secrets (ARNs) and task size with the new
// image, and everything else of the current revision; the progress lines
// name the variables but hold no value.
func TestDeployShipsContainerSettings(t *testing.T) {
	const tokenARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/token-AbCdEf"
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 20*time.Second)}})
	settings := &ContainerSettings{
		Env:     []config.EnvVar{{Name: "GREETING", Value: "hello-from-settings"}, {Name: "MODE", Value: "canary"}},
		Secrets: []config.Secret{{Name: "API_TOKEN", ARN: tokenARN, Resource: tokenARN, Kind: config.SecretKindSecretsManager}},
		CPU:     1024, Memory: 2048, Port: 8080,
	}
	h.deployCase(t, Request{Settings: settings}, nil, OutcomeSucceeded)

	regs := h.srv.Registered()
	if len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
	want := arm64TaskDef()
	want["cpu"], want["memory"] = "1024", "2048"
	app := want["containerDefinitions"].([]any)[0].(map[string]any)
	app["image"] = newImage
	app["environment"] = []any{map[string]any{"name": "GREETING", "value": "hello-from-settings"}, map[string]any{"name": "MODE", "value": "canary"}}
	app["secrets"] = []any{map[string]any{"name": "API_TOKEN", "valueFrom": tokenARN}}
	want["tags"] = []any{map[string]any{"key": "team", "value": "payments"}}
	wb, _ := json.Marshal(want)
	var wantJSON map[string]any
	_ = json.Unmarshal(wb, &wantJSON)
	if !reflect.DeepEqual(regs[0], wantJSON) {
		gb, _ := json.MarshalIndent(regs[0], "", " ")
		wb, _ := json.MarshalIndent(wantJSON, "", " ")
		t.Errorf("registered:\n%s\nwant:\n%s", gb, wb)
	}
	out := h.out.String()
	if !strings.Contains(out, "environment [GREETING MODE], secrets [API_TOKEN], cpu 1024, memory 2048 MiB, port 8080") {
		t.Errorf("progress does not name the settings:\n%s", out)
	}
	if strings.Contains(out, "hello-from-settings") || strings.Contains(out, "canary") {
		t.Errorf("progress holds an environment value:\n%s", out)
	}
}

// TestDeployEmptySettingsClear: an empty (not nil) environment or secret
// list removes them; nil keeps the current revision's.
func TestDeployEmptySettingsClear(t *testing.T) {
	h := newHarness(t, ecsfake.Options{Rollouts: [][]ecsfake.Frame{ecsfake.Happy(2, 20*time.Second)}})
	h.deployCase(t, Request{Settings: &ContainerSettings{Secrets: []config.Secret{}}}, nil, OutcomeSucceeded)
	app := h.srv.Registered()[0]["containerDefinitions"].([]any)[0].(map[string]any)
	if s, ok := app["secrets"]; ok && len(s.([]any)) > 0 {
		t.Errorf("secrets = %v, want none", s)
	}
	if env := app["environment"].([]any); len(env) != 1 {
		t.Errorf("environment = %v, want MODE=prod carried over", env)
	}
}

// TestDeploySettingsRefused: a port the load balancer does not map, and
// settings without an image, are usage errors before anything changes.
func TestDeploySettingsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  Request
		flag string
	}{
		{"another port", Request{Settings: &ContainerSettings{Port: 9090}}, "container-port"},
		{"settings without image", Request{Image: "-", ForceNewDeployment: true, Settings: &ContainerSettings{Env: []config.EnvVar{{Name: "A", Value: "1"}}}}, "image"},
		{"cpu out of range", Request{Settings: &ContainerSettings{CPU: 64}}, "cpu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, ecsfake.Options{})
			_, err := h.deployCase(t, tc.req, new(*config.UsageError), OutcomeFailed)
			if u := err.(*config.UsageError); u.Flag != tc.flag {
				t.Errorf("error names --%s, want --%s: %v", u.Flag, tc.flag, err)
			}
			if h.srv.Calls("RegisterTaskDefinition") != 0 || len(h.srv.Updates()) != 0 {
				t.Error("a refused deploy registered or updated something")
			}
		})
	}
}
