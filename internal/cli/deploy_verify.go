package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/buildinfo"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
)

// verifyFlags are deploy's flags for checking the new revision: the
// smoke-test checks, run by deploy itself while it can still roll back.
func verifyFlags() []ucli.Flag {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	return []ucli.Flag{
		str("verify-checks", "smoke-test checks `FILE` (smoke-test --checks format) to run against the new revision: during a blue/green, canary or linear deployment through the test listener rule (a failure rolls it back); after a rolling one"),
		str("verify-path", "a single check of this path instead of --verify-checks, such as /version"),
		str("verify-url", "base URL for the checks (default: the stack's url output)"),
		&ucli.StringFlag{Name: "verify-timeout", Value: shortDuration(smoketest.DefaultTimeout), Usage: "overall deadline of the checks; on blue/green, canary and linear keep it below the bake time", EnvVars: envVars("verify-timeout")},
		&ucli.StringFlag{Name: "verify-interval", Value: shortDuration(smoketest.DefaultInterval), Usage: "wait between attempts of a check", EnvVars: envVars("verify-interval")},
		&ucli.StringFlag{Name: "verify-consecutive", Value: strconv.Itoa(smoketest.DefaultConsecutive), Usage: "passes in a row each check needs", EnvVars: envVars("verify-consecutive")},
		&ucli.StringFlag{Name: "expect-status", Value: smoketest.DefaultExpectStatus, Usage: "verification: accepted statuses (200, 200,204 or 2xx)", EnvVars: envVars("expect-status")},
		str("expect-body", "verification: the body must contain this text"),
		str("expect-body-regex", "verification: the body must match this Go (RE2) regular expression"),
		&ucli.StringSliceFlag{Name: "expect-header", Usage: "verification: Name:value response header; repeatable", EnvVars: envVars("expect-header")},
		&ucli.StringSliceFlag{Name: "expect-json", Usage: "verification: path=value in the JSON body; repeatable", EnvVars: envVars("expect-json")},
		str("junit", "write the verification's JUnit XML report to `FILE`"),
	}
}

// TestTrafficHeader is the request header that the test listener rule of a
// blue/green, canary or linear stack matches (provision renders the rule):
// requests carrying it reach the new revision while production traffic
// still goes to the old one.
const TestTrafficHeader = hclgen.TestTrafficHeader

// deployVerifier builds the verification from the --verify-* flags, or nil
// when none asks for it. stackURL is the stack's url output, if known.
// Every bad value is a usage error, before anything touches AWS.
func deployVerifier(c *ucli.Context, env *runEnv, stackURL string) (ecsdeploy.Verifier, error) {
	checks, path := c.String("verify-checks"), c.String("verify-path")
	if checks == "" && path == "" {
		// --junit and --verify-timeout may come from the orb's defaults.
		for _, f := range []string{"verify-url", "expect-body", "expect-body-regex", "expect-header", "expect-json"} {
			if c.IsSet(f) && fmt.Sprint(c.Value(f)) != "" && fmt.Sprint(c.Value(f)) != "[]" {
				return nil, config.Usagef(f, "verifies nothing without --verify-checks FILE or --verify-path PATH: add one of them, or drop this flag")
			}
		}
		return nil, nil
	}
	if c.Bool("no-wait") {
		return nil, config.Usagef("verify-checks", "cannot be used with --no-wait: deploy verifies while it follows the deployment; drop one of the two")
	}
	base := c.String("verify-url")
	if base == "" {
		base = stackURL
	}
	if base == "" && path != "" {
		return nil, config.Usagef("verify-path", "no URL to verify: pass --verify-url https://…, or --name/--stack-dir of a stack whose outputs name its url")
	}
	plan, err := smoketest.NewPlan(smoketest.Options{
		URL: base, Path: path, ChecksFile: checks,
		ExpectStatus: c.String("expect-status"), ExpectBody: c.String("expect-body"), ExpectBodyRegex: c.String("expect-body-regex"),
		ExpectHeaders: c.StringSlice("expect-header"), ExpectJSON: c.StringSlice("expect-json"),
		Timeout: c.String("verify-timeout"), Interval: c.String("verify-interval"), Consecutive: c.String("verify-consecutive"),
		JUnitFile: c.String("junit"),
	})
	if err != nil {
		return nil, renameVerifyFlags(err)
	}
	for i := range plan.Checks {
		ch := &plan.Checks[i]
		if ch.Headers == nil {
			ch.Headers = map[string]string{}
		}
		if _, ok := ch.Headers[TestTrafficHeader]; !ok {
			ch.Headers[TestTrafficHeader] = "1"
		}
	}
	return &checksVerifier{plan: plan, env: env}, nil
}

// checksVerifier runs a smoke-test plan as deploy's verification and writes
// its JUnit report.
type checksVerifier struct {
	plan *smoketest.Plan
	env  *runEnv
}

// Verify runs the checks once; the error names every failed check.
func (v *checksVerifier) Verify(ctx context.Context) error {
	runner := &smoketest.Runner{Log: v.env.log, UserAgent: "graviton-cd/" + buildinfo.Version + " (deploy verification)"}
	report := runner.Run(ctx, v.plan)
	v.env.log.Printf("%s", report.Summary())
	if v.plan.JUnitFile != "" {
		if err := smoketest.WriteJUnitMasked(v.plan.JUnitFile, report, v.env.secrets.mask); err != nil {
			v.env.log.Printf("write JUnit report: %v", err)
		} else {
			v.env.log.Printf("JUnit report written to %s", v.plan.JUnitFile)
		}
	}
	if err := report.Err(); err != nil {
		// Name deploy's flags, not the smoke test's, in what the log says.
		return errors.New(strings.ReplaceAll(err.Error(), "within --timeout", "within --verify-timeout"))
	}
	return nil
}

// renameVerifyFlags names deploy's flags in a smoke-test usage error: the
// smoke test's --timeout is deploy's --verify-timeout, and so on.
func renameVerifyFlags(err error) error {
	var u *config.UsageError
	if !errors.As(err, &u) {
		return err
	}
	names := map[string]string{"timeout": "verify-timeout", "interval": "verify-interval", "consecutive": "verify-consecutive",
		"checks": "verify-checks", "path": "verify-path", "url": "verify-url"}
	msg := u.Msg
	for from, to := range names {
		msg = strings.ReplaceAll(msg, "--"+from+" ", "--"+to+" ")
		msg = strings.ReplaceAll(msg, "--"+from+":", "--"+to+":")
		msg = strings.ReplaceAll(msg, "--"+from+",", "--"+to+",")
		msg = strings.ReplaceAll(msg, "--"+from+")", "--"+to+")")
		if strings.HasSuffix(msg, "--"+from) {
			msg = strings.TrimSuffix(msg, "--"+from) + "--" + to
		}
	}
	flag := u.Flag
	if to, ok := names[flag]; ok {
		flag = to
	}
	return &config.UsageError{Flag: flag, Msg: msg}
}
