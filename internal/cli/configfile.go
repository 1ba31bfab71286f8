package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/configfile"
)

// The commands that read graviton-cd.hcl. provision's flags are the file's top
// level (the stack and the app); every other command has a block named after
// it (smoke-test's is smoke_test) for its own flags.
var configCommands = []string{"provision", "deploy", "smoke-test", "status", "destroy"}

// topLevelCommand is the command whose flags are the file's top level.
const topLevelCommand = "provision"

func configFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "config", EnvVars: envVars("config"), TakesFile: true,
		Usage: "graviton-cd.hcl `FILE` with the stack's settings; a flag given here wins over it (default: " + configfile.DefaultName + " in the working directory, when it exists)"}
}

// configSchema describes the file from the CLI's own flag definitions: an
// attribute for every flag of every command that reads the file. It reads a
// fresh flag list, as urfave/cli overwrites a flag's Value with its
// environment variable.
type configSchema struct {
	schema   configfile.Schema
	defaults map[string]map[string]string // command → flag → default, as text
	// ownDefault are the flags whose absence means something of their own
	// (a DefaultText such as deploy's --desired-count "keep it").
	ownDefault map[string]map[string]bool
	globals    []string // the app's flags, said at the top level
}

func newConfigSchema() configSchema {
	app := newApp(io.Discard, io.Discard)
	cs := configSchema{defaults: map[string]map[string]string{}, ownDefault: map[string]map[string]bool{}}
	for _, f := range app.Flags {
		cs.globals = append(cs.globals, f.Names()[0])
	}
	for _, name := range configCommands {
		cmd := app.Command(name)
		block := configfile.AttrName(name)
		flags := cmd.Flags
		if name == topLevelCommand {
			block = ""
			flags = append(slices.Clone(app.Flags), flags...) // global flags are said at the top
		}
		sec := configfile.Section{Block: block}
		cs.defaults[name], cs.ownDefault[name] = map[string]string{}, map[string]bool{}
		for _, f := range flags {
			attr, def, ok := flagAttr(f)
			if !ok || slices.ContainsFunc(sec.Attrs, func(a configfile.Attr) bool { return a.Name == attr.Name }) {
				continue
			}
			sec.Attrs = append(sec.Attrs, attr)
			cs.defaults[name][attr.Flag] = def
			cs.ownDefault[name][attr.Flag] = defaultText(f) != ""
		}
		cs.schema = append(cs.schema, sec)
	}
	return cs
}

// flagAttr is the attribute that says flag f in the file, with f's default
// as text; ok is false for flags the file cannot set.
func flagAttr(f ucli.Flag) (attr configfile.Attr, def string, ok bool) {
	name := f.Names()[0]
	if name == "config" || name == "help" {
		return attr, "", false
	}
	attr = configfile.Attr{Name: configfile.AttrName(name), Flag: name}
	if u, isDoc := f.(ucli.DocGenerationFlag); isDoc {
		attr.Usage = u.GetUsage()
	}
	switch ff := f.(type) {
	case *ucli.StringFlag:
		attr.Kind, def = configfile.String, ff.Value
	case *ucli.IntFlag:
		attr.Kind, def = configfile.Int, zeroIsEmpty(fmt.Sprint(ff.Value))
	case *ucli.Int64Flag:
		attr.Kind, def = configfile.Int, zeroIsEmpty(fmt.Sprint(ff.Value))
	case *ucli.UintFlag:
		attr.Kind, def = configfile.Int, zeroIsEmpty(fmt.Sprint(ff.Value))
	case *ucli.BoolFlag:
		attr.Kind = configfile.Bool
		if ff.Value {
			def = "true"
		}
	case *ucli.DurationFlag:
		attr.Kind = configfile.Duration
		if ff.Value != 0 {
			def = shortDuration(ff.Value)
		}
	case *ucli.StringSliceFlag:
		attr.Kind = configfile.List
		if ff.Value != nil {
			def = strings.Join(ff.Value.Value(), ",")
		}
	default:
		return attr, "", false
	}
	return attr, def, true
}

