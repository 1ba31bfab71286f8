package terraform

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// LockFile is the dependency lock file init writes into the stack directory
// (Terraform 0.14+ and OpenTofu).
const LockFile = ".terraform.lock.hcl"

// LockedProviderVersion returns the version of hashicorp/<name> that init
// selected for the module in dir, read from its dependency lock file, under
// whichever registry host the CLI uses (registry.terraform.io for Terraform,
// registry.opentofu.org for OpenTofu). It is nil, with no error, when the
// file or the provider is not there.
func LockedProviderVersion(dir, name string) (*version.Version, error) {
	path := filepath.Join(dir, LockFile)
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("read %s: %s", path, diags)
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, fmt.Errorf("read %s: not native HCL syntax", path)
	}
	for _, b := range body.Blocks {
		if b.Type != "provider" || len(b.Labels) != 1 || !strings.HasSuffix(b.Labels[0], "/hashicorp/"+name) {
			continue
		}
		attr, ok := b.Body.Attributes["version"]
		if !ok {
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() || !v.Type().Equals(cty.String) || v.IsNull() {
			return nil, fmt.Errorf("read %s: provider %s has no version string", path, b.Labels[0])
		}
		return version.NewVersion(v.AsString())
	}
	return nil, nil
}
