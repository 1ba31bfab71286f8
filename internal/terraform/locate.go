package terraform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/hc-install/product"
	"github.com/hashicorp/hc-install/releases"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Installer installs one Terraform release into dir and returns the binary's
// path. The default verifies HashiCorp's signature and checksums.
type Installer interface {
	Install(ctx context.Context, version, dir string) (string, error)
}

// Locator finds the Terraform CLI to run.
type Locator struct {
	Binary    string // --terraform-binary; wins when set
	Version   string // installed when nothing is found
	CacheDir  string // installs go to <CacheDir>/terraform/<Version>/
	LookPath  func(string) (string, error)
	Installer Installer
	Log       *progress.Logger
}

// Locate returns, in order: the explicit binary; terraform on PATH; tofu on
// PATH; a Terraform installed earlier in the cache; a fresh install of
// Version into the cache.
func (l Locator) Locate(ctx context.Context) (string, error) {
	if l.Binary != "" {
		if p, err := l.lookPath(l.Binary); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("find terraform binary %s: not found or not executable: give the path of terraform or tofu", l.Binary)
	}
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := l.lookPath(name); err == nil {
			return p, nil
		}
	}
	if _, err := version.NewVersion(l.Version); err != nil {
		return "", fmt.Errorf("install terraform %q: not a version: use for example 1.11.4", l.Version)
	}
	dir := filepath.Join(l.CacheDir, "terraform", l.Version)
	cached := filepath.Join(dir, "terraform")
	if fi, err := os.Stat(cached); err == nil && fi.Mode().IsRegular() {
		l.Log.Printf("using Terraform %s installed earlier at %s", l.Version, cached)
		return cached, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install terraform %s: create %s: %w", l.Version, dir, err)
	}
	l.Log.Printf("neither terraform nor tofu is on PATH: installing Terraform %s into %s (signature verified)", l.Version, dir)
	inst := l.Installer
	if inst == nil {
		inst = hcInstaller{}
	}
	p, err := inst.Install(ctx, l.Version, dir)
	if err != nil {
		return "", fmt.Errorf("install terraform %s: %w (put terraform or tofu on PATH, or give --terraform-binary)", l.Version, err)
	}
	return p, nil
}

func (l Locator) lookPath(name string) (string, error) {
	lp := l.LookPath
	if lp == nil {
		lp = exec.LookPath
	}
	p, err := lp(name)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", fs.ErrNotExist
	}
	return p, nil
}

// hcInstaller installs from releases.hashicorp.com with hc-install, which
// checks the SHA256SUMS signature against HashiCorp's public key.
type hcInstaller struct{}

func (hcInstaller) Install(ctx context.Context, v, dir string) (string, error) {
	ver, err := version.NewVersion(v)
	if err != nil {
		return "", err
	}
	ev := &releases.ExactVersion{Product: product.Terraform, Version: ver, InstallDir: dir}
	p, err := ev.Install(ctx)
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("installer returned no path")
	}
	return p, nil
}
