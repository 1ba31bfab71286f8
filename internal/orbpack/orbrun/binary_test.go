package orbrun

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/orbpack"
)

// builtBinary is graviton-cd built from this tree once for the package's
// tests, in a directory TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func realBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "orbrun-bin-*")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "graviton-cd")
		cmd := exec.Command("go", "build", "-o", buildPath, "./orb")
		cmd.Dir = "../../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./orb: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// release serves fake graviton-cd releases on 127.0.0.1 and counts requests.
type release struct {
	srv   *httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	files map[string][]byte
}

func newRelease(t *testing.T, version string, assets map[string][]byte) *release {
	t.Helper()
	r := &release{hits: map[string]int{}, files: map[string][]byte{}}
	var sums strings.Builder
	for name, body := range assets {
		sum := sha256.Sum256(body)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		r.files["/v"+version+"/"+name] = body
	}
	r.files["/v"+version+"/checksums.txt"] = []byte(sums.String())
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits[req.URL.Path]++
		body, ok := r.files[req.URL.Path]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *release) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.hits {
		n += c
	}
	return n
}

func (r *release) hitsFor(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits[path]
}

// remove takes a file off the server and returns what it held.
func (r *release) remove(path string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.files[path]
	delete(r.files, path)
	return b
}

func (r *release) replace(path string, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = body
}

