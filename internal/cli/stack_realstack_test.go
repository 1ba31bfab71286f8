package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
	"github.com/graviton-cd/graviton-cd/internal/stack"
)

// motoAccount is the account moto answers sts:GetCallerIdentity with.
const motoAccount = "123456789012"

// testFoundByName is the life of a stack with no state flags and no
// workspace: provision creates and uses the default state bucket (versioned,
// encrypted, private, TLS-only); a second provision from an empty directory
// on another path plans no change; deploy, status and destroy find the
// stack by --name alone; a destroy pointed at an empty state changes nothing
// and exits 1, and --only-if-ephemeral leaves this long-lived stack intact.
func testFoundByName(t *testing.T, tools localstack.Tools) {
	ctx := t.Context()
	cfg := localstack.AWSConfig(t)
	name := localstack.UniqueName(t, "fn")
	tf := []string{"--terraform-binary", tools.Binary}

	start := time.Now()
	var first provisionResult
	if code, stderr := runJSON(t, &first, append([]string{"provision", "--name", name, "--dir", filepath.Join(t.TempDir(), "a")}, tf...)...); code != ExitOK {
		t.Fatalf("provision: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("provision with the default S3 state: %s", time.Since(start).Round(time.Second))

	bucket := stack.DefaultStateBucket(motoAccount, localstack.Region)
	checkStateBucket(t, cfg, bucket)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, key := range []string{"graviton-cd/" + name + "/terraform.tfstate", "graviton-cd/" + name + "/stack.json"} {
		if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Errorf("s3://%s/%s: %v", bucket, key, err)
		}
	}
	rec := readRecord(t, s3c, bucket, name)
	if len(rec.StackID) != 16 || rec.Ephemeral || rec.Name != name || aws.ToString(first.StackID) != rec.StackID ||
		aws.ToString(first.State) != "s3://"+bucket+"/graviton-cd/"+name+"/terraform.tfstate" {
		t.Errorf("stack record = %+v, provision result %+v; want a 16-hex stack_id, not ephemeral, state in the default bucket", rec, first)
	}

	// From an empty directory on another path: the same stack, no change.
	start = time.Now()
	var again provisionResult
	if code, stderr := runJSON(t, &again, append([]string{"provision", "--name", name, "--dir", filepath.Join(t.TempDir(), "elsewhere", "b")}, tf...)...); code != ExitOK {
		t.Fatalf("provision from an empty directory: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("provision again from an empty directory: %s", time.Since(start).Round(time.Second))
	if again.Plan == nil || again.Plan.Add+again.Plan.Change+again.Plan.Destroy != 0 {
		t.Errorf("provision from an empty directory planned %+v, want no change", again.Plan)
	}
	if rec2 := readRecord(t, s3c, bucket, name); rec2.StackID != rec.StackID {
		t.Errorf("stack ID changed from %s to %s", rec.StackID, rec2.StackID)
	}

	// deploy and status by name alone.
	code, _, stderr := run(t, "deploy", "--name", name, "--image", "public.ecr.aws/nginx/nginx:mainline-alpine", "--check-image-arch=false", "--no-wait")
	if code != ExitOK {
		t.Fatalf("deploy --name: exit %d\n%s", code, localstack.Tail(stderr))
	}
	code, stdout, stderr := run(t, "--output", "json", "status", "--name", name)
	var rep statusResult
	if err := json.Unmarshal(resultOf(t, stdout), &rep); err != nil || (code != ExitOK && code != ExitFailed) {
		t.Fatalf("status --name: exit %d, %v\n%s\n%s", code, err, stdout, localstack.Tail(stderr))
	}
	if rep.Service.Name != name || aws.ToString(rep.Outputs.Cluster) != name || len(rep.Deployments) == 0 || rep.Steady != (code == ExitOK) {
		t.Errorf("status --name: exit %d, report %+v", code, rep)
	}
	_, text, _ := run(t, "status", "--name", name)
	t.Logf("status on moto (exit %d):\n%s", code, text)

	// Provision again after the deploy: it does not fight it.
	var afterDeploy provisionResult
	if code, stderr := runJSON(t, &afterDeploy, append([]string{"provision", "--name", name, "--dir", filepath.Join(t.TempDir(), "e")}, tf...)...); code != ExitOK {
		t.Fatalf("provision after deploy: exit %d\n%s", code, localstack.Tail(stderr))
	}
	if afterDeploy.Plan == nil || afterDeploy.Plan.Add+afterDeploy.Plan.Change+afterDeploy.Plan.Destroy != 0 {
		t.Errorf("provision after deploy planned %+v, want no change", afterDeploy.Plan)
	}

	ec2c, ecsc := ec2.NewFromConfig(cfg), ecs.NewFromConfig(cfg)
	running := func() []string { return stackInstances(t, ec2c, name) }
	active := func() []string { return activeRevisions(t, ecsc, name) }
	instances, revisions := running(), active()
	if len(instances) == 0 || len(revisions) < 2 {
		t.Fatalf("before destroy: instances %v, task definitions %v; want some, and deploy's revision", instances, revisions)
	}

	// A destroy that reads an empty state touches nothing and says so.
	code, _, stderr = run(t, "destroy", "--name", name, "--state-backend", "local", "--dir", filepath.Join(t.TempDir(), "empty"), "--terraform-binary", tools.Binary)
	if code != ExitFailed || !strings.Contains(stderr, "not owned by this state") || !strings.Contains(stderr, "ecs cluster") {
		t.Errorf("destroy with an empty state: exit %d, want 1 naming what it did not touch\n%s", code, localstack.Tail(stderr))
	}
	if got := running(); len(got) != len(instances) {
		t.Errorf("destroy with an empty state: instances %v, were %v", got, instances)
	}
	if got := active(); len(got) != len(revisions) {
		t.Errorf("destroy with an empty state: ACTIVE task definitions %v, were %v", got, revisions)
	}

	// --only-if-ephemeral on a long-lived stack: no change, exit 0, why.
	code, stdout, stderr = run(t, "destroy", "--name", name, "--only-if-ephemeral", "--dir", filepath.Join(t.TempDir(), "c"), "--terraform-binary", tools.Binary)
	if code != ExitOK || !strings.Contains(stdout, "not ephemeral, left intact") {
		t.Errorf("destroy --only-if-ephemeral of a long-lived stack: exit %d, stdout %q\n%s", code, stdout, localstack.Tail(stderr))
	}
	if got := running(); len(got) != len(instances) {
		t.Errorf("--only-if-ephemeral changed the instances: %v, were %v", got, instances)
	}

	// destroy by name from an empty directory: everything goes.
	start = time.Now()
	var destroyed destroyResult
	if code, stderr := runJSON(t, &destroyed, append([]string{"destroy", "--name", name, "--dir", filepath.Join(t.TempDir(), "d")}, tf...)...); code != ExitOK {
		t.Fatalf("destroy --name: exit %d\n%s", code, localstack.Tail(stderr))
	}
	t.Logf("destroy by name from an empty directory: %s; %+v", time.Since(start).Round(time.Second), destroyed)
	if destroyed.Destroyed < 25 || len(destroyed.Terminated) == 0 || len(destroyed.Deregistered) == 0 {
		t.Errorf("destroy --name result = %+v", destroyed)
	}
	if got, left := running(), active(); len(got) != 0 || len(left) != 0 {
		t.Errorf("after destroy: instances %v, ACTIVE task definitions %v", got, left)
	}
}

// testEphemeral: a stack provisioned with --ephemeral is fully removed by
// destroy --only-if-ephemeral, found by name from an empty directory.
func testEphemeral(t *testing.T, tools localstack.Tools) {
	cfg := localstack.AWSConfig(t)
	name := localstack.UniqueName(t, "ep")
	if code, _, stderr := run(t, "provision", "--name", name, "--ephemeral", "--dir", filepath.Join(t.TempDir(), "a"), "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("provision --ephemeral: exit %d\n%s", code, localstack.Tail(stderr))
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if rec := readRecord(t, s3c, stack.DefaultStateBucket(motoAccount, localstack.Region), name); !rec.Ephemeral {
		t.Errorf("stack record %+v does not say ephemeral", rec)
	}
	var destroyed destroyResult
	if code, stderr := runJSON(t, &destroyed, "destroy", "--name", name, "--only-if-ephemeral", "--dir", filepath.Join(t.TempDir(), "b"), "--terraform-binary", tools.Binary); code != ExitOK {
		t.Fatalf("destroy --only-if-ephemeral: exit %d\n%s", code, localstack.Tail(stderr))
	}
	if destroyed.SkippedNotEphemeral || destroyed.Destroyed < 25 || len(destroyed.Leftovers) != 0 {
		t.Errorf("destroy --only-if-ephemeral result = %+v", destroyed)
	}
	if got := stackInstances(t, ec2.NewFromConfig(cfg), name); len(got) != 0 {
		t.Errorf("instances left: %v", got)
	}
}

// checkStateBucket checks the default bucket's settings through the S3 API.
func checkStateBucket(t *testing.T, cfg aws.Config, bucket string) {
	t.Helper()
	ctx := t.Context()
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	v, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("bucket %s versioning: %v, %v", bucket, v, err)
	}
	enc, err := s3c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil || len(enc.ServerSideEncryptionConfiguration.Rules) == 0 {
		t.Errorf("bucket %s encryption: %v", bucket, err)
	}
	pab, err := s3c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil || !aws.ToBool(pab.PublicAccessBlockConfiguration.BlockPublicAcls) || !aws.ToBool(pab.PublicAccessBlockConfiguration.RestrictPublicBuckets) {
		t.Errorf("bucket %s public access block: %v", bucket, err)
	}
	// No TLS-only policy here: moto enforces it and speaks plain HTTP (a
	// unit test holds the policy).
	lc, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(lc.Rules) == 0 || lc.Rules[0].NoncurrentVersionExpiration == nil {
		t.Errorf("bucket %s lifecycle: %v", bucket, err)
	}
}

func readRecord(t *testing.T, s3c *s3.Client, bucket, name string) stack.Settings {
	t.Helper()
	out, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("graviton-cd/" + name + "/stack.json")})
	if err != nil {
		t.Fatalf("read stack record: %v", err)
	}
	defer out.Body.Close()
	var rec stack.Settings
	if err := json.NewDecoder(out.Body).Decode(&rec); err != nil {
		t.Fatalf("decode stack record: %v", err)
	}
	return rec
}

// stackInstances lists the stack's instances that are not terminated.
func stackInstances(t *testing.T, c *ec2.Client, name string) []string {
	t.Helper()
	out, err := c.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:graviton-cd:stack"), Values: []string{name}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
	}
	return ids
}

// activeRevisions lists the ACTIVE revisions of the stack's family.
func activeRevisions(t *testing.T, c *ecs.Client, family string) []string {
	t.Helper()
	out, err := c.ListTaskDefinitions(t.Context(), &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	return out.TaskDefinitionArns
}
