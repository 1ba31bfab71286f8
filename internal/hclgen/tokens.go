package hclgen

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Every user value reaches the module through lit (cty → a quoted, escaped
// HCL literal); expressions that refer to other resources come from ref and
// expr, which take only source text written in this package.

// lit renders a value as an HCL literal. Strings are escaped, including "${"
// and "%{", so they can never become template source.
func lit(v any) hclwrite.Tokens {
	switch v := v.(type) {
	case string:
		return hclwrite.TokensForValue(cty.StringVal(v))
	case int:
		return hclwrite.TokensForValue(cty.NumberIntVal(int64(v)))
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(v))
	case []string:
		return hclwrite.TokensForValue(stringList(v))
	case cty.Value:
		return hclwrite.TokensForValue(v)
	case hclwrite.Tokens:
		return v
	default:
		panic(fmt.Sprintf("hclgen: no literal for %T", v))
	}
}

func stringList(ss []string) cty.Value {
	if len(ss) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	vals := make([]cty.Value, len(ss))
	for i, s := range ss {
		vals[i] = cty.StringVal(s)
	}
	return cty.TupleVal(vals)
}

// expr parses an expression written in this package (a reference, a splat,
// an index). It panics on a syntax error: that is a bug here, not bad input.
// Never pass it user input; user values go through lit.
func expr(src string) hclwrite.Tokens {
	e, diags := hclsyntax.ParseExpression([]byte(src), "hclgen", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("hclgen: bad expression %q: %s", src, diags))
	}
	if _, ok := e.(*hclsyntax.TemplateExpr); ok {
		panic(fmt.Sprintf("hclgen: %q is a template; build it with call(\"format\", …)", src))
	}
	return rawTokens(src)
}

// rawTokens lexes source text written in this package into tokens.
func rawTokens(src string) hclwrite.Tokens {
	f, diags := hclwrite.ParseConfig([]byte("x = "+src+"\n"), "hclgen", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("hclgen: bad expression %q: %s", src, diags))
	}
	return f.Body().GetAttribute("x").Expr().BuildTokens(nil)
}

// call renders a function call; its arguments are tokens from lit, expr,
// object, tuple or call.
func call(fn string, args ...hclwrite.Tokens) hclwrite.Tokens {
	return hclwrite.TokensForFunctionCall(fn, args...)
}

// kv is one attribute of an object constructor.
type kv struct {
	key string
	val hclwrite.Tokens
}

// object renders an object constructor in the given key order. Keys are
// written as quoted strings unless they are plain identifiers.
func object(attrs ...kv) hclwrite.Tokens {
	ots := make([]hclwrite.ObjectAttrTokens, len(attrs))
	for i, a := range attrs {
		name := hclwrite.TokensForValue(cty.StringVal(a.key))
		if hclsyntax.ValidIdentifier(a.key) {
			name = hclwrite.TokensForIdentifier(a.key)
		}
		ots[i] = hclwrite.ObjectAttrTokens{Name: name, Value: a.val}
	}
	return hclwrite.TokensForObject(ots)
}

// tuple renders a tuple constructor.
func tuple(elems ...hclwrite.Tokens) hclwrite.Tokens {
	return hclwrite.TokensForTuple(elems)
}

// block appends a block with attributes set in order and returns its body.
func block(parent *hclwrite.Body, typ string, labels ...string) *hclwrite.Body {
	return parent.AppendNewBlock(typ, labels).Body()
}

// set sets attributes in order: pairs of name and value (anything lit takes).
func set(b *hclwrite.Body, pairs ...any) {
	if len(pairs)%2 != 0 {
		panic("hclgen: set needs name/value pairs")
	}
	for i := 0; i < len(pairs); i += 2 {
		b.SetAttributeRaw(pairs[i].(string), lit(pairs[i+1]))
	}
}

// refList renders a tuple of references to resources of this module, as
// depends_on takes them.
func refList(addrs ...string) hclwrite.Tokens {
	elems := make([]hclwrite.Tokens, len(addrs))
	for i, a := range addrs {
		elems[i] = expr(a)
	}
	return tuple(elems...)
}
