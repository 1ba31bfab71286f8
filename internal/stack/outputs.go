// Package stack reads and writes the stack directory that provision leaves for
// the later jobs: outputs.json and stack.json beside the rendered module and
// its state.
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
	"github.com/graviton-cd/graviton-cd/internal/config"
)

// OutputsFile is the name of the outputs file inside a stack directory.
const OutputsFile = "outputs.json"

// Outputs are what provision hands to deploy, smoke-test and destroy. The JSON
// names match the Terraform outputs of the rendered root module.
type Outputs struct {
	StackName     string `json:"stack_name"`
	Region        string `json:"region"`
	Cluster       string `json:"cluster_name"`
	Service       string `json:"service_name"`
	ContainerName string `json:"container_name"`
	TaskFamily    string `json:"task_definition_family"`
	ALBDNSName    string `json:"alb_dns_name"`
	URL           string `json:"url"`
	LogGroup      string `json:"log_group"`
}

// ReadOutputs loads <dir>/outputs.json. A missing or unreadable file is a usage
// error: the user pointed --stack-dir at the wrong place or skipped provision.
func ReadOutputs(dir string) (Outputs, error) {
	var o Outputs
	path, b, err := readFile(dir, OutputsFile, "run provision with --dir "+dir+" first, or attach the workspace that holds it")
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, config.Usagef("stack-dir", "%s is not valid outputs JSON (%v): re-run provision to rewrite it", path, err)
	}
	return o, nil
}

// WriteOutputs writes <dir>/outputs.json atomically, so a cancelled job never
// leaves half a file for the next one.
func WriteOutputs(dir string, o Outputs) error {
	return writeJSON(filepath.Join(dir, OutputsFile), o, 0o600)
}

// readFile reads <dir>/<name>. A missing file is a usage error that says what
// to do (hint); so is any other read error.
func readFile(dir, name, hint string) (path string, b []byte, err error) {
	path = filepath.Join(dir, name)
	b, err = os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil, config.Usagef("stack-dir", "%s not found: %s", path, hint)
	}
	if err != nil {
		return path, nil, config.Usagef("stack-dir", "read %s: %v", path, err)
	}
	return path, b, nil
}

// writeJSON writes v as indented JSON to path atomically, with mode.
func writeJSON(path string, v any, mode fs.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return atomicfile.Write(path, append(b, '\n'), mode)
}
