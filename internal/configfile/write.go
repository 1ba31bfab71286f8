package configfile

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Entry is one attribute of a file that init writes.
type Entry struct {
	Attr      Attr
	Values    []string // as the flag takes them: one for a scalar, the items of a List
	AsMap     bool     // a List of KEY=VALUE items, written as a map
	Commented bool     // written as a comment: a default shown for reference
	Note      string   // the comment above it; empty uses the flag's usage
}

// BlockEntries are the entries of one section; Block "" is the top level.
type BlockEntries struct {
	Block   string
	Note    string // a comment above the block
	Entries []Entry
}

// Write renders header (comment lines) and sections as an HCL file. Values
// go through hclwrite, so a quote or ${ in a value stays a literal.
func Write(header []string, sections []BlockEntries) ([]byte, error) {
	var b bytes.Buffer
	comment(&b, "", strings.Join(header, "\n"))
	for _, sec := range sections {
		indent := ""
		b.WriteString("\n")
		if sec.Block != "" {
			comment(&b, "", sec.Note)
			b.WriteString(sec.Block + " {\n")
			indent = "  "
		}
		for i, e := range sec.Entries {
			if i > 0 {
				b.WriteString("\n")
			}
			v, err := ctyValue(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Attr.Name, err)
			}
			note := e.Note
			if note == "" {
				note = e.Attr.Usage
			}
			comment(&b, indent, note)
			line := e.Attr.Name + " = " + string(hclwrite.TokensForValue(v).Bytes())
			for _, l := range strings.Split(line, "\n") {
				if e.Commented {
					l = "# " + l
				}
				b.WriteString(indent + l + "\n")
			}
		}
		if sec.Block != "" {
			b.WriteString("}\n")
		}
	}
	return hclwrite.Format(b.Bytes()), nil
}

// comment writes text as # lines, wrapped near 100 columns.
func comment(b *bytes.Buffer, indent, text string) {
	for _, para := range strings.Split(text, "\n") {
		if strings.TrimSpace(para) == "" {
			if text != "" {
				b.WriteString(indent + "#\n")
			}
			continue
		}
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && len(indent)+len(line)+len(w) > 96 {
				b.WriteString(indent + "# " + line + "\n")
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		b.WriteString(indent + "# " + line + "\n")
	}
}

func ctyValue(e Entry) (cty.Value, error) {
	one := func() (string, error) {
		if len(e.Values) != 1 {
			return "", fmt.Errorf("%d values for a single one", len(e.Values))
		}
		return e.Values[0], nil
	}
	switch e.Attr.Kind {
	case Int:
		s, err := one()
		if err != nil {
			return cty.NilVal, err
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q is not a whole number", s)
		}
		return cty.NumberIntVal(n), nil
	case Bool:
		s, err := one()
		if err != nil {
			return cty.NilVal, err
		}
		bv, err := strconv.ParseBool(s)
		if err != nil {
			return cty.NilVal, fmt.Errorf("%q is not true or false", s)
		}
		return cty.BoolVal(bv), nil
	case List:
		if e.AsMap {
			m := map[string]cty.Value{}
			for _, item := range e.Values {
				k, v, ok := strings.Cut(item, "=")
				if !ok {
					return cty.NilVal, fmt.Errorf("%q is not KEY=VALUE", item)
				}
				m[k] = cty.StringVal(v)
			}
			return cty.ObjectVal(m), nil
		}
		items := make([]cty.Value, len(e.Values))
		for i, s := range e.Values {
			items[i] = cty.StringVal(s)
		}
		return cty.TupleVal(items), nil
	}
	s, err := one()
	if err != nil {
		return cty.NilVal, err
	}
	return cty.StringVal(s), nil
}

// SortedItems are KEY=VALUE items sorted by key, the order Parse reads a map in.
func SortedItems(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + m[k]
	}
	return out
}
