package config

import (
	"strings"
	"testing"
	"time"
)

func TestNearestGravitonType(t *testing.T) {
	cases := map[string]string{
		"t3.micro":     "t4g.micro",
		"t3a.nano":     "t4g.nano",
		"t2.8xlarge":   "t4g.2xlarge",
		"m5.large":     "m7g.large",
		"m6i.24xlarge": "m7g.24xlarge",
		"c5n.xlarge":   "c7g.xlarge",
		"r5.small":     "r7g.medium",
		"hpc6a.48xl":   "hpc7g.large",
		"inf1.xlarge":  "c7g.xlarge",
	}
	for in, want := range cases {
		if got := NearestGravitonType(in); got != want {
			t.Errorf("NearestGravitonType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckGravitonInstanceTypeAccepts(t *testing.T) {
	for _, it := range []string{"t4g.small", "a1.medium", "c6gn.16xlarge", "c7gd.metal", "m8g.48xlarge", "r6gd.large", "x2gd.xlarge", "im4gn.large", "is4gen.medium", "i4g.large", "g5g.xlarge", "hpc7g.16xlarge", "m7g.metal-48xl"} {
		if err := CheckGravitonInstanceType(it); err != nil {
			t.Errorf("%s refused: %v", it, err)
		}
	}
}

func TestParseTags(t *testing.T) {
	tags, err := ParseTags(" team = web , env=prod,empty=,evil=\"}${file(\"/etc/passwd\")}")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range tags {
		got = append(got, tg.Key+"="+tg.Value)
	}
	want := `empty=|env=prod|evil="}${file("/etc/passwd")}|team=web`
	if strings.Join(got, "|") != want {
		t.Errorf("tags = %q, want %q (sorted by key, values literal)", strings.Join(got, "|"), want)
	}
}

func TestValidateProvisionDefaults(t *testing.T) {
	p, err := ValidateProvision(ProvisionInput{
		Name: "demo", Region: "eu-west-1", Dir: t.TempDir(), InstanceType: DefaultInstanceType,
		MinSize: 1, MaxSize: 2, DesiredCapacity: 1, Image: DefaultImage, ContainerName: "app",
		ContainerPort: 80, DesiredCount: 1, CPU: 256, Memory: 512, HealthCheckPath: "/", LogRetentionDays: 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.VPCCIDR != DefaultVPCCIDR || p.NetworkMode != NetworkModeAWSVPC || p.State.Kind != BackendS3 || p.State.Bucket != "" ||
		p.TerraformVersion != DefaultTerraformVersion || p.Timeout != DefaultProvisionTimeout {
		t.Errorf("defaults not filled: %+v", p)
	}

	s3, err := ValidateProvision(ProvisionInput{
		Name: "demo", Region: "eu-west-1", Dir: t.TempDir(), InstanceType: "c7g.large",
		MinSize: 0, MaxSize: 1, DesiredCapacity: 0, Image: "registry.example.com:5000/team/app@sha256:" + strings.Repeat("a", 64), ContainerName: "app",
		ContainerPort: 8080, CPU: 1024, Memory: 2048, HealthCheckPath: "/healthz?full=1", LogRetentionDays: 7,
		StateBackend: "s3", StateBucket: "my.state-bucket", Timeout: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s3.State != (StateBackend{Kind: BackendS3, Bucket: "my.state-bucket", Key: "graviton-cd/demo/terraform.tfstate", Region: "eu-west-1"}) {
		t.Errorf("state = %+v", s3.State)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, bad := range []string{"127.0.0.1:5000", "ftp://x", "http://", "::"} {
		if err := CheckEndpoint(bad); !IsUsage(err) {
			t.Errorf("CheckEndpoint(%q) = %v, want a usage error", bad, err)
		}
	}
	if err := CheckEndpoint("http://127.0.0.1:5000"); err != nil {
		t.Errorf("good endpoint refused: %v", err)
	}
}
