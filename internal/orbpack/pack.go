// Package orbpack packs the orb source in src/ (CircleCI's Orb-Template
// layout) into one orb YAML, and reviews it against the orb-tools rules that
// apply to this project. It does what `circleci orb pack` does, without the
// CircleCI CLI: @orb.yml plus one key per file of jobs/, commands/, executors/
// and examples/, with every <<include(path)>> replaced by the file's text.
package orbpack

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Sections are the folders of the source that become top-level keys of the
// packed orb, in the order they are written.
var Sections = []string{"commands", "executors", "jobs", "examples"}

// includeRe matches a whole scalar that is an include directive. orb-tools
// only honours an include that is the entire value, and so do we.
var includeRe = regexp.MustCompile(`^\s*<<\s*include\(([^)]+)\)\s*>>\s*$`)

// Options change what Pack writes for a release.
type Options struct {
	// ReleaseVersion, when set, becomes the default of every string parameter
	// named "version" (the graviton-cd release the install command fetches)
	// and the value of ORB_EMBEDDED_VERSION.
	ReleaseVersion string
	// Checksums is the release's checksums.txt (sha256sum format). When set,
	// it is embedded as ORB_EMBEDDED_CHECKSUMS, so the install command verifies
	// the download without fetching checksums.txt. Needs ReleaseVersion.
	Checksums []byte
}

// Source is the orb source as read from disk, before includes are resolved.
type Source struct {
	Dir string
	// Root is @orb.yml.
	Root *yaml.Node
	// Components maps a section ("jobs") to component name ("deploy") to the
	// component's mapping node. Names are the file names without extension.
	Components map[string]map[string]*yaml.Node
}

// ReadSource loads @orb.yml and every component file under dir.
func ReadSource(dir string) (*Source, error) {
	root, err := readYAML(filepath.Join(dir, "@orb.yml"))
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("read %s: @orb.yml must be a mapping", dir)
	}
	src := &Source{Dir: dir, Root: root, Components: map[string]map[string]*yaml.Node{}}
	for _, section := range Sections {
		if MapValue(root, section) != nil {
			return nil, fmt.Errorf("read %s: @orb.yml defines %s inline; put each one in %s/<name>.yml", dir, section, section)
		}
		entries, err := os.ReadDir(filepath.Join(dir, section))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", section, err)
		}
		comps := map[string]*yaml.Node{}
		for _, e := range entries {
			ext := filepath.Ext(e.Name())
			if e.IsDir() || (ext != ".yml" && ext != ".yaml") {
				continue
			}
			name := strings.TrimSuffix(e.Name(), ext)
			if _, dup := comps[name]; dup {
				return nil, fmt.Errorf("read %s: %s %q is defined by both .yml and .yaml files", dir, section, name)
			}
			n, err := readYAML(filepath.Join(dir, section, e.Name()))
			if err != nil {
				return nil, err
			}
			if n.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("read %s/%s: a component must be a mapping", section, e.Name())
			}
			comps[name] = n
		}
		src.Components[section] = comps
	}
	return src, nil
}

// Pack reads the orb source in dir and returns the packed orb YAML. The output
// depends only on the source and opts: components are sorted by name.
func Pack(dir string, opts Options) ([]byte, error) {
	src, err := ReadSource(dir)
	if err != nil {
		return nil, err
	}
	return src.Pack(opts)
}

// Pack returns the packed orb YAML of a source already read, which stays
// as it was (Review reads it too).
func (s *Source) Pack(opts Options) ([]byte, error) {
	doc, err := s.Packed(opts)
	if err != nil {
		return nil, err
	}
	return Encode(doc)
}

// Packed assembles the packed orb document: a copy of @orb.yml followed by
// each section, with includes resolved and opts applied.
func (s *Source) Packed(opts Options) (*yaml.Node, error) {
	out := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	out.Content = append(out.Content, Clone(s.Root).Content...)
	for _, section := range Sections {
		comps := s.Components[section]
		if len(comps) == 0 {
			continue
		}
		m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, name := range slices.Sorted(maps.Keys(comps)) {
			c := Clone(comps[name])
			if err := s.resolveIncludes(c, section+"/"+name); err != nil {
				return nil, err
			}
			m.Content = append(m.Content, scalar(name), c)
		}
		out.Content = append(out.Content, scalar(section), m)
	}
	if err := applyRelease(out, opts); err != nil {
		return nil, err
	}
	return out, nil
}

// Encode writes a document as YAML with two-space indentation.
func Encode(doc *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode orb: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode orb: %w", err)
	}
	return buf.Bytes(), nil
}

