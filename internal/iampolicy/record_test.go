package iampolicy_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/graviton-cd/graviton-cd/internal/cli"
	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// graviton runs the binary's command line in-process, with debug logging,
// and fails the test if any marker secret of markSecrets shows up anywhere in
// what it printed, Terraform's streamed output included (issue 8: secrets).
func graviton(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.RunIO(t.Context(), append([]string{"graviton-cd", "--log-level", "debug"}, args...), &stdout, &stderr)
	out := stdout.String() + stderr.String()
	for name, v := range markerSecrets {
		if strings.Contains(out, v) {
			t.Errorf("%s leaked into the output of %v", name, args)
		}
	}
	return code, out
}

// markerSecrets are set by recordingEnv as the credentials and secret
// variables of every run in this file; none may ever be printed.
var markerSecrets = map[string]string{
	"AWS_SECRET_ACCESS_KEY": "gcd-marker-secret-access-key-7f3a",
	"AWS_SESSION_TOKEN":     "gcd-marker-session-token-91bc",
	"MY_REGISTRY_PASSWORD":  "gcd-marker-env-var-name-secret-5d2e",
}

// recordingEnv points this test's AWS SDK and Terraform at moto through rec,
// with the local stack's test credentials.
func recordingEnv(t *testing.T, rec *localstack.Recorder) {
	t.Helper()
	localstack.SetAWSEnv(t)
	t.Setenv("AWS_ENDPOINT_URL", rec.URL)
	// moto checks no signatures, so marker values work as credentials.
	for k, v := range markerSecrets {
		t.Setenv(k, v)
	}
	t.Setenv("GRAVITON_CD_SECRET_ENV_VARS", "MY_REGISTRY_PASSWORD")
	for _, k := range []string{"GRAVITON_CD_REGION", "GRAVITON_CD_ENDPOINT_URL", "GRAVITON_CD_TERRAFORM_BINARY"} {
		t.Setenv(k, "")
	}
}

// deniedAndTolerated are actions a caller makes that the policy leaves out
// on purpose, because the caller goes on when they are denied.
var deniedAndTolerated = map[string]string{
	// The AWS provider learns the account ID by trying iam:GetUser first
	// and, when it is denied (or the credentials are a role's), moving on to
	// sts:GetCallerIdentity, which needs no permission.
	"iam:GetUser": "the AWS provider's account ID lookup",
}

// checkCovered fails for every recorded action that the policy for steps
// does not allow (unless its denial is tolerated), and logs what was
// recorded for the record.
func checkCovered(t *testing.T, what string, rec *localstack.Recorder, steps ...iampolicy.Step) []string {
	t.Helper()
	got := rec.Actions()
	if len(got) == 0 {
		t.Fatalf("%s: the recorder saw no AWS call; is AWS_ENDPOINT_URL reaching it?", what)
	}
	t.Logf("%s called %d actions: %s", what, len(got), strings.Join(got, " "))
	policy := iampolicy.Policy(iampolicy.Options{Steps: steps})
	for _, a := range got {
		if why, ok := deniedAndTolerated[a]; ok && !iampolicy.Allows(policy, a) {
			t.Logf("%s called %s, which the policy leaves out: %s goes on without it", what, a, why)
			continue
		}
		if !iampolicy.Allows(policy, a) {
			t.Errorf("%s called %s, which the policy for %v does not allow", what, a, steps)
		}
	}
	return got
}

