package terraform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/go-version"
)

// stateResource is the part of a resource in the raw state format (version
// 4, shared by OpenTofu) that its address needs.
type stateResource struct {
	Module string `json:"module"`
	Mode   string `json:"mode"`
	Type   string `json:"type"`
	Name   string `json:"name"`
}

// ManagedAddresses lists the addresses of the managed resources in a raw
// state ("aws_ecs_cluster.this", "module.x.aws_vpc.this"), once each however
// many instances they have. An empty input is an empty state.
func ManagedAddresses(raw []byte) ([]string, error) {
	if _, err := CountManaged(raw); err != nil { // checks the format version
		return nil, err
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, nil
	}
	var st struct {
		Resources []stateResource `json:"resources"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("read terraform state: %w", err)
	}
	var addrs []string
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		a := r.Type + "." + r.Name
		if r.Module != "" {
			a = r.Module + "." + a
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// StateAddresses lists the managed resources in the stack's state (terraform
// state pull, which starts no provider).
func (e *Exec) StateAddresses(ctx context.Context) ([]string, error) {
	raw, err := e.quiet.StatePull(ctx)
	if err != nil {
		return nil, wrap(ctx, "terraform state pull", err)
	}
	return ManagedAddresses([]byte(raw))
}

// ProviderVersion returns the version of the provider hashicorp/<name> that
// init selected, from whichever registry (registry.terraform.io for
// Terraform, registry.opentofu.org for OpenTofu). It is nil, with no error,
// when init selected none.
func (e *Exec) ProviderVersion(ctx context.Context, name string) (*version.Version, error) {
	_, providers, err := e.quiet.Version(ctx, true)
	if err != nil {
		return nil, wrap(ctx, "terraform version", err)
	}
	for addr, v := range providers {
		if strings.HasSuffix(addr, "/hashicorp/"+name) {
			return v, nil
		}
	}
	return nil, nil
}