// defaultText is the DefaultText a flag was declared with: what its absence
// means, when that is not a value (GetDefaultText falls back to the value).
func defaultText(f ucli.Flag) string {
	switch ff := f.(type) {
	case *ucli.StringFlag:
		return ff.DefaultText
	case *ucli.IntFlag:
		return ff.DefaultText
	case *ucli.Int64Flag:
		return ff.DefaultText
	case *ucli.UintFlag:
		return ff.DefaultText
	case *ucli.BoolFlag:
		return ff.DefaultText
	case *ucli.DurationFlag:
		return ff.DefaultText
	case *ucli.StringSliceFlag:
		return ff.DefaultText
	}
	return ""
}

func zeroIsEmpty(s string) string {
	if s == "0" {
		return ""
	}
	return s
}

// attrOf finds the attribute of flag in a command's section.
func (cs configSchema) attrOf(command, flag string) (configfile.Attr, bool) {
	block := configfile.AttrName(command)
	if command == topLevelCommand {
		block = ""
	}
	for _, sec := range cs.schema {
		if sec.Block != block {
			continue
		}
		for _, a := range sec.Attrs {
			if a.Flag == flag {
				return a, true
			}
		}
	}
	return configfile.Attr{}, false
}

// reaches reports whether a top-level setting is also one of command's: the
// command has a flag of that name and type whose default is provision's or
// none. A flag with a default of its own (deploy's and smoke-test's timeout;
// deploy's --desired-count, whose absence keeps the service's count, which
// auto scaling may own) means something else there, and is set in the
// command's block.
func (cs configSchema) reaches(command string, s configfile.Setting) bool {
	if command == topLevelCommand {
		return true
	}
	a, ok := cs.attrOf(command, s.Attr.Flag)
	if !ok || a.Kind != s.Attr.Kind {
		return false
	}
	if slices.Contains(cs.globals, s.Attr.Flag) {
		return true
	}
	if cs.ownDefault[command][s.Attr.Flag] {
		return false
	}
	def := cs.defaults[command][s.Attr.Flag]
	return def == "" || def == cs.defaults[topLevelCommand][s.Attr.Flag]
}

// settingsFor are the file's settings for command, in file order: the
// top-level ones that reach it, then its block's, which win.
func (cs configSchema) settingsFor(f *configfile.File, command string) []configfile.Setting {
	var out []configfile.Setting
	block := f.Settings(configfile.AttrName(command))
	for _, s := range f.Settings("") {
		if !cs.reaches(command, s) || slices.ContainsFunc(block, func(b configfile.Setting) bool { return b.Attr.Flag == s.Attr.Flag }) {
			continue
		}
		if a, ok := cs.attrOf(command, s.Attr.Flag); ok {
			s.Attr = a
		}
		out = append(out, s)
	}
	if command == topLevelCommand {
		return out
	}
	return append(out, block...)
}

// configApplier is a command's Before hook: it reads the file and sets each
// flag the command line did not give, then notes where each came from so
// that a value refused later points at its line.
type configApplier struct {
	applied map[string]configfile.Setting // flag → the setting that gave it
}

// locators find the stack another way than by name: given on the command
// line or in the file, the file's name would be refused beside them (one way
// to find the stack), so deploy, smoke-test and status do not apply it.
// destroy checks a --stack-dir's stack against the name instead, so it keeps
// it, and provision's --stack-dir is where it renders.
var locators = []string{"stack-dir", "cluster", "url"}

func (ca *configApplier) before(c *ucli.Context) error {
	path := c.String("config")
	explicit := path != ""
	if !explicit {
		path = configfile.DefaultName
		if _, err := os.Stat(path); err != nil {
			return nil
		}
	}
	cs := newConfigSchema()
	f, err := configfile.Load(path, cs.schema)
	if errors.Is(err, configfile.ErrNotFound) {
		return config.Usagef("config", "%s does not exist: give the path of a graviton-cd.hcl (relative to %s), or write one with graviton-cd init", path, workingDir())
	}
	if err != nil {
		return config.Usagef("config", "%s", err)
	}
	command := c.Command.Name
	settings := cs.settingsFor(f, command)
	locatedOtherwise := slices.ContainsFunc(locators, func(l string) bool {
		return cs.givenOnCommandLine(c, command, l) || slices.ContainsFunc(settings, func(s configfile.Setting) bool { return s.Attr.Flag == l })
	})
	ca.applied = map[string]configfile.Setting{}
	for _, s := range settings {
		flag := s.Attr.Flag
		if cs.givenOnCommandLine(c, command, flag) {
			continue
		}
		if flag == "name" && command != "destroy" && command != topLevelCommand && locatedOtherwise {
			continue
		}
		for _, v := range s.Values {
			if err := c.Set(flag, v); err != nil {
				return config.Usagef("config", "%s", configfile.Diagnostic(s.Range, "Invalid value",
					fmt.Sprintf("%s = %q: %v", s.Attr.Name, v, err)))
			}
		}
		ca.applied[flag] = s
	}
	return nil
}