// TestPolicyCoversDeployAgainstMoto runs deploy for real against moto
// through the recording proxy: once with --no-wait (register + update), once
// following the deployment until its timeout with --rollback-on-failure
// (moto never completes a rollout), which adds the polling and rollback calls.
func TestPolicyCoversDeployAgainstMoto(t *testing.T) {
	rec := localstack.Record(t)
	// The service is set up around the recorder: only deploy's calls count.
	client := ecs.NewFromConfig(localstack.AWSConfig(t))
	ctx := t.Context()
	cluster := localstack.UniqueName(t, "iam")
	// Tagged: moto's tagging API fails every GetResources while any ECS
	// cluster without tags exists, which would break the leftover check of
	// every destroy sharing this moto.
	stackTag := []ecstypes.Tag{{Key: aws.String(iampolicy.StackTagKey), Value: aws.String(cluster)}}
	if _, err := client.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(cluster), Tags: stackTag}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Context.Background: t.Context is already cancelled in Cleanup.
		ctx := context.Background()
		_, _ = client.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(cluster), Service: aws.String("web"), Force: aws.Bool(true)})
		_, _ = client.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(cluster)})
	})
	td, err := client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:          aws.String(cluster),
		RuntimePlatform: &ecstypes.RuntimePlatform{CpuArchitecture: ecstypes.CPUArchitectureArm64, OperatingSystemFamily: ecstypes.OSFamilyLinux},
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("example.com/web:1"), Memory: aws.Int32(128),
			LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
				"awslogs-group": "/ecs/" + cluster, "awslogs-region": localstack.Region, "awslogs-stream-prefix": "app"}}}},
		Tags: stackTag,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(cluster), ServiceName: aws.String("web"),
		TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), Tags: stackTag}); err != nil {
		t.Fatal(err)
	}
	recordingEnv(t, rec)

	base := []string{"deploy", "--cluster", cluster, "--service", "web", "--check-image-arch=false"}
	if code, out := graviton(t, append(base, "--image", "example.com/web:2", "--no-wait")...); code != cli.ExitOK {
		t.Fatalf("deploy --no-wait: exit %d\n%s", code, out)
	}
	code, out := graviton(t, append(base, "--image", "example.com/web:3", "--timeout", "3s", "--rollback-on-failure")...)
	if code != cli.ExitFailed {
		t.Fatalf("deploy against moto (which never completes a rollout) with --timeout 3s: exit %d, want %d\n%s", code, cli.ExitFailed, out)
	}
	got := checkCovered(t, "deploy", rec, iampolicy.Deploy)
	for _, want := range []string{"ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:UpdateService"} {
		if !strings.Contains(strings.Join(got, " "), want) {
			t.Errorf("deploy never called %s: the recording does not show the path it should", want)
		}
	}
}

// TestPolicyCoversProvisionDeployDestroyAgainstMoto runs the whole life of a
// stack through real Terraform, the AWS provider and moto, with its state in
// S3 (lockfile locking), each step through its own recorder. Each step's
// calls are checked against the policy for that step alone (what
// `iam-policy --for <step>` prints); the S3 backend's calls also by object,
// against the policy scoped to the bucket and the stack.
func TestPolicyCoversProvisionDeployDestroyAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("a full apply and destroy against moto takes minutes")
	}
	localstack.Moto(t)
	tools := localstack.Terraform(t)
	t.Setenv("TF_CLI_CONFIG_FILE", tools.CLIConfigFile)
	name := localstack.UniqueName(t, "iam")
	bucket := name + "-state"
	s3c := s3.NewFromConfig(localstack.AWSConfig(t), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("graviton-cd/" + name + "/terraform.tfstate")})
		_, _ = s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})
	dir := filepath.Join(t.TempDir(), "stack")
	// destroy renders the module again from these flags, so its provider
	// talks to destroy's recorder, not provision's.
	stackFlags := []string{"--name", name, "--dir", dir, "--terraform-binary", tools.Binary, "--region", localstack.Region,
		"--state-backend", "s3", "--state-bucket", bucket}
	scoped := iampolicy.Options{Stack: name, AccountID: "123456789012", Region: localstack.Region, StateBucket: bucket}

	s3rec := recordS3(t)
	rec := recordStep(t, s3rec)
	start := time.Now()
	if code, out := graviton(t, append(append([]string{"provision"}, stackFlags...), "--tags", "team=web,tier=frontend")...); code != cli.ExitOK {
		t.Fatalf("provision: exit %d\n%s", code, localstack.Tail(out))
	}
	t.Logf("provision took %s", time.Since(start).Round(time.Second))
	checkCovered(t, "provision", rec, iampolicy.Provision)
	checkS3Covered(t, "provision", s3rec, scoped, iampolicy.Provision)

	// A second provision that changes settings in place exercises the
	// provider's update calls: a tag changed and one removed on every
	// resource, a new launch template version, group sizes and the target
	// group's health check.
	rec = recordStep(t, s3rec)
	changed := append(append([]string{"provision"}, stackFlags...),
		"--tags", "team=platform", "--instance-type", "t4g.medium", "--max-size", "3", "--health-check-path", "/healthz")
	if code, out := graviton(t, changed...); code != cli.ExitOK {
		t.Fatalf("provision with changed settings: exit %d\n%s", code, localstack.Tail(out))
	}
	checkCovered(t, "provision (update)", rec, iampolicy.Provision)
	checkS3Covered(t, "provision (update)", s3rec, scoped, iampolicy.Provision)

	rec = recordStep(t, s3rec)
	if code, out := graviton(t, "deploy", "--stack-dir", dir, "--image", "public.ecr.aws/nginx/nginx:mainline-alpine", "--check-image-arch=false", "--no-wait"); code != cli.ExitOK {
		t.Fatalf("deploy: exit %d\n%s", code, localstack.Tail(out))
	}
	checkCovered(t, "deploy", rec, iampolicy.Deploy)

	rec = recordStep(t, s3rec)
	start = time.Now()
	code, out := graviton(t, append([]string{"destroy"}, stackFlags...)...)
	if code != cli.ExitOK {
		hint := ""
		if strings.Contains(out, "GetResources") && strings.Contains(out, "StatusCode: 500") {
			hint = "\n(moto's GetResources fails for everyone while any ECS cluster without tags exists in it: " +
				"a test sharing this moto created one; tag the clusters tests create)"
		}
		t.Fatalf("destroy: exit %d\n%s%s", code, localstack.Tail(out), hint)
	}
	t.Logf("destroy took %s", time.Since(start).Round(time.Second))
	got := checkCovered(t, "destroy", rec, iampolicy.Destroy)
	for _, want := range []string{"tag:GetResources", "ecs:DeregisterTaskDefinition", "ec2:DescribeInstances"} {
		if !slices.Contains(got, want) {
			t.Errorf("destroy never called %s: the recording does not show the path it should", want)
		}
	}
	checkS3Covered(t, "destroy", s3rec, scoped, iampolicy.Destroy)
}

