package doctor

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	tagging "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
)

// servicesFor names the AWS services the steps call (graviton-cd itself and
// the Terraform AWS provider), in a fixed order.
func servicesFor(steps []iampolicy.Step) []string {
	if len(steps) == 0 {
		steps = iampolicy.Steps()
	}
	want := map[string]bool{"sts": true}
	for _, s := range steps {
		switch s {
		case iampolicy.Provision, iampolicy.Destroy:
			for _, n := range []string{"s3", "ec2", "ecs", "elasticloadbalancing", "iam", "logs", "autoscaling", "tagging"} {
				want[n] = true
			}
		case iampolicy.Deploy:
			for _, n := range []string{"ecs", "ecr", "logs"} {
				want[n] = true
			}
		case iampolicy.Status:
			for _, n := range []string{"s3", "ecs", "elasticloadbalancing"} {
				want[n] = true
			}
		case iampolicy.SmokeTest:
			want["s3"] = true
		}
	}
	var out []string
	for _, n := range []string{"sts", "s3", "ec2", "ecs", "ecr", "elasticloadbalancing", "iam", "logs", "autoscaling", "tagging"} {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// Endpoints resolves, with each service's own endpoint rules (partitions,
// global IAM, a custom endpoint), the endpoints the steps call.
func Endpoints(ctx context.Context, cfg aws.Config, steps []iampolicy.Step) []Endpoint {
	r, base := aws.String(cfg.Region), cfg.BaseEndpoint
	resolve := map[string]func() (string, error){
		"sts": func() (string, error) {
			e, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"s3": func() (string, error) {
			e, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, s3.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"ec2": func() (string, error) {
			e, err := ec2.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ec2.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"ecs": func() (string, error) {
			e, err := ecs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecs.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"ecr": func() (string, error) {
			e, err := ecr.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, ecr.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"elasticloadbalancing": func() (string, error) {
			e, err := elbv2.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, elbv2.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"iam": func() (string, error) {
			e, err := iam.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, iam.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"logs": func() (string, error) {
			e, err := cloudwatchlogs.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"autoscaling": func() (string, error) {
			e, err := autoscaling.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, autoscaling.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
		"tagging": func() (string, error) {
			e, err := tagging.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, tagging.EndpointParameters{Region: r, Endpoint: base})
			return e.URI.String(), err
		},
	}
	var out []Endpoint
	for _, svc := range servicesFor(steps) {
		u, err := resolve[svc]()
		ep := Endpoint{Service: svc, URL: u}
		if err != nil {
			msg := "no endpoint for region " + cfg.Region + ": " + err.Error()
			ep.Error = &msg
		}
		out = append(out, ep)
	}
	return slices.Clip(out)
}
