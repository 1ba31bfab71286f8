package sampleapp_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/sampleapp"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
)

// TestDemoSmokeTest runs the smoke test the demo runs: the sample app on
// 127.0.0.1, reached through --connect-to from a load balancer name that does
// not resolve, with --expect-json on /version.
func TestDemoSmokeTest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- sampleapp.Serve(ctx, ln, sampleapp.NewHandler("v2"), time.Second) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	const alb = "graviton-cd-demo-123456789.us-east-1.elb.amazonaws.com"

	for _, tt := range []struct {
		version string
		pass    bool
	}{{"v2", true}, {"v1", false}} {
		t.Run("expect "+tt.version, func(t *testing.T) {
			plan, err := smoketest.NewPlan(smoketest.Options{
				URL:         "http://" + alb,
				Path:        "/version",
				ConnectTo:   []string{alb + ":80:127.0.0.1:" + port},
				ExpectJSON:  []string{"version=" + tt.version, "arch=" + runtime.GOARCH},
				Interval:    "10ms",
				Consecutive: "3",
				Timeout:     "200ms",
			})
			if err != nil {
				t.Fatal(err)
			}
			rep := (&smoketest.Runner{}).Run(context.Background(), plan)
			if rep.Passed != tt.pass {
				t.Fatalf("passed = %v, want %v: %+v", rep.Passed, tt.pass, rep.Checks)
			}
			if !tt.pass && !strings.Contains(rep.Checks[0].Failure, `expected JSON version = "v1", got "v2"`) {
				t.Errorf("failure should name the version mismatch: %s", rep.Checks[0].Failure)
			}
		})
	}
}
