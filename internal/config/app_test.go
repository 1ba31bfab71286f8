package config

import (
	"strings"
	"testing"
)

// appBase is valid input for the app checks; each case edits it.
func appBase(t *testing.T) ProvisionInput {
	return ProvisionInput{
		Name: "demo", Region: "us-east-1", Dir: t.TempDir(), InstanceType: DefaultInstanceType,
		MinSize: 1, MaxSize: 2, DesiredCapacity: 1, Image: DefaultImage, ContainerName: "app",
		ContainerPort: 80, DesiredCount: 1, CPU: 256, Memory: 512, HealthCheckPath: "/", LogRetentionDays: 30,
	}
}

const (
	testSSM = "arn:aws:ssm:us-east-1:123456789012:parameter/app/db"
	testSM  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/token-AbCdEf"
)

func TestAppSettingsParsed(t *testing.T) {
	in := appBase(t)
	in.Env = []string{"B=2", "A=x", "y", ""}
	in.Secrets = []string{"TOKEN=" + testSM + ":user::", "DB=" + testSSM, " "}
	in.MaxCount = 3
	p, err := ValidateProvision(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Env) != 2 || p.Env[0] != (EnvVar{"A", "x,y"}) || p.Env[1] != (EnvVar{"B", "2"}) {
		t.Errorf("env = %+v, want A=x,y and B=2 sorted", p.Env)
	}
	want := []Secret{
		{Name: "DB", ARN: testSSM, Resource: testSSM, Kind: SecretKindSSM},
		{Name: "TOKEN", ARN: testSM + ":user::", Resource: testSM, Kind: SecretKindSecretsManager},
	}
	if len(p.Secrets) != 2 || p.Secrets[0] != want[0] || p.Secrets[1] != want[1] {
		t.Errorf("secrets = %+v, want %+v", p.Secrets, want)
	}
	if !p.AutoScaling() || p.MinCount != 1 || p.CPUTarget != DefaultCPUTarget {
		t.Errorf("auto scaling = min %d max %d target %d, want 1 3 %d", p.MinCount, p.MaxCount, p.CPUTarget, DefaultCPUTarget)
	}
	if p.Account() != "123456789012" {
		t.Errorf("account = %q", p.Account())
	}
}

// TestSecretValueNeverEchoed: a value given where an ARN belongs is not
// repeated in the error (it would land in a CI log).
func TestSecretValueNeverEchoed(t *testing.T) {
	for _, item := range []string{"DB=s3cr3t-value", "s3cr3t-value", "DB=arn-ish-s3cr3t-value"} {
		in := appBase(t)
		in.Secrets = []string{item}
		_, err := ValidateProvision(in)
		if !IsUsage(err) {
			t.Fatalf("%q: err = %v, want a usage error", item, err)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%q: the error echoes the value: %v", item, err)
		}
	}
}

func TestAppSettingsRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(*ProvisionInput)
		flag string
		msg  string
	}{
		{"ssm arn malformed", func(in *ProvisionInput) { in.Secrets = []string{"X=arn:aws:ssm:us-east-1:123456789012:parameter"} }, "secret", "not an SSM parameter ARN"},
		{"secrets manager arn malformed", func(in *ProvisionInput) {
			in.Secrets = []string{"X=arn:aws:secretsmanager:us-east-1:123456789012:secret:"}
		}, "secret", "not a Secrets Manager secret ARN"},
		{"kms arn malformed", func(in *ProvisionInput) {
			in.Secrets, in.SecretsKMSKeyARN = []string{"X=" + testSSM}, "arn:aws:kms:us-east-1:123456789012:key/nope"
		}, "secrets-kms-key-arn", "not a KMS key ARN"},
		{"policy arn malformed", func(in *ProvisionInput) { in.TaskRolePolicyARNs = []string{"arn:aws:iam::123456789012:policy/"} }, "task-role-policy-arn", "not an IAM policy ARN"},
		{"certificate arn malformed", func(in *ProvisionInput) { in.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate" }, "certificate-arn", "not an ACM certificate ARN"},
		{"certificate not acm", func(in *ProvisionInput) {
			in.CertificateARN = "arn:aws:iam::123456789012:server-certificate/app"
		}, "certificate-arn", "not an ACM certificate ARN"},
		{"secret in another region", func(in *ProvisionInput) {
			in.Secrets = []string{"X=arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/token-AbCdEf"}
		}, "secret", "copy it to us-east-1"},
		{"secret in another partition", func(in *ProvisionInput) {
			in.Secrets = []string{"X=arn:aws-cn:ssm:cn-north-1:123456789012:parameter/app/db"}
		}, "secret", "partition aws-cn"},
		{"secrets in two accounts", func(in *ProvisionInput) {
			in.Secrets = []string{"A=" + testSSM, "B=arn:aws:ssm:us-east-1:210987654321:parameter/app/db"}
		}, "secret", "its own account only"},
		{"certificate in another account", func(in *ProvisionInput) {
			in.Secrets = []string{"A=" + testSSM}
			in.CertificateARN = "arn:aws:acm:us-east-1:210987654321:certificate/01234567-89ab-cdef-0123-456789abcdef"
		}, "certificate-arn", "in account 210987654321"},
		{"max-count below desired-count", func(in *ProvisionInput) { in.DesiredCount, in.MaxCount = 3, 2 }, "max-count", "below --desired-count 3"},
		{"max-count too big", func(in *ProvisionInput) { in.MaxCount = 101 }, "max-count", "1-100"},
		{"max-count beyond max-size", func(in *ProvisionInput) { in.MaxCount = 10 }, "max-count", "use --max-size 6 or"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := appBase(t)
			tc.edit(&in)
			_, err := ValidateProvision(in)
			var u *UsageError
			if !IsUsage(err) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			u = err.(*UsageError)
			if u.Flag != tc.flag || !strings.Contains(u.Msg, tc.msg) {
				t.Errorf("err = %v, want --%s saying %q", err, tc.flag, tc.msg)
			}
		})
	}
}

func TestCheckAccount(t *testing.T) {
	in := appBase(t)
	in.Secrets = []string{"X=" + testSSM}
	p, err := ValidateProvision(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckAccount("123456789012"); err != nil {
		t.Errorf("same account refused: %v", err)
	}
	if err := p.CheckAccount("210987654321"); !IsUsage(err) || !strings.Contains(err.Error(), "credentials are of account 210987654321") {
		t.Errorf("other account: %v", err)
	}
	none, _ := ValidateProvision(appBase(t))
	if err := none.CheckAccount("210987654321"); err != nil {
		t.Errorf("no ARNs, yet refused: %v", err)
	}
}