// unameShim makes `uname -m` print machine for the install script.
func unameShim(t *testing.T, machine string) string {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf("#!/bin/sh\ncase \"$1\" in -m) echo %s ;; *) echo Linux ;; esac\n", machine)
	if err := os.WriteFile(filepath.Join(dir, "uname"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runInstall(t *testing.T, o *Orb, home, pathPrefix string, params map[string]any) (*Result, string, time.Duration, error) {
	t.Helper()
	var out bytes.Buffer
	start := time.Now()
	res, err := o.RunCommand(context.Background(), "install", params, Options{
		Dir:    t.TempDir(),
		Env:    []string{"HOME=" + home, "PATH=" + pathPrefix + ":" + os.Getenv("PATH")},
		Stdout: &out, Stderr: &out,
	})
	return res, out.String(), time.Since(start), err
}

// TestInstallCommand runs the orb's install command through the runner:
// download and verify for each CPU, a cache hit with no request, a tampered
// asset refused.
func TestInstallCommand(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the release assets here are Linux ones")
	}
	o := loadOrb(t)
	bin, err := os.ReadFile(realBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	other := []byte("#!/bin/sh\necho graviton-cd arm64 stand-in\n")
	assets := map[string][]byte{"graviton-cd_linux_amd64": bin, "graviton-cd_linux_arm64": other}
	if runtime.GOARCH == "arm64" {
		assets = map[string][]byte{"graviton-cd_linux_arm64": bin, "graviton-cd_linux_amd64": other}
	}
	rel := newRelease(t, "9.9.9", assets)
	params := map[string]any{"version": "9.9.9", "base_url": rel.srv.URL}
	machine := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]

	home := t.TempDir()
	res, out, first, err := runInstall(t, o, home, unameShim(t, machine), params)
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if !strings.Contains(out, "verified sha256") || !strings.Contains(out, "graviton-cd dev") {
		t.Errorf("install output does not show the verified, working binary:\n%s", out)
	}
	wantBin := filepath.Join(home, ".cache", "graviton-cd", "9.9.9", "linux_"+runtime.GOARCH, "graviton-cd")
	if !strings.Contains(res.BashEnv, "GRAVITON_CD_BIN="+wantBin) {
		t.Errorf("BASH_ENV = %q, want GRAVITON_CD_BIN=%s", res.BashEnv, wantBin)
	}
	if n := rel.requests(); n != 2 {
		t.Errorf("first install made %d requests, want 2 (checksums.txt and the binary)", n)
	}

	_, out, cached, err := runInstall(t, o, home, unameShim(t, machine), params)
	if err != nil || !strings.Contains(out, "cache hit") {
		t.Fatalf("second install: %v\n%s", err, out)
	}
	if n := rel.requests(); n != 2 {
		t.Errorf("the cached install made %d more requests, want none", n-2)
	}
	t.Logf("install of a %.1f MiB binary from 127.0.0.1: first run %v, cached run %v",
		float64(len(bin))/(1<<20), first.Round(time.Millisecond), cached.Round(time.Millisecond))

	t.Run("other CPU", func(t *testing.T) {
		otherMachine := map[string]string{"amd64": "aarch64", "arm64": "x86_64"}[runtime.GOARCH]
		_, out, _, err := runInstall(t, o, t.TempDir(), unameShim(t, otherMachine), params)
		if err != nil || !strings.Contains(out, "stand-in") {
			t.Errorf("install on %s: %v\n%s", otherMachine, err, out)
		}
	})

	t.Run("tampered", func(t *testing.T) {
		name := "graviton-cd_linux_" + runtime.GOARCH
		rel.replace("/v9.9.9/"+name, append(append([]byte(nil), bin...), "tampered"...))
		home := t.TempDir()
		_, out, _, err := runInstall(t, o, home, unameShim(t, machine), params)
		if err == nil || !strings.Contains(out, "checksum mismatch for "+name) {
			t.Fatalf("tampered install: %v\n%s", err, out)
		}
		entries, _ := os.ReadDir(filepath.Join(home, ".cache", "graviton-cd", "9.9.9", "linux_"+runtime.GOARCH))
		if len(entries) != 0 {
			t.Errorf("the tampered download left %v in the cache", entries)
		}
	})
}

// smokeTestLanded says whether this tree's binary has the smoke-test flags the
// orb passes (subcommands land in parallel with the orb).
func smokeTestLanded(t *testing.T, bin string) bool {
	out, _ := exec.Command(bin, "smoke-test", "--help").CombinedOutput()
	return bytes.Contains(out, []byte("GRAVITON_CD_URL")) && bytes.Contains(out, []byte("GRAVITON_CD_JUNIT"))
}

// TestSmokeTestJobWithRealBinary runs the orb's smoke-test job with the binary
// built from this tree (binary_path) against an app on 127.0.0.1.
func TestSmokeTestJobWithRealBinary(t *testing.T) {
	bin := realBinary(t)
	if !smokeTestLanded(t, bin) {
		t.Skip("smoke-test has not landed in this tree yet")
	}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status": "ok", "version": "1.2.3"}`)
	}))
	defer app.Close()
	o := loadOrb(t)
	base := map[string]any{
		"binary_path": bin, "stack_dir": "", "url": app.URL, "path": "/healthz",
		"expect_json": "version=1.2.3", "interval": "50ms", "consecutive": 2, "timeout": "20s",
	}
	run := func(t *testing.T, extra map[string]any) (*Result, string, string, error) {
		params := map[string]any{}
		for k, v := range base {
			params[k] = v
		}
		for k, v := range extra {
			params[k] = v
		}
		dir := t.TempDir()
		var out bytes.Buffer
		res, err := o.RunJob(context.Background(), "smoke-test", params, Options{
			Dir: dir, Env: []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")},
			Stdout: &out, Stderr: &out,
		})
		t.Logf("smoke-test job:\n%s", out.String())
		return res, dir, out.String(), err
	}

	t.Run("passes", func(t *testing.T) {
		res, dir, _, err := run(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		junit := filepath.Join(dir, res.Step("store_test_results").Path, "smoke-test.xml")
		b, err := os.ReadFile(junit)
		if err != nil {
			t.Fatalf("JUnit report: %v", err)
		}
		var doc struct {
			XMLName xml.Name
		}
		if err := xml.Unmarshal(b, &doc); err != nil || !strings.HasPrefix(doc.XMLName.Local, "testsuite") {
			t.Errorf("JUnit report does not parse as test suites (%v): %s", err, b)
		}
	})

	t.Run("fails on a wrong version", func(t *testing.T) {
		res, dir, out, err := run(t, map[string]any{"expect_json": "version=2.0.0", "timeout": "1s"})
		if err == nil {
			t.Fatalf("smoke-test job passed against the wrong version:\n%s", out)
		}
		if s := res.Step("graviton-cd smoke-test"); s == nil || s.Err == nil {
			t.Errorf("smoke-test step = %+v, want it failed", s)
		}
		if !strings.Contains(out, "2.0.0") {
			t.Errorf("the failure does not say what was expected:\n%s", out)
		}
		if _, err := os.Stat(filepath.Join(dir, "test-results", "graviton-cd", "smoke-test.xml")); err != nil {
			t.Errorf("no JUnit report after a failure: %v", err)
		}
	})
}

