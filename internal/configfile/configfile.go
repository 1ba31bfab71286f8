// Package configfile reads graviton-cd.hcl, the stack and the app in one file
// kept in the user's repository. Its schema is not written down here: the CLI
// derives it from its flag definitions (an attribute is a flag's name with
// "-" as "_"), so every flag, present and future, can be said in the file.
// The package knows nothing of urfave/cli; it turns HCL into the strings a
// flag would take on the command line, each with where it was written.
package configfile

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/xrash/smetrics"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// DefaultName is the file a command reads from the working directory when
// --config is not given and the file exists.
const DefaultName = "graviton-cd.hcl"

// Kind is the type of a flag, and so of its attribute.
type Kind int

// The kinds of flags the CLI has.
const (
	String   Kind = iota // a string
	Int                  // a whole number
	Bool                 // true or false
	Duration             // a Go duration string such as "15m"
	List                 // a repeatable flag: a list of strings, or a map written as KEY=VALUE items
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "a whole number"
	case Bool:
		return "true or false"
	case Duration:
		return `a duration string such as "15m"`
	case List:
		return `a list of strings (or a map, as KEY = "value")`
	}
	return "a string"
}

// Attr is one attribute of a section: a flag, named as in the file.
type Attr struct {
	Name  string // attribute name: the flag's with "_" for "-"
	Flag  string // the flag it sets
	Kind  Kind
	Usage string // the flag's help text, for init's comments
}

// AttrName is the attribute that says flag in the file.
func AttrName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// Section is the top level of the file (Block "") or one block of it.
type Section struct {
	Block string // "" for the top level, else the block type
	Attrs []Attr
}

// Schema is every section the file may have.
type Schema []Section

func (s Schema) section(block string) (Section, bool) {
	for _, sec := range s {
		if sec.Block == block {
			return sec, true
		}
	}
	return Section{}, false
}

// Setting is one attribute's value, as its flag would take it.
type Setting struct {
	Attr   Attr
	Values []string // one for a scalar; one per item for a List
	Range  hcl.Range
}

// Pos is where the setting was written, as file:line:column.
func (s Setting) Pos() string {
	return fmt.Sprintf("%s:%d:%d", s.Range.Filename, s.Range.Start.Line, s.Range.Start.Column)
}

// File is a parsed graviton-cd.hcl.
type File struct {
	Path     string
	sections map[string][]Setting
}

// Settings are the values of a section (the top level is ""), in file order.
func (f *File) Settings(block string) []Setting {
	if f == nil {
		return nil
	}
	return f.sections[block]
}

// Error is a file that cannot be used: HCL's diagnostics, each at file:line:column.
type Error struct {
	Diags hcl.Diagnostics
}

func (e *Error) Error() string {
	var lines []string
	for _, d := range e.Diags {
		var b strings.Builder
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		b.WriteString(d.Summary)
		if d.Detail != "" {
			b.WriteString("; " + d.Detail)
		}
		lines = append(lines, b.String())
	}
	return strings.Join(lines, "\n")
}

// ErrNotFound is returned (wrapped) by Load for a file that does not exist.
var ErrNotFound = errors.New("config file not found")

// Load reads and parses the file at path.
func Load(path string, schema Schema) (*File, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return Parse(path, src, schema)
}