// IncludePath returns the path named by a whole-value include directive.
func IncludePath(value string) (string, bool) {
	m := includeRe.FindStringSubmatch(value)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

func (s *Source) resolveIncludes(n *yaml.Node, where string) error {
	if n.Kind == yaml.ScalarNode {
		rel, ok := IncludePath(n.Value)
		if !ok {
			if strings.Contains(n.Value, "include(") && strings.Contains(n.Value, "<<") {
				return fmt.Errorf("%s: an include must be the whole value: %q", where, n.Value)
			}
			return nil
		}
		text, err := s.ReadInclude(rel)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		n.Value = text
		n.Tag = "!!str"
		n.Style = yaml.LiteralStyle
		return nil
	}
	for _, c := range n.Content {
		if err := s.resolveIncludes(c, where); err != nil {
			return err
		}
	}
	return nil
}

// ReadInclude reads a file named by an include, relative to the source dir. It
// may not leave the source dir.
func (s *Source) ReadInclude(rel string) (string, error) {
	clean := filepath.Clean(rel)
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("include %s: path must stay inside %s", rel, s.Dir)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir, clean))
	if err != nil {
		return "", fmt.Errorf("include %s: %w", rel, err)
	}
	return string(b), nil
}

var checksumLine = regexp.MustCompile(`^[0-9a-fA-F]{64}  \*?\S+$`)

// applyRelease pins the version parameters and embeds the checksums.
func applyRelease(doc *yaml.Node, opts Options) error {
	if opts.ReleaseVersion == "" {
		if len(opts.Checksums) > 0 {
			return fmt.Errorf("embed checksums: they need the release version they belong to (-release-version)")
		}
		return nil
	}
	version := strings.TrimPrefix(opts.ReleaseVersion, "v")
	pinned := 0
	for _, section := range []string{"jobs", "commands"} {
		comps := MapValue(doc, section)
		if comps == nil {
			continue
		}
		for i := 1; i < len(comps.Content); i += 2 {
			p := MapValue(MapValue(comps.Content[i], "parameters"), "version")
			if p == nil {
				continue
			}
			setMapScalar(p, "default", version)
			pinned++
		}
	}
	if pinned == 0 {
		return fmt.Errorf("pin release version: no job or command has a version parameter")
	}
	sums := strings.TrimSpace(string(opts.Checksums))
	for _, line := range strings.Split(sums, "\n") {
		if sums != "" && !checksumLine.MatchString(strings.TrimSpace(line)) {
			return fmt.Errorf("embed checksums: %q is not a sha256sum line (<64 hex>  <file>)", line)
		}
	}
	embedded := 0
	Walk(doc, func(n *yaml.Node) {
		env := MapValue(n, "environment")
		if env == nil || MapValue(env, "ORB_EMBEDDED_VERSION") == nil {
			return
		}
		setMapScalar(env, "ORB_EMBEDDED_VERSION", version)
		if sums != "" {
			setMapScalar(env, "ORB_EMBEDDED_CHECKSUMS", sums+"\n")
			MapValue(env, "ORB_EMBEDDED_CHECKSUMS").Style = yaml.LiteralStyle
		}
		embedded++
	})
	if sums != "" && embedded == 0 {
		return fmt.Errorf("embed checksums: no run step has ORB_EMBEDDED_VERSION in its environment")
	}
	return nil
}

func readYAML(path string) (*yaml.Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("parse %s: want one YAML document", path)
	}
	n := doc.Content[0]
	if err := noAliases(n, path); err != nil {
		return nil, err
	}
	return n, nil
}

// noAliases refuses anchors and aliases: CircleCI's packer expands them, and
// a reviewer reads each component on its own.
func noAliases(n *yaml.Node, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return fmt.Errorf("parse %s: line %d: YAML anchors and aliases are not used in the orb source", path, n.Line)
	}
	for _, c := range n.Content {
		if err := noAliases(c, path); err != nil {
			return err
		}
	}
	return nil
}

// MapValue returns the value of key in YAML mapping m, or nil when m is not a
// mapping or has no such key. orbrun walks the packed orb with it too.
func MapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setMapScalar(m *yaml.Node, key, value string) {
	if v := MapValue(m, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle}
		return
	}
	m.Content = append(m.Content, scalar(key), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value, Style: yaml.DoubleQuotedStyle})
}

// Walk calls fn on n and on every node below it, parents first. orbrun
// walks the packed orb with it too.
func Walk(n *yaml.Node, fn func(*yaml.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for _, c := range n.Content {
		Walk(c, fn)
	}
}

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}

// Clone returns a deep copy of n, so that a component can be changed once
// per use (packing, parameter substitution) without touching the source.
func Clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = Clone(k)
	}
	return &c
}