// TestInstallWithEmbeddedChecksums packs the orb as a release would (version
// pinned, checksums.txt embedded) and installs from a mirror that has no
// checksums.txt at all: the embedded sums are what the download is held to.
func TestInstallWithEmbeddedChecksums(t *testing.T) {
	asset := []byte("#!/bin/sh\necho graviton-cd from the release\n")
	rel := newRelease(t, "3.1.4", map[string][]byte{"graviton-cd_linux_amd64": asset, "graviton-cd_linux_arm64": asset})
	sums := rel.remove("/v3.1.4/checksums.txt")

	packed, err := orbpack.Pack(srcDir, orbpack.Options{ReleaseVersion: "v3.1.4", Checksums: sums})
	if err != nil {
		t.Fatal(err)
	}
	o, err := Parse(packed)
	if err != nil {
		t.Fatal(err)
	}
	// No version argument: the pinned default is the release's.
	_, out, _, err := runInstall(t, o, t.TempDir(), unameShim(t, "x86_64"), map[string]any{"base_url": rel.srv.URL})
	if err != nil || !strings.Contains(out, "checksums embedded in the orb") || !strings.Contains(out, "from the release") {
		t.Fatalf("install: %v\n%s", err, out)
	}
	if rel.hitsFor("/v3.1.4/checksums.txt") != 0 {
		t.Error("install fetched checksums.txt although the orb embeds them")
	}

	rel.replace("/v3.1.4/graviton-cd_linux_amd64", []byte("#!/bin/sh\necho swapped on the mirror\n"))
	_, out, _, err = runInstall(t, o, t.TempDir(), unameShim(t, "x86_64"), map[string]any{"base_url": rel.srv.URL})
	if err == nil || !strings.Contains(out, "checksum mismatch") {
		t.Fatalf("an asset swapped on the mirror was installed: %v\n%s", err, out)
	}
}

// TestJobsWithRealBinaryRejectBadInput runs provision, deploy and destroy
// through the orb with the binary built from this tree and a bad input each:
// the binary takes every variable the orb passes, refuses the bad value with
// exit 2 before any AWS call, and the job fails with its message. No AWS
// endpoint is reachable from here, so a call would fail differently.
func TestJobsWithRealBinaryRejectBadInput(t *testing.T) {
	bin := realBinary(t)
	o := loadOrb(t)
	for _, tc := range []struct {
		job    string
		params map[string]any
		want   string
	}{
		{"provision", map[string]any{"stack_name": "shop-ci", "region": "us-east-1", "instance_type": "m5.large", "destroy_on_fail": true}, "not a Graviton (arm64) instance type"},
		{"deploy", map[string]any{"cluster": "c", "service": "s", "region": "us-east-1", "image": "not a ref!"}, "is not an image reference"},
		{"destroy", map[string]any{"stack_dir": "never-provisioned", "region": "us-east-1"}, "holds no main.tf"},
	} {
		t.Run(tc.job, func(t *testing.T) {
			params := map[string]any{"binary_path": bin}
			for k, v := range tc.params {
				params[k] = v
			}
			dir := t.TempDir()
			var out bytes.Buffer
			res, err := o.RunJob(context.Background(), tc.job, params, Options{
				Dir: dir,
				Env: []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
					"AWS_ACCESS_KEY_ID=AKIAORBTEST", "AWS_SECRET_ACCESS_KEY=orb-test-secret-value",
					"AWS_ENDPOINT_URL=http://127.0.0.1:9"},
				Stdout: &out, Stderr: &out,
			})
			t.Logf("%s job:\n%s", tc.job, out.String())
			if err == nil {
				t.Fatal("the job passed")
			}
			step := res.Step("graviton-cd " + tc.job)
			var exit *exec.ExitError
			if step == nil || !errors.As(step.Err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("step = %+v, want exit 2", step)
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("output does not say %q", tc.want)
			}
			if strings.Contains(out.String(), "orb-test-secret-value") {
				t.Error("the secret key appears in the output")
			}
			if tc.job == "provision" {
				if s := res.Step("Destroy the stack after a failure, if it is ephemeral"); s == nil || !s.Ran || s.Err != nil {
					t.Errorf("destroy-on-fail = %+v, want it run and passed (nothing was created)", s)
				}
				if _, err := os.Stat(filepath.Join(dir, ".graviton-cd", "stack")); err == nil {
					t.Error("a refused provision wrote the stack directory")
				}
			}
		})
	}
}
