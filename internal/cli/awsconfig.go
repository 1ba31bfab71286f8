package cli

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
)

// sharedAWSConfig loads the AWS configuration once per command and hands the
// same credentials to every part of it (the stack lifecycle, the ownership
// guard). Under CircleCI OIDC each load would call
// sts:AssumeRoleWithWebIdentity again; with one credentials cache there is
// one call, refreshed only when the session nears its end.
type sharedAWSConfig struct {
	load func(ctx context.Context, o awsx.Options) (aws.Config, error) // nil: awsx.Load

	mu       sync.Mutex
	cfg      aws.Config
	endpoint string
	loaded   bool
}

// Load returns the configuration for o. Only the first call loads; later
// ones reuse its credentials, with o's region. A different endpoint (a second
// emulator) is loaded on its own.
func (s *sharedAWSConfig) Load(ctx context.Context, o awsx.Options) (aws.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded && o.EndpointURL == s.endpoint {
		cfg := s.cfg.Copy()
		if o.Region != "" {
			cfg.Region = o.Region
		}
		return cfg, nil
	}
	load := s.load
	if load == nil {
		load = awsx.Load
	}
	cfg, err := load(ctx, o)
	if err != nil {
		return cfg, err
	}
	if !s.loaded {
		s.cfg, s.endpoint, s.loaded = cfg, o.EndpointURL, true
	}
	return cfg, nil
}
