// Package imagecheck refuses container images that cannot run on Graviton:
// it resolves an image's manifest (or index) with go-containerregistry and
// looks for a linux/arm64 variant, before anything is registered in ECS.
package imagecheck

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// NoArm64Error says an image has no linux/arm64 variant.
type NoArm64Error struct {
	Image     string
	Platforms []string // the platforms it does have, e.g. linux/amd64
}

// Error says what happened and what to do next.
func (e *NoArm64Error) Error() string {
	has := "no platform information"
	if len(e.Platforms) > 0 {
		has = strings.Join(e.Platforms, ", ")
	}
	return fmt.Sprintf("image %s has no linux/arm64 variant (it has %s), so it cannot run on Graviton: "+
		"build it for arm64 too, for example docker buildx build --platform linux/arm64,linux/amd64 --push", e.Image, has)
}

// Checker resolves image manifests from their registries.
type Checker struct {
	// Keychain finds registry credentials. Nil means ECR through AWS
	// credentials (when an ECR client is given) and then Docker's default
	// keychain (~/.docker/config.json and credential helpers).
	Keychain authn.Keychain
	// Transport for registry requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// New returns a Checker that authenticates to ECR registries through ecr
// (may be nil to skip ECR) and to every other registry through Docker's
// default keychain.
func New(ecr ECRClients) *Checker {
	kcs := []authn.Keychain{}
	if ecr != nil {
		kcs = append(kcs, NewECRKeychain(ecr))
	}
	kcs = append(kcs, authn.DefaultKeychain)
	return &Checker{Keychain: authn.NewMultiKeychain(kcs...)}
}

// ValidateReference returns a usage error when image is not an image
// reference, so that bad input is refused before anything touches AWS.
func ValidateReference(image string) error {
	_, err := parseReference(image)
	return err
}

func parseReference(image string) (name.Reference, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return nil, config.Usagef("image", "%q is not an image reference (%v): use for example 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3", image, err)
	}
	return ref, nil
}

// CheckArm64 returns nil when image has a linux/arm64 variant, a
// *NoArm64Error when it has not, a usage error when image is not an image
// reference, and another error when the registry cannot be read.
func (c *Checker) CheckArm64(ctx context.Context, image string) error {
	ref, err := parseReference(image)
	if err != nil {
		return err
	}
	platforms, err := c.Platforms(ctx, ref)
	if err != nil {
		return fmt.Errorf("check image %s: %w (is it pushed, and may these credentials pull it? --check-image-arch=false skips this check)", image, err)
	}
	for _, p := range platforms {
		if p.OS == "linux" && p.Architecture == "arm64" {
			return nil
		}
	}
	var names []string
	for _, p := range platforms {
		if s := p.String(); !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	return &NoArm64Error{Image: image, Platforms: names}
}

// Platforms returns the platforms ref is built for: those of an index's
// manifests, or the one in a single image's config. Attestation manifests
// (unknown/unknown) are left out.
func (c *Checker) Platforms(ctx context.Context, ref name.Reference) ([]v1.Platform, error) {
	kc := c.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	if c.Transport != nil {
		opts = append(opts, remote.WithTransport(c.Transport))
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("get manifest: %w", err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("read index manifest: %w", err)
		}
		var ps []v1.Platform
		for _, m := range im.Manifests {
			if m.Platform != nil && m.Platform.OS != "unknown" {
				ps = append(ps, *m.Platform)
			}
		}
		return ps, nil
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	if p := cf.Platform(); p != nil {
		return []v1.Platform{*p}, nil
	}
	return nil, nil
}
