package ownership

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
)

// ImportsFile is the file in the stack directory that holds the import
// blocks of one provision, beside main.tf. Import blocks need Terraform 1.5
// or OpenTofu 1.5.
const ImportsFile = "imports.tf"

// RenderImports renders an import block per orphan:
//
//	import {
//	  to = aws_launch_template.this
//	  id = "lt-0abc…"
//	}
//
// with hclwrite: the address is parsed as a traversal and the ID written as
// a string literal, so neither can inject HCL.
func RenderImports(imports []Import) ([]byte, error) {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment,
		Bytes: []byte("# Written by graviton-cd provision: resources of this stack that AWS holds but its state\n# lacks (a run was killed before recording them). Removed after a successful apply.\n")}})
	for i, im := range imports {
		to, diags := hclsyntax.ParseTraversalAbs([]byte(im.Address), ImportsFile, hcl.InitialPos)
		if diags.HasErrors() || len(to) < 2 {
			return nil, fmt.Errorf("render import of %q: not a resource address", im.Address)
		}
		if im.ID == "" {
			return nil, fmt.Errorf("render import of %s: no import ID", im.Address)
		}
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("import", nil).Body()
		b.SetAttributeTraversal("to", to)
		b.SetAttributeValue("id", cty.StringVal(im.ID))
	}
	return hclwrite.Format(f.Bytes()), nil
}

// WriteImports writes dir/imports.tf for imports, or removes it when there
// are none, so that a file left by an earlier run never outlives its use.
func WriteImports(dir string, imports []Import) error {
	if len(imports) == 0 {
		return RemoveImports(dir)
	}
	src, err := RenderImports(imports)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, ImportsFile), src, 0o644)
}

// RemoveImports removes dir/imports.tf once the imports are in state.
func RemoveImports(dir string) error {
	if err := os.Remove(filepath.Join(dir, ImportsFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", ImportsFile, err)
	}
	return nil
}
