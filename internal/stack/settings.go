package stack

import (
	"encoding/json"
	"path/filepath"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// SettingsFile is the name of the settings file inside a stack directory.
const SettingsFile = "stack.json"

// Settings are <dir>/stack.json: what destroy --stack-dir needs even when
// provision failed before outputs.json was written.
type Settings struct {
	Name             string `json:"name"`
	Region           string `json:"region"`
	EndpointURL      string `json:"endpoint_url,omitempty"`
	TerraformVersion string `json:"terraform_version,omitempty"`
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