// Parse parses src, named path in diagnostics, against schema. Expressions
// are literal values: no variables and no functions.
func Parse(path string, src []byte, schema Schema) (*File, error) {
	file, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	body := file.Body.(*hclsyntax.Body)
	f := &File{Path: path, sections: map[string][]Setting{}}
	diags = append(diags, f.readBody(body, "", schema)...)
	seen := map[string]hcl.Range{}
	for _, b := range body.Blocks {
		sec, ok := schema.section(b.Type)
		if !ok || b.Type == "" {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Unsupported block type",
				Detail:  fmt.Sprintf("There is no %s block. %sBlocks: %s.", b.Type, suggest(blockNames(schema), b.Type), strings.Join(blockNames(schema), ", ")),
				Subject: b.TypeRange.Ptr(),
			})
			continue
		}
		if len(b.Labels) > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Unexpected block label",
				Detail:  fmt.Sprintf("A %s block takes no label: write %s { ... }.", b.Type, b.Type),
				Subject: b.LabelRanges[0].Ptr(),
			})
			continue
		}
		if prev, dup := seen[b.Type]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Duplicate block",
				Detail:  fmt.Sprintf("Only one %s block is allowed; the first is at line %d.", b.Type, prev.Start.Line),
				Subject: b.TypeRange.Ptr(),
			})
			continue
		}
		seen[b.Type] = b.TypeRange
		diags = append(diags, f.readBody(b.Body, sec.Block, schema)...)
	}
	if diags.HasErrors() {
		return nil, &Error{Diags: diags}
	}
	return f, nil
}

func blockNames(schema Schema) []string {
	var names []string
	for _, s := range schema {
		if s.Block != "" {
			names = append(names, s.Block)
		}
	}
	return names
}

// readBody reads the attributes of one section. A nested block in a block
// is refused here; the top level's blocks are read by Parse.
func (f *File) readBody(body *hclsyntax.Body, block string, schema Schema) hcl.Diagnostics {
	var diags hcl.Diagnostics
	sec, _ := schema.section(block)
	if block != "" {
		for _, nb := range body.Blocks {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Unsupported block type",
				Detail:  fmt.Sprintf("A %s block holds attributes only; %s is not one of them.", block, nb.Type),
				Subject: nb.TypeRange.Ptr(),
			})
		}
	}
	attrs := make([]*hclsyntax.Attribute, 0, len(body.Attributes))
	for _, a := range body.Attributes {
		attrs = append(attrs, a)
	}
	slices.SortFunc(attrs, func(a, b *hclsyntax.Attribute) int { return a.SrcRange.Start.Byte - b.SrcRange.Start.Byte })
	for _, a := range attrs {
		i := slices.IndexFunc(sec.Attrs, func(x Attr) bool { return x.Name == a.Name })
		if i < 0 {
			diags = append(diags, unknownAttr(a, sec, schema))
			continue
		}
		s, d := value(a, sec.Attrs[i])
		diags = append(diags, d...)
		if !d.HasErrors() && s != nil {
			f.sections[block] = append(f.sections[block], *s)
		}
	}
	return diags
}

func unknownAttr(a *hclsyntax.Attribute, sec Section, schema Schema) *hcl.Diagnostic {
	where := "at the top level"
	if sec.Block != "" {
		where = "in a " + sec.Block + " block"
	}
	names := make([]string, len(sec.Attrs))
	for i, x := range sec.Attrs {
		names[i] = x.Name
	}
	detail := fmt.Sprintf("graviton-cd takes no %s %s. %s", a.Name, where, suggest(names, a.Name))
	// A flag of another command belongs in that command's block, a stack
	// setting at the top level.
	for _, other := range schema {
		if other.Block == sec.Block || !slices.ContainsFunc(other.Attrs, func(x Attr) bool { return x.Name == a.Name }) {
			continue
		}
		if other.Block == "" {
			detail += fmt.Sprintf("%s is a setting of the stack: put it at the top level, outside any block. ", a.Name)
		} else {
			detail += fmt.Sprintf("%s is a setting of %s: put it in a %s { } block. ", a.Name, other.Block, other.Block)
		}
		break
	}
	detail += "Each attribute is a flag with _ for - (see graviton-cd <command> --help)."
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: detail, Subject: a.NameRange.Ptr()}
}

// suggest is `Did you mean "x"? ` for the candidate closest to typed, or "".
// Closeness is Jaro-Winkler, as for the CLI's misspelled flags.
func suggest(candidates []string, typed string) string {
	best, score := "", 0.0
	for _, c := range candidates {
		if s := smetrics.JaroWinkler(c, typed, 0.7, 4); s > score {
			best, score = c, s
		}
	}
	if score < 0.8 {
		return ""
	}
	return fmt.Sprintf("Did you mean %q? ", best)
}

