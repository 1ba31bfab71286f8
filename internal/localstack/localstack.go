// Package localstack gives tests the local real stack: moto_server on
// 127.0.0.1, a Terraform CLI and the AWS provider from a filesystem mirror.
// `make test` (.ci/with-stack.sh) provides them through environment variables.
// Without them a test is skipped, except under CI, where a missing stack is a
// failure: CI must never pass by testing nothing.
package localstack

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Environment variables set by .ci/with-stack.sh.
const (
	EnvMotoURL   = "GRAVITON_CD_TEST_MOTO_URL"
	EnvTerraform = "GRAVITON_CD_TEST_TERRAFORM"
	EnvCLIConfig = "TF_CLI_CONFIG_FILE"
)

// Region is the region every local-stack test uses.
const Region = "us-east-1"

// Tools are the Terraform CLI and its offline provider configuration.
type Tools struct {
	Binary        string // terraform or tofu
	CLIConfigFile string // provider_installation pointing at the mirror
}

// Moto returns moto's endpoint URL, e.g. http://127.0.0.1:5055.
func Moto(t testing.TB) string {
	t.Helper()
	return require(t, EnvMotoURL)
}

// Terraform returns the Terraform CLI and mirror settings.
func Terraform(t testing.TB) Tools {
	t.Helper()
	return Tools{
		Binary:        require(t, EnvTerraform),
		CLIConfigFile: require(t, EnvCLIConfig),
	}
}

// AWSConfig returns an SDK config aimed at moto with its test credentials.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	url := Moto(t)
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
	}
}

// SetAWSEnv points the AWS SDK and Terraform of this test (and its children)
// at moto through the standard variables, and isolates them from the
// machine's own AWS configuration.
func SetAWSEnv(t *testing.T) {
	t.Helper()
	url := Moto(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_DEFAULT_REGION", Region)
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: under CI the local stack is required; run through `make test`", name)
	}
	t.Skipf("%s is not set: run `make test` to use the local stack (moto, Terraform, provider mirror)", name)
	return ""
}

// FindTerraform returns a Terraform CLI for tests that need only the CLI (no
// provider): $GRAVITON_CD_TEST_TERRAFORM, else terraform or tofu on PATH, else
// "".
func FindTerraform() string {
	if b := os.Getenv(EnvTerraform); b != "" {
		return b
	}
	for _, n := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// UniqueName gives each run its own stack (or cluster) name, prefix plus eight
// random hex digits, so that packages sharing one moto never collide. Keep the
// prefix short: a stack name has at most 20 characters.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b)
}

// Tail keeps the last 40 lines of a long log (Terraform's, say) for a test's
// failure message.
func Tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}
