package demo

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestPushedIndexCarriesBothPlatforms(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "app")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	images := map[string]v1.Image{}
	for _, p := range []string{"linux/arm64", "linux/amd64"} {
		plat, _ := v1.ParsePlatform(p)
		img, err := ImageForBinary(bin, *plat, 8080)
		if err != nil {
			t.Fatal(err)
		}
		images[p] = img
	}
	idx, err := Index(images)
	if err != nil {
		t.Fatal(err)
	}
	reg := StartRegistry()
	defer reg.Close()
	refStr, err := reg.Push("sample", "v1", idx)
	if err != nil {
		t.Fatal(err)
	}

	ref, _ := name.ParseReference(refStr, name.Insecure)
	got, err := remote.Index(ref)
	if err != nil {
		t.Fatalf("read index back: %v", err)
	}
	im, err := got.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	for _, m := range im.Manifests {
		plats = append(plats, m.Platform.String())
		img, err := got.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Platform().String() != m.Platform.String() || len(cf.Config.Entrypoint) == 0 || cf.Config.Entrypoint[0] != EntrypointPath {
			t.Errorf("image for %s has config platform %s, entrypoint %v", m.Platform, cf.Platform(), cf.Config.Entrypoint)
		}
	}
	sort.Strings(plats)
	if len(plats) != 2 || plats[0] != "linux/amd64" || plats[1] != "linux/arm64" {
		t.Fatalf("platforms = %v", plats)
	}
}
