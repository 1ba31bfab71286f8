// Package cli is the graviton-cd command line: subcommands, flags (each also
// read from a GRAVITON_CD_* environment variable) and exit codes. It is the only
// package that knows about urfave/cli.
package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/buildinfo"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// Exit codes: a contract with users' pipelines.
const (
	ExitOK     = 0 // success
	ExitFailed = 1 // the operation failed: deployment, smoke test or terraform
	ExitUsage  = 2 // bad input or configuration; nothing was changed
)

const exitCodesHelp = `EXIT CODES:
   0  success
   1  the operation failed (deployment failed or timed out, smoke test failed, terraform failed)
   2  bad input or configuration (nothing was created or changed)

Every flag can also be set through an environment variable GRAVITON_CD_<FLAG>,
upper snake case (--stack-dir is GRAVITON_CD_STACK_DIR). A flag wins over its variable.`

// Run runs the CLI with os.Stdout and os.Stderr and returns the exit code.
func Run(ctx context.Context, args []string) int {
	return RunIO(ctx, args, os.Stdout, os.Stderr)
}

// RunIO runs the CLI writing results to stdout and progress to stderr, and
// returns the process exit code.
func RunIO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var notFound error
	// With --output json, stdout holds the envelope alone: help text goes to stderr.
	out := &outcome{json: jsonRequested(args), stdout: stdout}
	appOut := stdout
	if out.json {
		appOut = stderr
	}
	app := newApp(appOut, stderr)
	app.Metadata = map[string]any{outcomeKey: out}
	out.command = commandIn(helpAsFlag(args), commandNames(app))
	app.CommandNotFound = func(c *ucli.Context, name string) {
		notFound = config.Usagef("", "unknown command %q: %srun graviton-cd --help to list %s", name,
			didYouMean(commandNames(app), name, ""), strings.Join(commandNames(app), ", "))
	}
	err := app.RunContext(ctx, helpAsFlag(args))
	if err == nil {
		err = notFound
	}
	code, sec := ExitOK, loadSecrets()
	if err != nil {
		code = exitCode(err)
		fmt.Fprintf(stderr, "graviton-cd: error: %s\n", sec.mask(userMessage(err)))
	}
	if out.json {
		if perr := out.print(out.envelope(err, code, sec.mask), sec); perr != nil {
			fmt.Fprintf(stderr, "graviton-cd: error: print result: %v\n", perr)
		}
	}
	return code
}

// exitCode is 2 for bad input and 1 for any other failure. An error that
// carries an exit code of its own (terraform's *exec.ExitError, which exits
// 2 for its own reasons) does not pass it through: 0, 1 and 2 are the
// contract.
func exitCode(err error) int {
	if config.IsUsage(err) {
		return ExitUsage
	}
	return ExitFailed
}