// value evaluates a literal and converts it to what the attribute's flag
// takes. A null value is no setting at all.
func value(a *hclsyntax.Attribute, at Attr) (*Setting, hcl.Diagnostics) {
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		return nil, diags
	}
	if v.IsNull() {
		return nil, nil
	}
	rng := a.Expr.Range()
	bad := func(format string, args ...any) (*Setting, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
			Detail:  fmt.Sprintf("%s must be %s: ", a.Name, at.Kind) + fmt.Sprintf(format, args...),
			Subject: rng.Ptr(), Expression: a.Expr,
		}}
	}
	s := &Setting{Attr: at, Range: a.SrcRange}
	switch at.Kind {
	case String, Duration:
		if !v.Type().IsPrimitiveType() {
			return bad("got %s", v.Type().FriendlyName())
		}
		sv, err := convert.Convert(v, cty.String)
		if err != nil || !sv.IsKnown() {
			return bad("got %s", v.Type().FriendlyName())
		}
		str := sv.AsString()
		if at.Kind == Duration {
			if _, err := time.ParseDuration(str); err != nil {
				return nil, hcl.Diagnostics{{
					Severity: hcl.DiagError, Summary: "Invalid value",
					Detail:  fmt.Sprintf("%s = %q is not a duration: use a number with a unit, such as \"90s\", \"15m\" or \"1h30m\".", a.Name, str),
					Subject: rng.Ptr(),
				}}
			}
		}
		s.Values = []string{str}
	case Int:
		nv, err := convert.Convert(v, cty.Number)
		if err != nil {
			return bad("got %s", v.Type().FriendlyName())
		}
		bf := nv.AsBigFloat()
		n, acc := bf.Int64()
		if !bf.IsInt() || acc != big.Exact {
			return bad("%s is not a whole number", bf.Text('g', -1))
		}
		s.Values = []string{fmt.Sprint(n)}
	case Bool:
		bv, err := convert.Convert(v, cty.Bool)
		if err != nil {
			return bad("got %s", v.Type().FriendlyName())
		}
		s.Values = []string{fmt.Sprint(bv.True())}
	case List:
		items, msg := listItems(v)
		if msg != "" {
			return bad("%s", msg)
		}
		s.Values = items
	}
	return s, nil
}

// listItems flattens a list of strings, or a map of strings written as
// KEY=VALUE items sorted by key, or a single string.
func listItems(v cty.Value) ([]string, string) {
	t := v.Type()
	switch {
	case t.IsPrimitiveType():
		sv, err := convert.Convert(v, cty.String)
		if err != nil {
			return nil, "got " + t.FriendlyName()
		}
		return []string{sv.AsString()}, ""
	case t.IsListType() || t.IsTupleType() || t.IsSetType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() || !e.Type().IsPrimitiveType() {
				return nil, "an item of the list is " + cmp.Or(e.Type().FriendlyName(), "null")
			}
			sv, err := convert.Convert(e, cty.String)
			if err != nil {
				return nil, "an item of the list is " + e.Type().FriendlyName()
			}
			out = append(out, sv.AsString())
		}
		return out, ""
	case t.IsObjectType() || t.IsMapType():
		var out []string
		for it := v.ElementIterator(); it.Next(); { // keys come in lexical order
			k, e := it.Element()
			if e.IsNull() || !e.Type().IsPrimitiveType() {
				return nil, fmt.Sprintf("the value of %s is %s", k.AsString(), e.Type().FriendlyName())
			}
			sv, err := convert.Convert(e, cty.String)
			if err != nil {
				return nil, fmt.Sprintf("the value of %s is %s", k.AsString(), e.Type().FriendlyName())
			}
			out = append(out, k.AsString()+"="+sv.AsString())
		}
		return out, ""
	}
	return nil, "got " + t.FriendlyName()
}

// Diagnostic is an error at r, for values the CLI refuses after Parse.
func Diagnostic(r hcl.Range, summary, detail string) *Error {
	return &Error{Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: r.Ptr()}}}
}
