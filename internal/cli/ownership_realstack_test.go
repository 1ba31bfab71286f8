package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// TestOwnershipRealStack proves, with the CLI and provider that `make tools`
// found against moto, what issue 18 asks: a provision killed (SIGKILL, no
// grace) while terraform creates a resource leaves an orphan that the next
// provision imports; and a same-named resource that is not the stack's is
// refused before anything is created.
func TestOwnershipRealStack(t *testing.T) {
	localstack.Moto(t)
	tools := localstack.Terraform(t)
	localstack.SetAWSEnv(t)
	t.Setenv("TF_CLI_CONFIG_FILE", tools.CLIConfigFile)
	for _, k := range []string{"GRAVITON_CD_REGION", "GRAVITON_CD_TERRAFORM_BINARY", "GRAVITON_CD_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	cases := []struct {
		name string
		run  func(*testing.T, string)
	}{
		{"killed-mid-create-then-import", testKilledMidCreateThenImport},
		{"foreign-cluster-refused", testForeignClusterRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, tools.Binary)
		})
	}
}

// syncLog collects a process's lines while the test reads them.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(line + "\n")
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// buildBinary builds graviton-cd for the tests that run it as a process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "graviton-cd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/graviton-cd/graviton-cd/orb").CombinedOutput()
	if err != nil {
		t.Fatalf("build graviton-cd: %v\n%s", err, out)
	}
	return bin
}

// testKilledMidCreateThenImport: graviton-cd is killed with SIGKILL
// (terraform dies with it, by its parent-death signal) while terraform creates
// the load balancer: AWS holds it, the state does not. The rerun imports it
// (and says so), converges, and a third run plans nothing.
//
// Terraform and OpenTofu write state at most every 20 s during an apply, so
// a kill loses whatever completed since the last write, not only what was in
// flight. The kill therefore waits for a state write that holds everything
// but the load balancer (whose creation outlasts the rest on moto): what is
// lost is then the load balancer in flight, the case the stack identity
// recovers. (A kill
// right after unnamed resources completed, say subnets, leaves orphans that
// only a VPC-wide recovery could adopt; see docs/interrupts-and-orphans.md.)
//
// OpenTofu 1.12 is skipped, and issue 18 stays open for it: with local state
// it had written one resource 50 s into the apply, so a kill there orphans
// the network (VPC, subnets, routes), which only fixed-name resources are
// recovered from today, and a target group created by the killed run's
// provider after the rerun's check made the rerun's apply fail.
func testKilledMidCreateThenImport(t *testing.T, tf string) {
	if out, err := exec.Command(tf, "version").Output(); err == nil && strings.Contains(string(out), "OpenTofu") {
		t.Skip("OpenTofu 1.12 persists local state too late in an apply for a kill to orphan only the load balancer; recovering unnamed resources is open (issue 18)")
	}
	ctx := t.Context()
	name := localstack.UniqueName(t, "kl")
	dir := filepath.Join(t.TempDir(), "stack")
	statePath := filepath.Join(dir, "terraform.tfstate")
	args := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tf, "--state-backend", "local"}
	t.Cleanup(func() {
		// t.Context is cancelled by now: the clean-up gets its own.
		var stderr strings.Builder
		if code := RunIO(context.Background(), []string{"graviton-cd", "destroy", "--stack-dir", dir, "--terraform-binary", tf}, io.Discard, &stderr); code != ExitOK {
			t.Errorf("clean-up destroy: exit %d\n%s", code, localstack.Tail(stderr.String()))
		}
	})

	bin := buildBinary(t)
	// --log-level debug streams terraform's own lines, "aws_lb.this: Creating..." among them.
	cmd := exec.CommandContext(ctx, bin, append([]string{"--log-level", "debug"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &syncLog{}
	creating := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			log.add(sc.Text())
			if !once && strings.Contains(sc.Text(), "aws_lb.this: Creating...") {
				once = true
				close(creating)
			}
		}
	}()
	select {
	case <-creating:
	case <-time.After(15 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the load balancer was never created\n%s", localstack.Tail(log.String()))
	}
	elbc := elbv2.NewFromConfig(localstack.AWSConfig(t))
	lbName := name + "-alb"
	var lbARN string
	for start := time.Now(); lbARN == "" && time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
		out, err := elbc.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{lbName}})
		if err == nil && len(out.LoadBalancers) > 0 {
			lbARN = aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
		}
	}
	if lbARN == "" {
		_ = cmd.Process.Kill()
		t.Fatalf("the load balancer never appeared in AWS\n%s", localstack.Tail(log.String()))
	}
	// Wait until the state holds everything that does not wait for the load
	// balancer (the cluster's capacity providers come last): what the kill
	// loses is then the load balancer in flight.
	appeared := time.Now()
	for time.Since(appeared) < 50*time.Second {
		if raw, err := os.ReadFile(statePath); err == nil {
			if addrs, err := stack.ManagedAddresses(raw); err == nil &&
				slices.Contains(addrs, "aws_ecs_cluster_capacity_providers.this") {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed provision %s after AWS held the load balancer", time.Since(appeared).Round(time.Millisecond))
	raw, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatalf("no state after the kill: %v", err)
	}
	addrs, err := stack.ManagedAddresses(raw)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(addrs, "aws_lb.this") {
		t.Fatalf("terraform recorded the load balancer before the kill: nothing to prove; state holds %v", addrs)
	}
	t.Logf("state after the kill holds %d resources, not the load balancer", len(addrs))

	// Rerun: the orphan is imported, named in the output, and the apply converges.
	start := time.Now()
	var res stack.ProvisionResult
	code, out := runJSON(t, &res, args...)
	if code != ExitOK {
		t.Fatalf("rerun after the kill: exit %d\n%s", code, localstack.Tail(out))
	}
	t.Logf("rerun (import + apply): %s, plan %+v", time.Since(start).Round(time.Second), res.Plan)
	if !strings.Contains(out, "importing aws_lb.this ("+lbARN+")") {
		t.Errorf("the rerun does not name the imported load balancer %s:\n%s", lbARN, localstack.Tail(out))
	}
	if res.Plan == nil || res.Plan.Import < 1 {
		t.Errorf("rerun plan %+v, want at least one import", res.Plan)
	}
	if _, err := os.Stat(filepath.Join(dir, "imports.tf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("imports.tf left after a successful apply: %v", err)
	}
	// One load balancer under the name: the orphan, not a second one.
	lbs, err := elbc.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{lbName}})
	if err != nil || len(lbs.LoadBalancers) != 1 || aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn) != lbARN {
		t.Errorf("load balancers named %s after the rerun: %+v, %v; want only %s", lbName, lbs, err, lbARN)
	}

	// Third run: nothing to do.
	var again stack.ProvisionResult
	code, out = runJSON(t, &again, args...)
	if code != ExitOK || again.Plan == nil || again.Plan.Import+again.Plan.Add+again.Plan.Change+again.Plan.Destroy != 0 {
		b, _ := json.Marshal(again.Plan)
		t.Errorf("third provision: exit %d, plan %s; want no changes\n%s", code, b, localstack.Tail(out))
	}
}

