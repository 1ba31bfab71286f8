package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// rawState is the part of Terraform's state format (version 4, shared by
// OpenTofu) that the lifecycle reads: managed resources and root outputs.
type rawState struct {
	Version   int `json:"version"`
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Name      string `json:"name"`
		Instances []struct {
			IndexKey   any             `json:"index_key"`
			Attributes json.RawMessage `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
	Outputs map[string]struct {
		Value json.RawMessage `json:"value"`
	} `json:"outputs"`
}

func parseState(raw []byte) (rawState, error) {
	var st rawState
	if len(bytes.TrimSpace(raw)) == 0 {
		return st, nil // no state yet
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("read terraform state: %w", err)
	}
	if st.Version != 4 {
		return st, fmt.Errorf("read terraform state: format version %d, want 4 (use terraform >= 0.12 or OpenTofu)", st.Version)
	}
	return st, nil
}

// ManagedAddresses lists the managed resource instances of a raw state by
// address, as terraform state list prints them. Empty input is empty state.
func ManagedAddresses(raw []byte) ([]string, error) {
	addrs := []string{}
	err := eachManaged(raw, func(addr string, _ json.RawMessage) { addrs = append(addrs, addr) })
	return addrs, err
}

// ManagedIDs maps the address of each managed resource instance of a raw
// state to its id attribute (the ID the provider found it by: vpc-…, an
// ARN, …), so that provision never imports a resource the state already
// holds under another address. Empty input is empty state.
func ManagedIDs(raw []byte) (map[string]string, error) {
	ids := map[string]string{}
	err := eachManaged(raw, func(addr string, attrs json.RawMessage) {
		var a struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(attrs, &a) // no id: the address still counts as held
		ids[addr] = a.ID
	})
	return ids, err
}

// eachManaged calls fn with the address and attributes of every managed
// resource instance of a raw state, in state order.
func eachManaged(raw []byte, fn func(addr string, attrs json.RawMessage)) error {
	st, err := parseState(raw)
	if err != nil {
		return err
	}
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		base := r.Type + "." + r.Name
		if r.Module != "" {
			base = r.Module + "." + base
		}
		for _, in := range r.Instances {
			switch k := in.IndexKey.(type) {
			case nil:
				fn(base, in.Attributes)
			case float64:
				fn(base+"["+strconv.FormatFloat(k, 'f', -1, 64)+"]", in.Attributes)
			case string:
				fn(base+"["+strconv.Quote(k)+"]", in.Attributes)
			}
		}
	}
	return nil
}

// RenderImports writes import blocks, one per Import. Addresses are parsed
// as traversals and IDs written as literal strings: nothing is template source.
func RenderImports(imports []Import) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, im := range imports {
		t, diags := hclsyntax.ParseTraversalAbs([]byte(im.Address), importsFile, hcl.InitialPos)
		if diags.HasErrors() {
			return nil, fmt.Errorf("import %s: not a resource address: %s", im.Address, diags)
		}
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("import", nil).Body()
		b.SetAttributeRaw("to", hclwrite.TokensForTraversal(t))
		b.SetAttributeValue("id", cty.StringVal(im.ID))
	}
	return f.Bytes(), nil
}

// stateResource is one managed resource instance of a raw state with the
// attributes destroy needs to know what it removes.
type stateResource struct {
	Type, Name string
	Attrs      map[string]any
}

// managedResources lists the managed resource instances of a raw state with
// their attributes.
func managedResources(raw []byte) ([]stateResource, error) {
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	var rs []stateResource
	for _, r := range st.Resources {
		if r.Mode != "managed" || r.Module != "" {
			continue
		}
		for _, in := range r.Instances {
			var attrs map[string]any
			_ = json.Unmarshal(in.Attributes, &attrs)
			rs = append(rs, stateResource{Type: r.Type, Name: r.Name, Attrs: attrs})
		}
	}
	return rs, nil
}

// attr returns a string attribute, or "".
func (r stateResource) attr(name string) string {
	s, _ := r.Attrs[name].(string)
	return s
}
