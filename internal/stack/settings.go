package stack

import (
	"encoding/json"
	"path/filepath"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// SettingsFile is the name of the stack record inside a stack directory, and
// beside the state in the state bucket (graviton-cd/<name>/stack.json).
const SettingsFile = "stack.json"

// Settings are the stack record: who the stack is (name, region, identity,
// whether it is ephemeral) and where its state lives. Provision writes it
// beside the state before the stack's first apply and reads it on every
// later run, from an empty directory too; the copy in the stack directory
// also says which terraform binary provision ran, for destroy and the orb.
type Settings struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	// StackID is generated at the stack's first provision and never
	// changes; every resource carries it as config.StackIDTagKey.
	StackID   string `json:"stack_id,omitempty"`
	Ephemeral bool   `json:"ephemeral"`
	Created   string `json:"created,omitempty"` // RFC 3339, UTC

	EndpointURL      string `json:"endpoint_url,omitempty"`
	TerraformBinary  string `json:"terraform_binary,omitempty"` // absolute path of the CLI provision ran
	TerraformVersion string `json:"terraform_version,omitempty"`

	// State is where the state lives; nil in a stack directory written
	// before the S3 default, which means local state.
	State *StateLocation `json:"state,omitempty"`
}

// StateLocation is config.StateBackend as the stack record stores it.
type StateLocation struct {
	Backend string `json:"backend"`
	Bucket  string `json:"bucket,omitempty"`
	Key     string `json:"key,omitempty"`
	Region  string `json:"region,omitempty"`
}

// StateBackend returns the location as config.StateBackend; nil is local state.
func (l *StateLocation) StateBackend() config.StateBackend {
	if l == nil {
		return config.StateBackend{Kind: config.BackendLocal}
	}
	return config.StateBackend{Kind: l.Backend, Bucket: l.Bucket, Key: l.Key, Region: l.Region}
}

func locationOf(sb config.StateBackend) *StateLocation {
	return &StateLocation{Backend: sb.Kind, Bucket: sb.Bucket, Key: sb.Key, Region: sb.Region}
}

// ReadSettings loads <dir>/stack.json. A missing, unreadable or foreign file
// is a usage error.
func ReadSettings(dir string) (Settings, error) {
	var s Settings
	path, b, err := readFile(dir, SettingsFile, "point --stack-dir at a directory provision wrote (it holds main.tf and "+SettingsFile+")")
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil || s.Name == "" {
		return s, config.Usagef("stack-dir", "%s is not a graviton-cd stack file: rerun provision with --render-only to rewrite it", path)
	}
	return s, nil
}

// WriteSettings writes <dir>/stack.json atomically.
func WriteSettings(dir string, s Settings) error {
	return writeJSON(filepath.Join(dir, SettingsFile), s, 0o644)
}
