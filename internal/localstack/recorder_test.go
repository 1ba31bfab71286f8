package localstack_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/graviton-cd/graviton-cd/internal/localstack"
)

func TestRecorderNamesJSONAndQueryActions(t *testing.T) {
	rec := localstack.Record(t)
	cfg := localstack.AWSConfig(t)
	cfg.BaseEndpoint = aws.String(rec.URL)

	if _, err := ecs.NewFromConfig(cfg).ListClusters(t.Context(), &ecs.ListClustersInput{}); err != nil {
		t.Fatalf("list clusters through the recorder: %v", err)
	}
	if _, err := ec2.NewFromConfig(cfg).DescribeVpcs(t.Context(), &ec2.DescribeVpcsInput{}); err != nil {
		t.Fatalf("describe vpcs through the recorder: %v", err)
	}
	got := rec.Actions()
	for _, want := range []string{"ecs:ListClusters", "ec2:DescribeVpcs"} {
		if !slices.Contains(got, want) {
			t.Errorf("recorded %v, missing %s", got, want)
		}
	}
}