// givenOnCommandLine reports whether flag was given as a flag or through its
// GRAVITON_CD_ variable, before or after the subcommand. An empty string
// counts as not given, as everywhere in the CLI; so does a variable that
// holds the flag's default, as the orb passes every job parameter, its
// defaults included, as such a variable.
func (cs configSchema) givenOnCommandLine(c *ucli.Context, command, flag string) bool {
	for _, cc := range c.Lineage() {
		if !cc.IsSet(flag) {
			continue
		}
		v := cc.Value(flag)
		if s, isString := v.(string); isString && s == "" {
			continue
		}
		if cs.onlyDefaultFromEnv(command, flag, v) {
			continue
		}
		return true
	}
	return false
}

// onlyDefaultFromEnv reports whether flag's variable is set to the flag's
// default and the flag holds that value.
func (cs configSchema) onlyDefaultFromEnv(command, flag string, current any) bool {
	env, ok := os.LookupEnv(envVars(flag)[0])
	if !ok {
		return false
	}
	a, known := cs.attrOf(command, flag)
	if !known {
		a, known = cs.attrOf(topLevelCommand, flag)
	}
	if !known || a.Kind == configfile.List {
		return false
	}
	def := cs.defaults[command][flag]
	if slices.Contains(cs.globals, flag) {
		def = cs.defaults[topLevelCommand][flag] // the app-level flag's
	}
	return sameFlagValue(a.Kind, env, def) && sameFlagValue(a.Kind, fmt.Sprint(current), def)
}

// sameFlagValue compares two values of a flag as the flag reads them; an
// empty text is the flag type's zero value.
func sameFlagValue(kind configfile.Kind, a, b string) bool {
	switch kind {
	case configfile.Int:
		x, errA := strconv.Atoi(cmp.Or(a, "0"))
		y, errB := strconv.Atoi(cmp.Or(b, "0"))
		return errA == nil && errB == nil && x == y
	case configfile.Bool:
		x, errA := strconv.ParseBool(cmp.Or(a, "false"))
		y, errB := strconv.ParseBool(cmp.Or(b, "false"))
		return errA == nil && errB == nil && x == y
	case configfile.Duration:
		x, errA := time.ParseDuration(cmp.Or(a, "0s"))
		y, errB := time.ParseDuration(cmp.Or(b, "0s"))
		return errA == nil && errB == nil && x == y
	}
	return a == b
}

// annotate points a usage error about a flag the file set at the file's line.
func (ca *configApplier) annotate(err error) error {
	var ue *config.UsageError
	if !errors.As(err, &ue) || ue.Flag == "" {
		return err
	}
	s, ok := ca.applied[ue.Flag]
	if !ok {
		return err
	}
	return &config.UsageError{Flag: ue.Flag, Msg: fmt.Sprintf("%s (set by %s at %s)", ue.Msg, s.Attr.Name, s.Pos())}
}

// withConfigFile makes command read graviton-cd.hcl before its action.
func withConfigFile(cmd *ucli.Command) {
	if !slices.Contains(configCommands, cmd.Name) {
		return
	}
	ca := &configApplier{}
	cmd.Flags = append(cmd.Flags, configFlag())
	cmd.Before = ca.before
	action := cmd.Action
	cmd.Action = func(c *ucli.Context) error { return ca.annotate(action(c)) }
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "the working directory"
	}
	return wd
}
