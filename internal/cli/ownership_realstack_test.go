package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
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
		{"killed-mid-create-then-import", func(t *testing.T, tf string) { testKilledMidCreateThenImport(t, tf, killWhileCreatingLB) }},
		{"killed-while-network-built-s3-state-then-import", func(t *testing.T, tf string) { testKilledMidCreateThenImport(t, tf, killOnceSubnetsExist) }},
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

// killPoint is when testKilledMidCreateThenImport kills a provision: after
// the progress line, once AWS holds what the kill must orphan.
type killPoint struct {
	line string
	// orphan waits until AWS holds the resource the kill must orphan and
	// returns its address and ID ("" when it never appeared).
	orphan func(t *testing.T, cfg aws.Config, name string) (addr, id string)
	// s3State puts the stack's state in S3 (the default backend) and raises
	// TF_STATE_PERSIST_INTERVAL for the run that is killed. Terraform's
	// local backend writes state after every resource, so there only what
	// is in flight is lost; with S3 state both CLIs write at most every
	// 20 s, and the raised interval makes "killed before the next write"
	// certain on a machine of any speed. The kill also leaves the S3 lock.
	s3State bool
}

// killWhileCreatingLB kills while terraform creates the load balancer, once
// AWS holds it.
var killWhileCreatingLB = killPoint{
	line: "aws_lb.this: Creating...",
	orphan: func(t *testing.T, cfg aws.Config, name string) (string, string) {
		elbc := elbv2.NewFromConfig(cfg)
		for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(20 * time.Millisecond) {
			out, err := elbc.DescribeLoadBalancers(t.Context(), &elbv2.DescribeLoadBalancersInput{Names: []string{name + "-alb"}})
			if err == nil && len(out.LoadBalancers) > 0 {
				return "aws_lb.this", aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
			}
		}
		return "aws_lb.this", ""
	},
}

// killOnceSubnetsExist kills as soon as the second public subnet is created,
// with S3 state: before either CLI writes state, so the VPC, the subnets and
// whatever else completed are orphaned.
var killOnceSubnetsExist = killPoint{
	s3State: true,
	line:    "aws_subnet.public[1]: Creation complete",
	orphan: func(t *testing.T, cfg aws.Config, name string) (string, string) {
		out, err := ec2.NewFromConfig(cfg).DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{
			Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{name + "-public-1"}}}})
		if err != nil || len(out.Subnets) != 1 {
			t.Errorf("subnets named %s-public-1 after its creation: %+v, %v", name, out, err)
			return "aws_subnet.public[1]", ""
		}
		return "aws_subnet.public[1]", aws.ToString(out.Subnets[0].SubnetId)
	},
}

