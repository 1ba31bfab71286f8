package imagecheck

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// imageFor returns a random image whose config says it is for p.
func imageFor(t *testing.T, p v1.Platform) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// newRegistry serves go-containerregistry's in-process registry on
// 127.0.0.1, holding:
//
//	multi:1   an index for linux/amd64, linux/arm64/v8 and an attestation
//	amd64:1   a single linux/amd64 image
//	armv7:1   an index for linux/amd64 and linux/arm/v7 only
//	arm64:1   a single linux/arm64 image
func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	opts := []remote.Option{remote.WithTransport(srv.Client().Transport), remote.WithAuth(&authn.Basic{Username: "AWS", Password: "s3cret"})}

	index := func(ps ...v1.Platform) v1.ImageIndex {
		var adds []mutate.IndexAddendum
		for _, p := range ps {
			adds = append(adds, mutate.IndexAddendum{Add: imageFor(t, p), Descriptor: v1.Descriptor{Platform: &p}})
		}
		return mutate.AppendManifests(empty.Index, adds...)
	}
	push := func(repo string, v any) {
		ref, err := name.ParseReference(host + "/" + repo)
		if err != nil {
			t.Fatal(err)
		}
		switch v := v.(type) {
		case v1.Image:
			err = remote.Write(ref, v, opts...)
		case v1.ImageIndex:
			err = remote.WriteIndex(ref, v, opts...)
		}
		if err != nil {
			t.Fatalf("push %s: %v", repo, err)
		}
	}
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	push("multi:1", index(amd64, v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}, v1.Platform{OS: "unknown", Architecture: "unknown"}))
	push("amd64:1", imageFor(t, amd64))
	push("armv7:1", index(amd64, v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}))
	push("arm64:1", imageFor(t, v1.Platform{OS: "linux", Architecture: "arm64"}))
	return host
}

func TestCheckArm64(t *testing.T) {
	host := newRegistry(t, nil)
	c := &Checker{Keychain: authn.NewMultiKeychain()} // anonymous: independent of this machine's Docker config
	tests := []struct {
		image     string
		wantErr   bool
		platforms []string
	}{
		{image: host + "/multi:1"},
		{image: host + "/arm64:1"},
		{image: host + "/amd64:1", wantErr: true, platforms: []string{"linux/amd64"}},
		{image: host + "/armv7:1", wantErr: true, platforms: []string{"linux/amd64", "linux/arm/v7"}},
	}
	for _, tt := range tests {
		t.Run(tt.image[len(host)+1:], func(t *testing.T) {
			err := c.CheckArm64(context.Background(), tt.image)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckArm64: %v", err)
				}
				return
			}
			var e *NoArm64Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *NoArm64Error", err)
			}
			if strings.Join(e.Platforms, ",") != strings.Join(tt.platforms, ",") {
				t.Errorf("platforms = %v, want %v", e.Platforms, tt.platforms)
			}
			for _, p := range tt.platforms {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error does not name %s: %v", p, err)
				}
			}
		})
	}
}

func TestCheckArm64Errors(t *testing.T) {
	host := newRegistry(t, nil)
	c := &Checker{}
	if err := c.CheckArm64(context.Background(), "Not An Image!"); !config.IsUsage(err) {
		t.Errorf("bad reference: %v, want a usage error", err)
	}
	err := c.CheckArm64(context.Background(), host+"/nope:1")
	var e *NoArm64Error
	if err == nil || errors.As(err, &e) || config.IsUsage(err) || !strings.Contains(err.Error(), "--check-image-arch=false") {
		t.Errorf("missing image: %v", err)
	}
}

// A registry that wants credentials gets them from the Checker's keychain.
func TestCheckArm64UsesKeychain(t *testing.T) {
	var sawAuth bool
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "AWS" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			if r.Method == http.MethodGet {
				sawAuth = true
			}
			next.ServeHTTP(w, r)
		})
	})
	anon := &Checker{Keychain: authn.NewMultiKeychain()}
	if err := anon.CheckArm64(context.Background(), host+"/multi:1"); err == nil {
		t.Fatal("anonymous access to a private registry succeeded")
	}
	c := &Checker{Keychain: staticKeychain{authn.AuthConfig{Username: "AWS", Password: "s3cret"}}}
	if err := c.CheckArm64(context.Background(), host+"/multi:1"); err != nil || !sawAuth {
		t.Fatalf("CheckArm64 with credentials: %v (authenticated: %v)", err, sawAuth)
	}
}

type staticKeychain struct{ cfg authn.AuthConfig }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(k.cfg), nil
}

type fakeECR struct {
	regions []string
	calls   int
}

func (f *fakeECR) client(region string) ECRAPI {
	f.regions = append(f.regions, region)
	return f
}

func (f *fakeECR) GetAuthorizationToken(_ context.Context, _ *ecr.GetAuthorizationTokenInput, _ ...func(*ecr.Options)) (*ecr.GetAuthorizationTokenOutput, error) {
	f.calls++
	tok := base64.StdEncoding.EncodeToString([]byte("AWS:token-" + strconv.Itoa(f.calls)))
	return &ecr.GetAuthorizationTokenOutput{AuthorizationData: []ecrtypes.AuthorizationData{{AuthorizationToken: aws.String(tok)}}}, nil
}

func TestECRKeychain(t *testing.T) {
	f := &fakeECR{}
	kc := NewECRKeychain(f.client)
	reg, _ := name.NewRegistry("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
	for range 2 {
		a, err := kc.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != "AWS" || cfg.Password != "token-1" {
			t.Errorf("auth = %+v", cfg)
		}
	}
	if f.calls != 1 || len(f.regions) != 1 || f.regions[0] != "eu-west-1" {
		t.Errorf("GetAuthorizationToken calls = %d in %v, want 1 in eu-west-1 (cached)", f.calls, f.regions)
	}
	hub, _ := name.NewRegistry("index.docker.io")
	if a, err := kc.Resolve(hub); err != nil || a != authn.Anonymous {
		t.Errorf("Docker Hub: %v, %v; want anonymous so the next keychain answers", a, err)
	}
}
