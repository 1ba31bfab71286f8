package terraform

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLockedProviderVersion(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"terraform", `provider "registry.terraform.io/hashicorp/aws" {
  version = "5.100.0"
  hashes  = ["h1:x"]
}
`, "5.100.0"},
		{"opentofu, after another provider", `provider "registry.opentofu.org/hashicorp/random" {
  version = "3.6.0"
}

provider "registry.opentofu.org/hashicorp/aws" {
  version     = "6.47.1"
  constraints = ">= 5.0.0"
}
`, "6.47.1"},
		{"no aws provider", `provider "registry.terraform.io/hashicorp/random" {
  version = "3.6.0"
}
`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, LockFile), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := LockedProviderVersion(dir, "aws")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if v != nil {
				got = v.String()
			}
			if got != tc.want {
				t.Errorf("version = %q, want %q", got, tc.want)
			}
		})
	}
	if v, err := LockedProviderVersion(t.TempDir(), "aws"); v != nil || err != nil {
		t.Errorf("no lock file: %v, %v", v, err)
	}
}