// recordStep puts a fresh localstack recorder between this test's AWS calls
// and moto, behind s3rec, which names the S3 requests on the way.
func recordStep(t *testing.T, s3rec *s3Recorder) *localstack.Recorder {
	t.Helper()
	rec := localstack.Record(t)
	s3rec.forwardTo(t, rec.URL)
	recordingEnv(t, rec)
	t.Setenv("AWS_ENDPOINT_URL", s3rec.URL)
	return rec
}

// checkS3Covered fails for every S3 call of the state backend that the
// policy for steps, scoped by o, does not allow on that object, and for a
// step that never wrote the state or took the lock.
func checkS3Covered(t *testing.T, what string, r *s3Recorder, o iampolicy.Options, steps ...iampolicy.Step) {
	t.Helper()
	o.Steps = steps
	policy := iampolicy.Policy(o)
	calls := r.Calls()
	seen := map[s3Call]bool{}
	for _, c := range calls {
		if seen[c] {
			continue
		}
		seen[c] = true
		t.Logf("%s: the S3 backend called %s on %s", what, c.action, c.arn)
		if !iampolicy.AllowsOn(policy, c.action, c.arn) {
			t.Errorf("%s: the S3 backend called %s on %s, which the policy for %v does not allow there", what, c.action, c.arn, steps)
		}
	}
	for _, want := range []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
		if !slices.ContainsFunc(calls, func(c s3Call) bool { return c.action == want }) {
			t.Errorf("%s: the S3 backend never called %s: the recording does not show state and locking", what, want)
		}
	}
}

// s3Call is one S3 request of the Terraform S3 backend, as IAM sees it.
type s3Call struct{ action, arn string }

// s3Recorder is a proxy that names S3's REST requests as IAM actions and
// resources (localstack.Recorder names only the actions of services that
// put them in a header or the query) and passes every request on. Its URL
// stays the same for the whole test because Terraform keeps the backend's
// endpoint in .terraform and refuses a changed one; each step points it at
// that step's recorder with forwardTo.
type s3Recorder struct {
	URL   string
	mu    sync.Mutex
	next  *url.URL
	calls []s3Call
}

func recordS3(t *testing.T) *s3Recorder {
	t.Helper()
	r := &s3Recorder{}
	proxy := &httputil.ReverseProxy{Director: func(req *http.Request) {
		r.mu.Lock()
		next := r.next
		r.mu.Unlock()
		req.URL.Scheme, req.URL.Host = next.Scheme, next.Host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.Header.Get("Authorization"), "/s3/aws4_request") {
			r.mu.Lock()
			r.calls = append(r.calls, s3CallOf(req))
			r.mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// forwardTo sends the requests that follow to next and forgets the calls
// recorded so far.
func (r *s3Recorder) forwardTo(t *testing.T, next string) {
	t.Helper()
	u, err := url.Parse(next)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next, r.calls = u, nil
}

// Calls returns the calls recorded since the last forwardTo.
func (r *s3Recorder) Calls() []s3Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// s3CallOf maps a path-style request (/bucket or /bucket/key) to the action
// IAM authorizes: HEAD and GET of an object are GetObject, a GET of the
// bucket is ListBucket.
func s3CallOf(req *http.Request) s3Call {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if key == "" {
		return s3Call{"s3:ListBucket", "arn:aws:s3:::" + bucket}
	}
	arn := "arn:aws:s3:::" + bucket + "/" + key
	switch req.Method {
	case http.MethodPut:
		return s3Call{"s3:PutObject", arn}
	case http.MethodDelete:
		return s3Call{"s3:DeleteObject", arn}
	}
	return s3Call{"s3:GetObject", arn}
}
