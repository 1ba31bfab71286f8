package cli

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/graviton-cd/graviton-cd/internal/leftover"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// realStack points the test at moto and the Terraform CLI with the provider
// mirror, or skips (fails under CI) when they are not there.
func realStack(t *testing.T) localstack.Tools {
	t.Helper()
	localstack.Moto(t)
	tools := localstack.Terraform(t)
	localstack.SetAWSEnv(t)
	t.Setenv("TF_CLI_CONFIG_FILE", tools.CLIConfigFile)
	for _, k := range []string{"GRAVITON_CD_REGION", "GRAVITON_CD_TERRAFORM_BINARY", "GRAVITON_CD_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	return tools
}

func runJSON(t *testing.T, v any, args ...string) (int, string) {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"--output", "json"}, args...)...)
	if code == ExitOK && v != nil {
		if err := json.Unmarshal(resultOf(t, stdout), v); err != nil {
			t.Fatalf("%s: result is not JSON (%v): %q", args[0], err, stdout)
		}
	}
	return code, stderr
}

// TestRealStack runs provision and destroy against moto with real Terraform
// and the AWS provider from the mirror. The environment is set once here;
// the cases run in parallel (each on its own stack name), as most of their
// time is spent waiting on the provider.
func TestRealStack(t *testing.T) {
	tools := realStack(t)
	cases := []struct {
		name string
		run  func(*testing.T, localstack.Tools)
	}{
		{"lifecycle", testLifecycle},
		{"s3-state-lock", testS3StateLock},
		{"destroy-after-half-failed-provision", testDestroyAfterHalfFailedProvision},
		{"interrupted-mid-apply", testInterruptedMidApply},
		{"destroy-by-flags-of-an-absent-stack", testDestroyByFlagsAbsent},
		{"destroy-lists-leftovers", testDestroyListsLeftovers},
		{"found-by-name", testFoundByName},
		{"ephemeral", testEphemeral},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, tools)
		})
	}
}

// testLifecycle runs the whole life of a stack: plan-only, provision,
// provision again (no changes), destroy, destroy again, leftover check.
func testLifecycle(t *testing.T, tools localstack.Tools) {
	name := localstack.UniqueName(t, "pd")
	dir := filepath.Join(t.TempDir(), "stack")
	provision := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary, "--tags", "team=platform,cost-center=42"}

	// --plan-only: a plan file and a summary, nothing applied.
	start := time.Now()
	var planned provisionResult
	if code, stderr := runJSON(t, &planned, append(provision, "--plan-only")...); code != ExitOK {
		t.Fatalf("provision --plan-only: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("plan-only (init + plan): %s", time.Since(start).Round(time.Second))
	if planned.Mode != "plan-only" || planned.Plan == nil || planned.Plan.Add < 25 || planned.Plan.Change != 0 || planned.Plan.Destroy != 0 {
		t.Fatalf("plan-only result = %+v, want 25+ to add", planned)
	}
	if _, err := os.Stat(filepath.Join(dir, stack.PlanFile)); err != nil {
		t.Errorf("--plan-only did not keep the plan file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, stack.OutputsFile)); !os.IsNotExist(err) {
		t.Errorf("--plan-only wrote outputs.json")
	}

	// provision: apply, then outputs.json for the later jobs.
	start = time.Now()
	var applied provisionResult
	if code, stderr := runJSON(t, &applied, provision...); code != ExitOK {
		t.Fatalf("provision: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("provision (init + plan + apply of %d resources): %s", applied.Plan.Add, time.Since(start).Round(time.Second))
	o, err := stack.ReadOutputs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if o.StackName != name || o.Region != localstack.Region || o.Cluster != name || o.Service != name ||
		o.ContainerName != "app" || o.TaskFamily != name || o.LogGroup != "/ecs/"+name ||
		!strings.HasPrefix(o.URL, "http://") || !strings.Contains(o.URL, o.ALBDNSName) || o.ALBDNSName == "" {
		t.Errorf("outputs.json = %+v", o)
	}
	if applied.Outputs == nil || !reflect.DeepEqual(*applied.Outputs, newOutputsResult(o)) {
		t.Errorf("JSON result outputs %+v differ from outputs.json %+v", applied.Outputs, o)
	}

	// provision again: the stack already matches.
	start = time.Now()
	var again provisionResult
	if code, stderr := runJSON(t, &again, provision...); code != ExitOK {
		t.Fatalf("second provision: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("provision again (no changes): %s", time.Since(start).Round(time.Second))
	if again.Plan == nil || again.Plan.Add != 0 || again.Plan.Change != 0 || again.Plan.Destroy != 0 {
		t.Errorf("second provision planned %+v, want 0/0/0", again.Plan)
	}

	// destroy from the stack directory, as the orb's destroy job does.
	start = time.Now()
	var destroyed destroyResult
	if code, stderr := runJSON(t, &destroyed, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("destroy (%d resources, then leftover check): %s", destroyed.Destroyed, time.Since(start).Round(time.Second))
	if destroyed.Destroyed < 25 || destroyed.NothingToDestroy || len(destroyed.Leftovers) != 0 {
		t.Errorf("destroy result = %+v", destroyed)
	}
	if _, err := os.Stat(filepath.Join(dir, stack.OutputsFile)); !os.IsNotExist(err) {
		t.Errorf("destroy left outputs.json pointing at a gone stack")
	}

	// destroy again: exit 0, nothing left.
	code, stdout, stderr := run(t, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary)
	if code != ExitOK || !strings.Contains(stdout, "nothing left to destroy") {
		t.Errorf("second destroy: exit %d, stdout %q\n%s", code, stdout, localstack.Tail(stderr))
	}

	// And the AWS APIs agree.
	left, err := leftover.NewChecker(localstack.AWSConfig(t), nil).Find(t.Context(), name)
	if err != nil || len(left) != 0 {
		t.Errorf("leftovers after destroy: %v, %v", left, err)
	}
}

// testS3StateLock keeps state in S3 (moto) with a lockfile: a lock
// held by another run stops provision with exit 1 naming the lock and its
// holder; --force-unlock with that ID releases it.
func testS3StateLock(t *testing.T, tools localstack.Tools) {
	ctx := t.Context()
	name := localstack.UniqueName(t, "s3")
	bucket := name + "-state"
	s3c := s3.NewFromConfig(localstack.AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "stack")
	args := []string{"provision", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary,
		"--state-backend", "s3", "--state-bucket", bucket, "--plan-only"}

	if code, _, stderr := run(t, args...); code != ExitOK {
		t.Fatalf("plan with S3 state: exit %d\n%s", code, localstack.Tail(stderr))
	}

	const lockID = "0f0e0d0c-1111-2222-3333-444455556666"
	key := "graviton-cd/" + name + "/terraform.tfstate"
	info := `{"ID":"` + lockID + `","Operation":"OperationTypeApply","Info":"","Who":"circleci@job-41","Version":"1.11.4","Created":"2026-11-26T03:00:00Z","Path":"` + bucket + "/" + key + `"}`
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".tflock"), Body: strings.NewReader(info)}); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, args...)
	if code != ExitFailed {
		t.Fatalf("plan under a held lock: exit %d, want %d\n%s", code, ExitFailed, localstack.Tail(stderr))
	}
	for _, want := range []string{"state is locked", "lock ID " + lockID, "circleci@job-41", "--force-unlock " + lockID} {
		if !strings.Contains(stderr, want) {
			t.Errorf("lock error does not say %q:\n%s", want, localstack.Tail(stderr))
		}
	}

	if code, _, stderr := run(t, append(args, "--force-unlock", lockID)...); code != ExitOK {
		t.Fatalf("plan with --force-unlock: exit %d\n%s", code, localstack.Tail(stderr))
	}
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key + ".tflock")}); err == nil {
		t.Error("the lock file is still there after --force-unlock")
	}
}

