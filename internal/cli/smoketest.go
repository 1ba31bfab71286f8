package cli

import (
	"fmt"
	"strconv"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/buildinfo"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
)

const smokeTestDescription = `Sends each check's request until it passes --consecutive times in a row,
--interval apart, or the --timeout deadline passes. Checks run side by side.

Retried until the deadline: connection refused or reset, DNS name not found, no
answer in time, 502/503/504, and answers that miss an expectation (wrong version,
404, too slow), since the app may still be rolling out. Ended at once: TLS
certificate problems, a redirect loop, and 4xx answers other than 404/408/425/429.

Redirects are followed (at most 10) and the final answer is judged; a check that
expects a 3xx status is not redirected, so it can assert the redirect itself.

--checks FILE is YAML:

   checks:
     - name: version
       path: /version          # or url: https://… ; relative to --url
       method: GET             # headers: {…}, body: "…" also allowed
       expect:
         status: 2xx           # 200, 2xx or a list
         json: {version: v1.2.3}
         body: …               # body_regex, headers: {Name: value}, max_latency: 500ms

The --expect-* and --max-latency flags are defaults for every check; a check's
own expect fields replace them.`

func smokeTestCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "smoke-test",
		Usage:       "prove the deployed app works over HTTP, with a deadline, retries and JUnit output",
		Description: smokeTestDescription,
		Flags: append([]ucli.Flag{
			&ucli.StringFlag{Name: "url", Usage: "URL to test, such as https://app.example.com/health (or the base for --checks paths)", EnvVars: envVars("url")},
			&ucli.StringFlag{Name: "stack-dir", Usage: "take the URL from provision's outputs.json in this directory", EnvVars: envVars("stack-dir")},
			&ucli.StringFlag{Name: "path", Usage: "path to test, relative to --url or the stack's URL, such as /version", EnvVars: envVars("path")},
			&ucli.StringFlag{Name: "expect-status", Value: smoketest.DefaultExpectStatus, Usage: "accepted statuses: a code, a list (200,204) or a class (2xx)", EnvVars: envVars("expect-status")},
			&ucli.StringFlag{Name: "expect-body", Usage: "the body must contain this text", EnvVars: envVars("expect-body")},
			&ucli.StringFlag{Name: "expect-body-regex", Usage: "the body must match this Go (RE2) regular expression", EnvVars: envVars("expect-body-regex")},
			&ucli.StringSliceFlag{Name: "expect-header", Usage: "Name:value — a response header containing value (Name: for presence only); repeatable", EnvVars: envVars("expect-header")},
			&ucli.StringSliceFlag{Name: "expect-json", Usage: "path=value — the JSON body holds value at the dot path (version, build.tags[0]); repeatable", EnvVars: envVars("expect-json")},
			&ucli.StringFlag{Name: "checks", Usage: "YAML `FILE` with several named checks (format above)", EnvVars: envVars("checks")},
			&ucli.StringFlag{Name: "timeout", Value: shortDuration(smoketest.DefaultTimeout), Usage: "overall deadline for all checks", EnvVars: envVars("timeout")},
			&ucli.StringFlag{Name: "interval", Value: shortDuration(smoketest.DefaultInterval), Usage: "wait between attempts of a check", EnvVars: envVars("interval")},
			&ucli.StringFlag{Name: "consecutive", Value: strconv.Itoa(smoketest.DefaultConsecutive), Usage: "passes in a row each check needs, so a flapping app fails", EnvVars: envVars("consecutive")},
			&ucli.StringFlag{Name: "max-latency", Usage: "slowest acceptable answer per request, such as 500ms (default: no limit)", EnvVars: envVars("max-latency")},
			&ucli.StringFlag{Name: "junit", Usage: "write a JUnit XML report to `FILE` for store_test_results", EnvVars: envVars("junit")},
			&ucli.StringSliceFlag{Name: "connect-to", Usage: "HOST:PORT:ADDR:PORT, as curl's: connect there instead, keeping Host header and TLS name; repeatable", EnvVars: envVars("connect-to")},
			&ucli.StringFlag{Name: "ca-cert", Usage: "PEM `FILE` with a CA to trust besides the system's", EnvVars: envVars("ca-cert")},
			&ucli.BoolFlag{Name: "insecure", Usage: "skip TLS certificate verification (test stacks only)", EnvVars: envVars("insecure")},
		}, stackRefFlags(true)...),
		Action: runSmokeTest,
	}
}

func runSmokeTest(c *ucli.Context) error {
	env, err := newRunEnv(c)
	if err != nil {
		return err
	}
	url := c.String("url")
	ref, byName, err := stackRef(c, env)
	if err != nil {
		return err
	}
	if byName {
		if c.String("stack-dir") != "" || url != "" {
			return config.Usagef("name", "conflicts with --stack-dir and --url: give one way to find the app")
		}
		f, err := findStack(c.Context, env, ref)
		if err != nil {
			return err
		}
		if url = f.Outputs.URL; url == "" {
			return config.Usagef("name", "stack %s has no url output: re-run provision, or pass --url", ref.Name)
		}
	}
	plan, err := smoketest.NewPlan(smoketest.Options{
		URL:             url,
		StackDir:        c.String("stack-dir"),
		Path:            c.String("path"),
		ExpectStatus:    c.String("expect-status"),
		ExpectBody:      c.String("expect-body"),
		ExpectBodyRegex: c.String("expect-body-regex"),
		ExpectHeaders:   c.StringSlice("expect-header"),
		ExpectJSON:      c.StringSlice("expect-json"),
		ChecksFile:      c.String("checks"),
		Timeout:         c.String("timeout"),
		Interval:        c.String("interval"),
		Consecutive:     c.String("consecutive"),
		MaxLatency:      c.String("max-latency"),
		JUnitFile:       c.String("junit"),
		ConnectTo:       c.StringSlice("connect-to"),
		CACertFile:      c.String("ca-cert"),
		Insecure:        c.Bool("insecure"),
	})
	if err != nil {
		return err
	}
	runner := &smoketest.Runner{Log: env.log, UserAgent: "graviton-cd/" + buildinfo.Version + " (smoke-test)"}
	report := runner.Run(c.Context, plan)
	if plan.JUnitFile != "" {
		if err := smoketest.WriteJUnitMasked(plan.JUnitFile, report, env.secrets.mask); err != nil {
			return fmt.Errorf("%w: check that the directory is writable", err)
		}
		env.log.Printf("JUnit report written to %s", plan.JUnitFile)
	}
	if err := env.result(smokeTestSummary(report), newSmokeTestResult(report)); err != nil {
		return err
	}
	return report.Err()
}

func smokeTestSummary(r *smoketest.Report) string { return r.Summary() }

// shortDuration prints whole minutes as "2m" rather than time's "2m0s".
func shortDuration(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
