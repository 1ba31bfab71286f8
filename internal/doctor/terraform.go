package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// TerraformOptions say where provision would look for the CLI.
type TerraformOptions struct {
	Binary   string // --terraform-binary
	Version  string // --terraform-version: what provision installs when none is found
	CacheDir string // terraform.DefaultCacheDir()
	LookPath func(string) (string, error)
	Getenv   func(string) string // nil: os.Getenv
	Home     string              // the user's home, for ~/.terraformrc; "" skips it
}

// CheckTerraform finds the CLI as provision does (internal/terraform's
// Locator), without installing one, reads its version, and looks for the AWS
// provider in the CLI configuration's filesystem mirrors and plugin cache.
func CheckTerraform(ctx context.Context, o TerraformOptions) (*Terraform, []Check) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	tf := &Terraform{ProviderVersions: []string{}}
	var checks []Check
	// An empty Version stops Locate before it would install anything.
	bin, err := terraform.Locator{Binary: o.Binary, CacheDir: o.CacheDir, LookPath: o.LookPath}.Locate(ctx)
	if err != nil && o.Binary == "" {
		cached := filepath.Join(o.CacheDir, "terraform", o.Version, "terraform")
		if fi, serr := os.Stat(cached); serr == nil && fi.Mode().IsRegular() {
			bin, err = cached, nil
		}
	}
	switch {
	case err != nil && o.Binary != "":
		checks = append(checks, Check{Name: "terraform", Status: Failed, Message: err.Error()})
	case err != nil:
		checks = append(checks, Check{Name: "terraform", Status: Note, Message: fmt.Sprintf(
			"neither terraform nor tofu is on PATH: provision will install Terraform %s into %s (it needs releases.hashicorp.com; or put terraform or tofu on PATH, or give --terraform-binary)",
			o.Version, filepath.Join(o.CacheDir, "terraform", o.Version))})
	default:
		tf.Binary = &bin
		checks = append(checks, versionCheck(ctx, tf, bin))
	}
	checks = append(checks, providerCheck(tf, getenv, o.Home))
	return tf, checks
}

func versionCheck(ctx context.Context, tf *Terraform, bin string) Check {
	x, err := tfexec.NewTerraform(os.TempDir(), bin)
	if err == nil {
		var v *version.Version
		if v, _, err = x.Version(ctx, true); err == nil {
			s := v.String()
			tf.Version = &s
			return Check{Name: "terraform", Status: OK, Message: fmt.Sprintf("%s (version %s)", bin, s)}
		}
	}
	return Check{Name: "terraform", Status: Failed, Message: fmt.Sprintf("%s does not run (%v): give a working terraform or tofu with --terraform-binary", bin, firstLine(err))}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// providerCheck looks for hashicorp/aws where init would find it offline.
func providerCheck(tf *Terraform, getenv func(string) string, home string) Check {
	constraint := version.MustConstraints(version.NewConstraint(hclgen.ProviderConstraint))
	var dirs []string
	rc := getenv("TF_CLI_CONFIG_FILE")
	if rc == "" && home != "" {
		rc = filepath.Join(home, ".terraformrc")
	}
	if rc != "" {
		dirs = append(dirs, cliConfigDirs(rc)...)
	}
	if d := getenv("TF_PLUGIN_CACHE_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	var fits, others []string
	for _, d := range dirs {
		for _, v := range providerVersions(d) {
			if constraint.Check(v) {
				fits = append(fits, v.String())
				if tf.ProviderSource == nil {
					src := d
					tf.ProviderSource = &src
				}
			} else {
				others = append(others, v.String())
			}
		}
	}
	slices.Sort(fits)
	tf.ProviderVersions = slices.Compact(fits)
	switch {
	case len(fits) > 0:
		return Check{Name: "provider", Status: OK, Message: fmt.Sprintf("hashicorp/aws %s in %s", strings.Join(tf.ProviderVersions, ", "), *tf.ProviderSource)}
	case len(others) > 0:
		return Check{Name: "provider", Status: Failed, Message: fmt.Sprintf("the local hashicorp/aws (%s) is outside %s: add a fitting version to the mirror", strings.Join(others, ", "), hclgen.ProviderConstraint)}
	}
	return Check{Name: "provider", Status: Note, Message: fmt.Sprintf("no hashicorp/aws in a local mirror or plugin cache: terraform init will download one (%s) from the registry", hclgen.ProviderConstraint)}
}

// cliConfigDirs reads the filesystem_mirror paths and plugin_cache_dir of a
// Terraform (or OpenTofu) CLI configuration file.
func cliConfigDirs(path string) []string {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	body := f.Body.(*hclsyntax.Body)
	var dirs []string
	if a, ok := body.Attributes["plugin_cache_dir"]; ok {
		if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type().FriendlyName() == "string" {
			dirs = append(dirs, v.AsString())
		}
	}
	for _, b := range body.Blocks {
		if b.Type != "provider_installation" {
			continue
		}
		for _, m := range b.Body.Blocks {
			if m.Type != "filesystem_mirror" {
				continue
			}
			if a, ok := m.Body.Attributes["path"]; ok {
				if v, d := a.Expr.Value(nil); !d.HasErrors() && v.Type().FriendlyName() == "string" {
					dirs = append(dirs, v.AsString())
				}
			}
		}
	}
	return dirs
}

var packedProvider = regexp.MustCompile(`^terraform-provider-aws_([^_]+)_[a-z0-9]+_[a-z0-9]+\.zip$`)

// providerVersions lists hashicorp/aws versions in a mirror or plugin cache
// directory, in either layout (unpacked version directories or packed zips),
// under the Terraform and OpenTofu registries.
func providerVersions(dir string) []*version.Version {
	var out []*version.Version
	for _, host := range []string{"registry.terraform.io", "registry.opentofu.org"} {
		entries, err := os.ReadDir(filepath.Join(dir, host, "hashicorp", "aws"))
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if m := packedProvider.FindStringSubmatch(name); m != nil {
				name = m[1]
			} else if !e.IsDir() {
				continue
			}
			if v, err := version.NewVersion(name); err == nil {
				out = append(out, v)
			}
		}
	}
	return out
}