// testDestroyAfterHalfFailedProvision: provision stops part way (its job is
// cancelled while the load balancer is being created; state in S3, the
// default), and destroy --stack-dir still removes everything that was
// created, although outputs.json was never written. This is what the orb's
// destroy_on_fail does after a cancelled or failed provision. (A squatting
// resource no longer fails an apply half way: provision refuses it before
// anything is created, see the ownership tests.)
func testDestroyAfterHalfFailedProvision(t *testing.T, tools localstack.Tools) {
	name := localstack.UniqueName(t, "hf")
	dir := filepath.Join(t.TempDir(), "stack")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &signalWriter{marker: "aws_lb.this: Creating...", seen: make(chan struct{})}
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- RunIO(ctx, []string{"graviton-cd", "provision", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary}, io.Discard, stderr)
	}()
	select {
	case <-stderr.seen:
	case code := <-done:
		t.Fatalf("provision ended (exit %d) before the load balancer was being created\n%s", code, localstack.Tail(stderr.String()))
	case <-time.After(10 * time.Minute):
		t.Fatal("the load balancer was never created")
	}
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(terraform.GracefulStop + 30*time.Second):
		t.Fatal("provision did not stop after the interrupt")
	}
	if code != ExitFailed {
		t.Fatalf("cancelled provision: exit %d, want %d\n%s", code, ExitFailed, localstack.Tail(stderr.String()))
	}
	t.Logf("half-done provision: %s", time.Since(start).Round(time.Second))
	if _, err := os.Stat(filepath.Join(dir, stack.OutputsFile)); !os.IsNotExist(err) {
		t.Fatal("a failed provision wrote outputs.json")
	}

	start = time.Now()
	var destroyed destroyResult
	if code, stderr := runJSON(t, &destroyed, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("destroy after a failed provision: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("destroy of %d resources left by the failed provision: %s", destroyed.Destroyed, time.Since(start).Round(time.Second))
	if destroyed.Destroyed == 0 || len(destroyed.Leftovers) != 0 {
		t.Errorf("destroy result = %+v", destroyed)
	}
}

// signalWriter collects output and closes seen once it holds marker.
type signalWriter struct {
	mu     sync.Mutex
	buf    strings.Builder
	marker string
	seen   chan struct{}
	once   sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// testInterruptedMidApply cancels provision while terraform creates
// the load balancer, as a cancelled CI job's SIGTERM does: terraform gets
// an interrupt, saves state and releases the lock; a rerun converges and
// destroy cleans up.
func testInterruptedMidApply(t *testing.T, tools localstack.Tools) {
	name := localstack.UniqueName(t, "ir")
	dir := filepath.Join(t.TempDir(), "stack")
	args := []string{"graviton-cd", "provision", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary, "--state-backend", "local"}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stderr := &signalWriter{marker: "aws_lb.this: Creating...", seen: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- RunIO(ctx, args, io.Discard, stderr) }()
	select {
	case <-stderr.seen:
	case code := <-done:
		t.Fatalf("provision ended (exit %d) before the load balancer was being created\n%s", code, localstack.Tail(stderr.String()))
	case <-time.After(10 * time.Minute):
		t.Fatal("the load balancer was never created")
	}
	cancel()
	start := time.Now()
	var code int
	select {
	case code = <-done:
	case <-time.After(terraform.GracefulStop + 30*time.Second):
		t.Fatal("provision did not stop after the interrupt")
	}
	t.Logf("provision stopped %s after the interrupt", time.Since(start).Round(time.Second))
	if code != ExitFailed || !strings.Contains(stderr.String(), "interrupted because the job was cancelled") {
		t.Fatalf("interrupted provision: exit %d\n%s", code, localstack.Tail(stderr.String()))
	}
	if _, err := os.Stat(filepath.Join(dir, ".terraform.tfstate.lock.info")); !os.IsNotExist(err) {
		t.Errorf("the state lock was not released: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "terraform.tfstate")); err != nil || fi.Size() == 0 {
		t.Errorf("no state saved after the interrupt: %v", err)
	}

	if code, _, stderr := run(t, args[1:]...); code != ExitOK {
		t.Fatalf("rerun after the interrupt: exit %d\n%s", code, localstack.Tail(stderr))
	}
	var again provisionResult
	if code, stderr := runJSON(t, &again, args[1:]...); code != ExitOK || again.Plan == nil || again.Plan.Add+again.Plan.Change+again.Plan.Destroy != 0 {
		t.Errorf("third provision: exit %d, plan %+v; want no changes\n%s", code, again.Plan, localstack.Tail(stderr))
	}
	if code, _, stderr := run(t, "destroy", "--stack-dir", dir, "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("destroy: exit %d\n%s", code, localstack.Tail(stderr))
	}
}

// testDestroyByFlagsAbsent: destroy given a name instead of --stack-dir
// finds no state and nothing tagged, runs no terraform, and exits 0.
func testDestroyByFlagsAbsent(t *testing.T, tools localstack.Tools) {
	name := localstack.UniqueName(t, "df")
	dir := filepath.Join(t.TempDir(), "stack")
	code, stdout, stderr := run(t, "destroy", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary)
	if code != ExitOK || !strings.Contains(stdout, "nothing left to destroy") {
		t.Fatalf("destroy by flags: exit %d, stdout %q\n%s", code, stdout, localstack.Tail(stderr))
	}
}

// testDestroyListsLeftovers: something tagged with the stack that its state
// does not hold (created by hand, or left by a lost state) makes destroy
// list it as not owned, leave it alone, and exit 1.
func testDestroyListsLeftovers(t *testing.T, tools localstack.Tools) {
	ctx := t.Context()
	name := localstack.UniqueName(t, "lf")
	ec2c := ec2.NewFromConfig(localstack.AWSConfig(t))
	vpc, err := ec2c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.77.0.0/16"), TagSpecifications: []ec2types.TagSpecification{{
		ResourceType: ec2types.ResourceTypeVpc, Tags: []ec2types.Tag{{Key: aws.String("graviton-cd:stack"), Value: aws.String(name)}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = ec2c.DeleteVpc(context.Background(), &ec2.DeleteVpcInput{VpcId: vpc.Vpc.VpcId}) })

	dir := filepath.Join(t.TempDir(), "stack")
	code, _, stderr := run(t, "destroy", "--name", name, "--dir", dir, "--terraform-binary", tools.Binary)
	want := "ec2 vpc " + aws.ToString(vpc.Vpc.VpcId)
	if code != ExitFailed || !strings.Contains(stderr, "1 resources tagged graviton-cd:stack="+name+" exist; they are not owned by this state") || !strings.Contains(stderr, want) {
		t.Errorf("destroy with a leftover: exit %d, want %d listing %q\n%s", code, ExitFailed, want, localstack.Tail(stderr))
	}
	if _, err := ec2c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{aws.ToString(vpc.Vpc.VpcId)}}); err != nil {
		t.Errorf("destroy touched a VPC its state does not hold: %v", err)
	}
}