// testForeignClusterRefused: an ECS cluster under the stack's name that is
// not the stack's (no identity tag) stops provision with exit 2, with
// --plan-only too, before anything is created.
func testForeignClusterRefused(t *testing.T, tf string) {
	ctx := t.Context()
	name := localstack.UniqueName(t, "fc")
	ecsc := ecs.NewFromConfig(localstack.AWSConfig(t))
	// (moto's tagging API breaks on untagged ECS clusters: tag it, just not
	// with the identity.)
	if _, err := ecsc.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name),
		Tags: []ecstypes.Tag{{Key: aws.String("team"), Value: aws.String("payments")}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = ecsc.DeleteCluster(context.Background(), &ecs.DeleteClusterInput{Cluster: aws.String(name)})
	})

	dir := filepath.Join(t.TempDir(), "stack")
	args := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tf, "--state-backend", "local"}
	for _, extra := range [][]string{{"--plan-only"}, nil} {
		start := time.Now()
		code, _, stderr := run(t, append(args, extra...)...)
		t.Logf("provision %v refused after %s", extra, time.Since(start).Round(time.Millisecond))
		if code != ExitUsage {
			t.Fatalf("provision %v with a foreign cluster: exit %d, want %d\n%s", extra, code, ExitUsage, localstack.Tail(stderr))
		}
		for _, want := range []string{`ecs-cluster "` + name + `" for aws_ecs_cluster.this: no graviton-cd:stack-id tag`, "nothing was created", "Choose another --name"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("refusal does not say %q:\n%s", want, localstack.Tail(stderr))
			}
		}
		if strings.Contains(stderr, "Creating...") || strings.Contains(stderr, "planning stack") {
			t.Errorf("provision planned or created something before refusing:\n%s", localstack.Tail(stderr))
		}
	}
	// Nothing but the foreign cluster carries the stack's name.
	left, err := leftover.NewChecker(localstack.AWSConfig(t), nil).Find(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].String() != "ecs cluster "+name {
		t.Errorf("after the refusal AWS holds %v, want only the foreign cluster", left)
	}
	// And the cluster is untouched: still ACTIVE, still someone else's tags.
	out, err := ecsc.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldTags}})
	if err != nil || len(out.Clusters) != 1 || aws.ToString(out.Clusters[0].Status) != "ACTIVE" || len(out.Clusters[0].Tags) != 1 {
		t.Errorf("the foreign cluster after the refusal: %+v, %v", out, err)
	}
}
