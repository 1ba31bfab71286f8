package localstack_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

// The smallest module that proves the stack: the real provider from the
// mirror, installed offline, creating and destroying a real resource in moto.
const tinyModule = `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  endpoints {
    ecs = %[1]q
    sts = %[1]q
  }
}

resource "aws_ecs_cluster" "probe" {
  name = %[2]q
  # Untagged ECS resources make moto's tagging API fail for every caller
  # (a moto bug), and tests share one moto: tag everything.
  tags = { "graviton-cd:test" = "probe" }
}

output "cluster_arn" {
  value = aws_ecs_cluster.probe.arn
}
`

func TestStackInitApplyDestroy(t *testing.T) {
	tools := localstack.Terraform(t)
	moto := localstack.Moto(t)
	ctx := t.Context()

	dir := t.TempDir()
	name := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), fmt.Appendf(nil, tinyModule, moto, name), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, err := tfexec.NewTerraform(dir, tools.Binary)
	if err != nil {
		t.Fatalf("new terraform: %v", err)
	}
	// Only the CLI config reaches terraform: no network, no machine-wide settings.
	if err := tf.SetEnv(map[string]string{"TF_CLI_CONFIG_FILE": tools.CLIConfigFile, "CHECKPOINT_DISABLE": "1"}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if err := tf.Init(ctx); err != nil {
		t.Fatalf("init (offline, from the mirror): %v", err)
	}
	t.Logf("init took %s", time.Since(start).Round(time.Millisecond))

	if err := tf.Apply(ctx); err != nil {
		t.Fatalf("apply: %v", err)
	}
	out, err := tf.Output(ctx)
	if err != nil {
		t.Fatalf("output: %v", err)
	}
	if got := string(out["cluster_arn"].Value); got == "" || got == `""` {
		t.Fatalf("cluster_arn output is empty")
	}

	client := ecs.NewFromConfig(localstack.AWSConfig(t))
	assertClusters := func(want int) {
		t.Helper()
		res, err := client.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{name}})
		if err != nil {
			t.Fatalf("describe clusters: %v", err)
		}
		active := 0
		for _, c := range res.Clusters {
			if aws.ToString(c.Status) == "ACTIVE" {
				active++
			}
		}
		if active != want {
			t.Fatalf("moto has %d ACTIVE clusters named %s, want %d", active, name, want)
		}
	}
	assertClusters(1)

	if err := tf.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	assertClusters(0)
}
