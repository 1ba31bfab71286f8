package imagecheck

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
)

// ECRAPI is the one ECR call the keychain needs, shaped like the SDK client.
type ECRAPI interface {
	GetAuthorizationToken(ctx context.Context, in *ecr.GetAuthorizationTokenInput, optFns ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error)
}

var _ ECRAPI = (*ecr.Client)(nil)

// ECRClients returns an ECR client for a region: a registry's token must come
// from the registry's own region.
type ECRClients func(region string) ECRAPI

// ecrHost matches private ECR registry host names and captures the account
// and the region.
var ecrHost = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ECRKeychain gives credentials for private ECR registries from the AWS
// credentials (ecr:GetAuthorizationToken), and anonymous for every other
// registry, so it composes with authn.NewMultiKeychain. Tokens are cached per
// registry for the life of the keychain (they last twelve hours).
type ECRKeychain struct {
	clients ECRClients
	mu      sync.Mutex
	cache   map[string]authn.AuthConfig
}

// NewECRKeychain returns an ECRKeychain using clients.
func NewECRKeychain(clients ECRClients) *ECRKeychain {
	return &ECRKeychain{clients: clients, cache: map[string]authn.AuthConfig{}}
}

// Resolve implements authn.Keychain.
func (k *ECRKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

// ResolveContext implements authn.ContextKeychain.
func (k *ECRKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	host := r.RegistryStr()
	m := ecrHost.FindStringSubmatch(host)
	if m == nil {
		return authn.Anonymous, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if cfg, ok := k.cache[host]; ok {
		return authn.FromConfig(cfg), nil
	}
	// One token opens every registry of the region the principal may pull
	// from, so the account in the host name need not be passed.
	out, err := k.clients(m[2]).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("get ECR authorization token for %s: %w (the role needs ecr:GetAuthorizationToken)", host, err)
	}
	if len(out.AuthorizationData) == 0 {
		return nil, fmt.Errorf("get ECR authorization token for %s: ECR returned none; check the registry's account and region", host)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return nil, fmt.Errorf("decode ECR authorization token for %s: %w", host, err)
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return nil, fmt.Errorf("decode ECR authorization token for %s: not user:password", host)
	}
	cfg := authn.AuthConfig{Username: user, Password: pass}
	k.cache[host] = cfg
	return authn.FromConfig(cfg), nil
}