func newApp(stdout, stderr io.Writer) *ucli.App {
	app := &ucli.App{
		Name:  "graviton-cd",
		Usage: "Continuous Deployment to AWS ECS on Graviton (arm64) EC2",
		Description: "provision → deploy → smoke-test → destroy, the step binary behind the graviton-cd CircleCI orb.\n\n" +
			exitCodesHelp,
		Version:              buildinfo.Version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: false,
		HideHelpCommand:      true,
		Flags:                globalFlags(true),
		ExitErrHandler:       func(*ucli.Context, error) {}, // exit codes are ours to map
		OnUsageError:         onUsageError,
		Commands: []*ucli.Command{
			provisionCommand(),
			deployCommand(),
			smokeTestCommand(),
			destroyCommand(),
			statusCommand(),
			logsCommand(),
			rollbackCommand(),
			runTaskCommand(),
			iamPolicyCommand(),
			initCommand(),
			versionCommand(),
			doctorCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
		c.Flags = append(c.Flags, globalFlags(false)...)
		withConfigFile(c)
	}
	return app
}

// badFlagValue matches the flag package's "invalid value" parse errors.
var badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-([\w-]+): `)

// badEnvValue matches urfave/cli's error for a variable that does not parse
// as its flag's type.
var badEnvValue = regexp.MustCompile(`^could not parse "(.*)" as \w+ value from environment variable "(\w+)" for flag ([\w-]+): `)

// unknownFlag matches the flag package's error for a flag nobody defined.
var unknownFlag = regexp.MustCompile(`^flag provided but not defined: -+([\w-]+)`)

// didYouMean is "did you mean <prefix>X? " for the candidate closest to what
// was typed, or "" when none is close. Closeness is Jaro-Winkler similarity (the
// measure urfave/cli's own suggestions use), with a floor so that a word
// unlike every candidate gets no suggestion rather than a random one.
func didYouMean(candidates []string, typed, prefix string) string {
	best, score := "", 0.0
	for _, c := range candidates {
		if s := smetrics.JaroWinkler(c, typed, 0.7, 4); s > score {
			best, score = c, s
		}
	}
	if score < 0.8 {
		return ""
	}
	return "did you mean " + prefix + best + "? "
}

// commandNames are the app's subcommands, in their order.
func commandNames(app *ucli.App) []string {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// flagNames are the names of the flags the command in c takes.
func flagNames(c *ucli.Context) []string {
	var flags []ucli.Flag
	if c != nil && c.Command != nil {
		flags = c.Command.Flags
	}
	if c != nil && c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	var names []string
	for _, f := range flags {
		for _, n := range f.Names() {
			names = append(names, n)
		}
	}
	return names
}

// helpAsFlag turns "graviton-cd help deploy" into "graviton-cd deploy --help",
// and a bare "graviton-cd help" into "graviton-cd --help".
// Global flags may come first ("graviton-cd --output json help deploy").
func helpAsFlag(args []string) []string {
	i := firstWord(args)
	if i < 0 || args[i] != "help" {
		return args
	}
	out := slices.Clone(args[:i])
	if len(args) > i+1 {
		out = append(out, args[i+1])
	}
	return append(out, "--help")
}

// onUsageError turns the flag parser's terse errors into ones that say what a
// right value looks like.
func onUsageError(c *ucli.Context, err error, _ bool) error {
	m := badFlagValue.FindStringSubmatch(err.Error())
	from := ""
	if e := badEnvValue.FindStringSubmatch(err.Error()); e != nil {
		m, from = []string{e[0], e[1], e[3]}, " (from "+e[2]+")"
	}
	if m == nil {
		if u := unknownFlag.FindStringSubmatch(err.Error()); u != nil {
			return config.Usagef("", "unknown flag --%s: %ssee --help", u[1], didYouMean(flagNames(c), u[1], "--"))
		}
		return &config.UsageError{Msg: err.Error() + " (see --help)"}
	}
	value, name := m[1], m[2]
	want := "see --help for what it takes"
	var flags []ucli.Flag
	if c != nil && c.Command != nil {
		flags = c.Command.Flags
	}
	if c != nil && c.App != nil {
		flags = append(flags, c.App.Flags...)
	}
	for _, f := range flags {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		switch f.(type) {
		case *ucli.DurationFlag:
			want = "use a number with a unit, such as 90s, 15m or 1h30m"
		case *ucli.IntFlag, *ucli.Int64Flag, *ucli.UintFlag:
			want = "use a whole number, such as 2"
		case *ucli.BoolFlag:
			want = "use true or false (or give the flag alone for true)"
		}
	}
	return config.Usagef(name, "%q%s is not a valid value: %s", value, from, want)
}

// Global flags are accepted before or after the subcommand. Only the app-level
// copies read the environment and carry defaults, so a flag typed in either
// place beats the variable (see lookupString).
func globalFlags(app bool) []ucli.Flag {
	flags := []*ucli.StringFlag{
		{Name: "region", Usage: "AWS region; overrides AWS_REGION and the profile"},
		{Name: "output", Value: "text", Usage: "result format on stdout: text, or json (one object on every exit, docs/json-output.md)"},
		{Name: "log-level", Value: "info", Usage: "info or debug"},
	}
	out := make([]ucli.Flag, len(flags))
	for i, f := range flags {
		if app {
			f.EnvVars = envVars(f.Name)
		} else {
			f.Usage += " (global)"
			f.Value = ""
		}
		out[i] = f
	}
	return out
}

// envVars names the environment variable that also sets flag name.
func envVars(name string) []string {
	return []string{"GRAVITON_CD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
}

// lookupString returns a global flag that may have been given before or after
// the subcommand: the innermost context where it was set wins, then the
// environment variable, then the default (both held by the app-level flag).
func lookupString(c *ucli.Context, name string) string {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.String(name)
		}
	}
	for _, f := range c.App.Flags {
		if sf, ok := f.(*ucli.StringFlag); ok && sf.Name == name {
			return sf.Value
		}
	}
	return ""
}

// runEnv is what every subcommand gets: where to print and how.
type runEnv struct {
	stdout  io.Writer
	log     *progress.Logger
	json    bool
	region  string
	secrets secrets // what stdout and log mask; mask them in files too
	outcome *outcome
	aws     *sharedAWSConfig // the one AWS configuration of the run (awsconfig.go)
}

func newRunEnv(c *ucli.Context) (*runEnv, error) {
	// An empty value counts as not given, as for every subcommand flag.
	out := cmp.Or(lookupString(c, "output"), "text")
	if out != "text" && out != "json" {
		return nil, config.Usagef("output", "%q is not a format: use text or json", out)
	}
	level := cmp.Or(lookupString(c, "log-level"), "info")
	if level != "info" && level != "debug" {
		return nil, config.Usagef("log-level", "%q is not a log level: use info or debug", level)
	}
	region := lookupString(c, "region")
	if err := awsx.Region(region); err != nil {
		return nil, err
	}
	sec := loadSecrets()
	stderr := redactingWriter{c.App.ErrWriter, sec}
	o := outcomeOf(c.App.Metadata, c.App.Writer)
	o.json, o.command = out == "json", c.Command.Name
	return &runEnv{
		stdout:  redactingWriter{o.stdout, sec},
		log:     progress.New(stderr, nil, level == "debug"),
		json:    out == "json",
		region:  region,
		secrets: sec,
		outcome: o,
		aws:     &sharedAWSConfig{},
	}, nil
}

// result prints the final summary: one line of text, or with --output json
// keeps v for the envelope RunIO prints (envelope.go).
func (e *runEnv) result(text string, v any) error {
	if !e.json {
		_, err := fmt.Fprintln(e.stdout, text)
		return err
	}
	e.setResult(v)
	return nil
}

// setResult keeps v as the envelope's result, for a command that failed
// after learning something worth reporting (it prints no text summary).
func (e *runEnv) setResult(v any) { e.outcome.result = v }

func versionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "version",
		Usage: "print the version of this binary",
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			return env.result(fmt.Sprintf("graviton-cd %s (commit %s, built %s)", buildinfo.Version, buildinfo.Commit, buildinfo.Date),
				newVersionResult())
		},
	}
}
