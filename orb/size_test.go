package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// clientMethod matches an AWS SDK client method in `go tool nm` output and
// captures the service and the method ("-fm" marks a method value's wrapper).
var clientMethod = regexp.MustCompile(`aws-sdk-go-v2/service/(\w+)\.\(\*Client\)\.([A-Z]\w*?)(?:-fm)?$`)

// maxOperations is more than any service's wrapper in internal/awsx has, and
// far fewer than any service offers (EC2 has about 800): crossing it means
// the linker kept a whole client.
const maxOperations = 30

// wholeClients may link every operation, with the reason. S3's New binds the
// client to its S3 Express credentials provider through an interface field,
// so its operations stay reachable whatever internal/awsx wraps (about 3 MiB
// of symbols); the state bucket and the state objects need S3.
var wholeClients = map[string]string{"s3": "s3.New stores the *Client in its S3 Express credentials provider"}

// TestBinaryLinksOnlyCalledOperations guards the binary's size. When an SDK
// client reaches an interface, or a struct that does, the linker keeps every
// operation the client has (urfave/cli's help templates use reflection), and
// linux/arm64 grows from about 22 MiB to 52 MiB. See internal/awsx/clients.go.
func TestBinaryLinksOnlyCalledOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "graviton-cd")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	nm := exec.Command("go", "tool", "nm", bin)
	out, err := nm.Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	ops := map[string]map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		m := clientMethod.FindStringSubmatch(line)
		if m == nil || m[2] == "Options" {
			continue
		}
		if ops[m[1]] == nil {
			ops[m[1]] = map[string]bool{}
		}
		ops[m[1]][m[2]] = true
	}
	if len(ops) == 0 {
		t.Fatal("no AWS SDK client method in the binary's symbols: the pattern no longer matches `go tool nm`")
	}
	for svc, names := range ops {
		if why, ok := wholeClients[svc]; ok {
			t.Logf("%s: %d operations (all of them: %s)", svc, len(names), why)
			continue
		}
		if len(names) > maxOperations {
			some := make([]string, 0, len(names))
			for n := range names {
				some = append(some, n)
			}
			sort.Strings(some)
			t.Errorf("service %s links %d operations (%s, …): its *Client reached an interface or a struct field; wrap the operations you call in internal/awsx instead",
				svc, len(names), strings.Join(some[:5], ", "))
			continue
		}
		t.Logf("%s: %d operations", svc, len(names))
	}
}