// testKilledMidCreateThenImport: the whole process tree of a provision
// (graviton-cd, terraform or tofu, and the AWS provider plugin, which can
// outlive terraform) is killed at once with SIGKILL, no grace, as a dead
// runner or an OOM kill would, at the kill point: AWS holds a resource the
// state does not. The rerun imports it and every other resource the kill
// orphaned (and names each), converges without creating a second VPC or
// load balancer, and a third run plans nothing. A VPC under the stack's
// name without its identity, or with another stack's, is left alone.
//
// Terraform writes state at most every 20 s during an apply and OpenTofu
// 1.12 (local state) not at all before the end: a kill loses everything
// completed since the last write. Killed while the network is built, both
// CLIs orphan it (VPC, subnets, internet gateway, route tables, their
// associations); killed while the load balancer is created, OpenTofu
// orphans nearly the whole apply and Terraform what completed since its
// last write.
func testKilledMidCreateThenImport(t *testing.T, tf string, at killPoint) {
	ctx := t.Context()
	name := localstack.UniqueName(t, "kl")
	dir := filepath.Join(t.TempDir(), "stack")
	args := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tf}
	readState := func() ([]byte, error) {
		raw, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // no state yet
		}
		return raw, err
	}
	if at.s3State {
		bucket := name + "-state"
		s3c := s3.NewFromConfig(localstack.AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--state-backend", "s3", "--state-bucket", bucket)
		readState = func() ([]byte, error) {
			out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("graviton-cd/" + name + "/terraform.tfstate")})
			var nsk *s3types.NoSuchKey
			if errors.As(err, &nsk) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			defer out.Body.Close()
			return io.ReadAll(out.Body)
		}
	} else {
		args = append(args, "--state-backend", "local")
	}
	t.Cleanup(func() {
		// t.Context is cancelled by now: the clean-up gets its own.
		var stderr strings.Builder
		if code := RunIO(context.Background(), []string{"graviton-cd", "destroy", "--stack-dir", dir, "--terraform-binary", tf}, io.Discard, &stderr); code != ExitOK {
			t.Errorf("clean-up destroy: exit %d\n%s", code, localstack.Tail(stderr.String()))
		}
	})

	bin := buildBinary(t)
	cmd := exec.Command(bin, args...)
	if at.s3State {
		cmd.Env = append(os.Environ(), "TF_STATE_PERSIST_INTERVAL=3600")
	}
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
			if !once && strings.Contains(sc.Text(), at.line) {
				once = true
				close(creating)
			}
		}
	}()
	killed := false
	kill := func() {
		if !killed {
			killed = true
			n := killTree(t, cmd.Process.Pid)
			_ = cmd.Wait()
			t.Logf("killed %d processes (graviton-cd, %s and the provider)", n, filepath.Base(tf))
		}
	}
	defer kill()
	select {
	case <-creating:
	case <-time.After(15 * time.Minute):
		kill()
		t.Fatalf("provision never printed %q\n%s", at.line, localstack.Tail(log.String()))
	}
	cfg := localstack.AWSConfig(t)
	orphanAddr, orphanID := at.orphan(t, cfg, name)
	kill()
	if orphanID == "" {
		t.Fatalf("%s never appeared in AWS\n%s", orphanAddr, localstack.Tail(log.String()))
	}
	raw, err := readState()
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := stack.ManagedAddresses(raw)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(addrs, orphanAddr) {
		t.Fatalf("terraform recorded %s before the kill: nothing to prove; state holds %v", orphanAddr, addrs)
	}
	settings, err := stack.ReadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	// What AWS holds of the network with the stack's identity and the state
	// does not: each must be named as imported by the rerun.
	net := stackNetwork(t, cfg, settings.StackID)
	var orphans []string
	for addr, id := range net {
		if !slices.Contains(addrs, addr) {
			orphans = append(orphans, "importing "+addr+" ("+id+")")
		}
	}
	slices.Sort(orphans)
	// A VPC under the same Name without the stack's identity, and one with
	// another stack's: neither may be taken for the orphan.
	ec2c := ec2.NewFromConfig(cfg)
	for i, tags := range []map[string]string{{"Name": name}, {"Name": name, config.StackIDTagKey: settings.StackID + "-other"}} {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeVpc}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		out, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(fmt.Sprintf("10.%d.0.0/16", 100+i)), TagSpecifications: []ec2types.TagSpecification{spec}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = ec2c.DeleteVpc(context.Background(), &ec2.DeleteVpcInput{VpcId: out.Vpc.VpcId}) })
	}
	t.Logf("state after the kill holds %d resources, not %s; %d network resources orphaned", len(addrs), orphanAddr, len(orphans))

	// Rerun: the orphans are imported, named in the output, and the apply converges.
	start := time.Now()
	var res provisionResult
	code, out := runJSON(t, &res, args...)
	if at.s3State && code == ExitFailed {
		// The kill left the S3 lock: the rerun says how to release it.
		m := regexp.MustCompile(`--force-unlock ([0-9a-f-]+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("rerun after the kill: exit %d without a lock to release\n%s", code, localstack.Tail(out))
		}
		t.Logf("rerun after the kill: the state is locked (%s); rerunning with --force-unlock", m[1])
		code, out = runJSON(t, &res, append(args, "--force-unlock", m[1])...)
	}
	if code != ExitOK {
		t.Fatalf("rerun after the kill: exit %d\n%s", code, localstack.Tail(out))
	}
	t.Logf("rerun (import + apply): %s, plan import %d add %d change %d destroy %d",
		time.Since(start).Round(time.Second), res.Plan.Import, res.Plan.Add, res.Plan.Change, res.Plan.Destroy)
	for _, want := range append([]string{"importing " + orphanAddr + " (" + orphanID + ")"}, orphans...) {
		if !strings.Contains(out, want) {
			t.Errorf("the rerun does not say %q:\n%s", want, localstack.Tail(out))
		}
	}
	if res.Plan == nil || res.Plan.Import < len(orphans) || res.Plan.Import < 1 {
		t.Errorf("rerun plan %+v, want at least %d imports", res.Plan, max(len(orphans), 1))
	}
	if _, err := os.Stat(filepath.Join(dir, "imports.tf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("imports.tf left after a successful apply: %v", err)
	}
	// One load balancer under the name, and one network: the orphans, not
	// second ones.
	lbName := name + "-alb"
	lbs, err := elbv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{lbName}})
	if err != nil || len(lbs.LoadBalancers) != 1 || orphanAddr == "aws_lb.this" && aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn) != orphanID {
		t.Errorf("load balancers named %s after the rerun: %+v, %v; want one (the orphan %s)", lbName, lbs, err, orphanID)
	}
	after := stackNetwork(t, cfg, settings.StackID)
	for addr, id := range net {
		if after[addr] != id {
			t.Errorf("after the rerun %s is %s, want the orphan %s", addr, after[addr], id)
		}
	}

	// Third run: nothing to do.
	var again provisionResult
	code, out = runJSON(t, &again, args...)
	if code != ExitOK || again.Plan == nil || again.Plan.Import+again.Plan.Add+again.Plan.Change+again.Plan.Destroy != 0 {
		b, _ := json.Marshal(again.Plan)
		t.Errorf("third provision: exit %d, plan %s; want no changes\n%s", code, b, localstack.Tail(out))
	}
}

// stackNetwork maps the module's VPC, internet gateway, subnets and route
// table to the ID of the one AWS holds with the stack's identity (by Name
// tag, as provision recognises them); it fails the test on two of one.
func stackNetwork(t *testing.T, cfg aws.Config, stackID string) map[string]string {
	t.Helper()
	c := ec2.NewFromConfig(cfg)
	filter := []ec2types.Filter{{Name: aws.String("tag:" + config.StackIDTagKey), Values: []string{stackID}}}
	got := map[string]string{}
	put := func(typ, id string, tags []ec2types.Tag) {
		var name string
		for _, tg := range tags {
			if aws.ToString(tg.Key) == "Name" {
				name = aws.ToString(tg.Value)
			}
		}
		addr := map[string]string{"aws_vpc": "aws_vpc.this", "aws_internet_gateway": "aws_internet_gateway.this", "aws_route_table": "aws_route_table.public"}[typ]
		if typ == "aws_subnet" {
			i := name[strings.LastIndex(name, "-")+1:]
			addr = "aws_subnet.public[" + i + "]"
		}
		if prev, ok := got[addr]; ok {
			t.Errorf("two resources with the stack's identity for %s: %s and %s", addr, prev, id)
		}
		got[addr] = id
	}
	vpcs, err := c.DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vpcs.Vpcs {
		put("aws_vpc", aws.ToString(v.VpcId), v.Tags)
	}
	igws, err := c.DescribeInternetGateways(t.Context(), &ec2.DescribeInternetGatewaysInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range igws.InternetGateways {
		put("aws_internet_gateway", aws.ToString(g.InternetGatewayId), g.Tags)
	}
	subnets, err := c.DescribeSubnets(t.Context(), &ec2.DescribeSubnetsInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subnets.Subnets {
		put("aws_subnet", aws.ToString(s.SubnetId), s.Tags)
	}
	rts, err := c.DescribeRouteTables(t.Context(), &ec2.DescribeRouteTablesInput{Filters: filter})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rts.RouteTables {
		put("aws_route_table", aws.ToString(r.RouteTableId), r.Tags)
	}
	return got
}

// killTree SIGKILLs pid and all its descendants at once: it stops them
// (SIGSTOP cannot be caught and a stopped process cannot fork), walking
// /proc until no new descendant appears, then kills them all, as a dead
// runner takes the whole job with it. It returns how many it killed.
func killTree(t *testing.T, pid int) int {
	t.Helper()
	stopped := map[int]bool{}
	for {
		tree := descendants(pid)
		fresh := 0
		for _, p := range append(tree, pid) {
			if !stopped[p] {
				_ = syscall.Kill(p, syscall.SIGSTOP)
				stopped[p] = true
				fresh++
			}
		}
		if fresh == 0 {
			break
		}
	}
	for p := range stopped {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(10 * time.Millisecond) {
		alive := 0
		for p := range stopped {
			if p != pid && running(p) {
				alive++
			}
		}
		if alive == 0 {
			return len(stopped)
		}
	}
	t.Fatalf("processes of the killed provision still run: %v", stopped)
	return 0
}

// descendants lists the processes below pid, from each process's parent in
// /proc/<pid>/stat.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, ok := parentOf(p); ok {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// parentOf reads the parent of p; the command name in parentheses may hold
// spaces, so the fields are read after its closing parenthesis.
func parentOf(p int) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}

// running: p exists and is not a zombie.
func running(p int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
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
