package demo

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is an in-process OCI registry listening on 127.0.0.1.
type Registry struct {
	srv *httptest.Server
}

// StartRegistry starts an empty registry on a free 127.0.0.1 port.
func StartRegistry() *Registry {
	// Quiet: its request log would bury the demo's own output.
	return &Registry{srv: httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))}
}

// Host is the registry's host:port, for image references.
func (r *Registry) Host() string { return r.srv.Listener.Addr().String() }

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

// Push pushes an image index or a single-platform image as repo:tag and
// returns the full reference.
func (r *Registry) Push(repo, tag string, t remote.Taggable) (string, error) {
	ref, err := name.NewTag(fmt.Sprintf("%s/%s:%s", r.Host(), repo, tag), name.Insecure)
	if err != nil {
		return "", fmt.Errorf("parse reference: %w", err)
	}
	if err := remote.Push(ref, t); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	return ref.String(), nil
}
