package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPackWritesTheOrb(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist", "orb.yml")
	var stderr bytes.Buffer
	if code := run([]string{"-src", "../../../../src", "-out", out, "-review"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("version: 2.1")) {
		t.Errorf("packed orb starts %q", b[:20])
	}
	if !strings.Contains(stderr.String(), "no findings") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

func TestExitCodes(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want int
	}{
		"unknown flag":             {[]string{"-nope"}, 2},
		"stray argument":           {[]string{"src"}, 2},
		"missing source":           {[]string{"-src", "/nonexistent", "-out", "-"}, 1},
		"checksums file missing":   {[]string{"-src", "../../../../src", "-out", "-", "-release-version", "1.0.0", "-checksums", "/nonexistent"}, 1},
		"checksums but no version": {[]string{"-src", "../../../../src", "-out", "-", "-checksums", "main.go"}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			if got := run(tc.args, &bytes.Buffer{}, &bytes.Buffer{}); got != tc.want {
				t.Errorf("exit %d, want %d", got, tc.want)
			}
		})
	}
}
