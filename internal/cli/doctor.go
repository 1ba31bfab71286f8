package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/doctor"
	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

func doctorCommand() *ucli.Command {
	str := func(name, value, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Value: value, Usage: usage, EnvVars: envVars(name)}
	}
	return &ucli.Command{
		Name:  "doctor",
		Usage: "check, changing nothing, that this machine can run graviton-cd: region, credentials, endpoints, Terraform, permissions",
		Description: "Shows the region, who the credentials belong to (sts:GetCallerIdentity: account and ARN), whether\n" +
			"the AWS endpoints the subcommands call answer, the Terraform CLI and AWS provider provision would use\n" +
			"(nothing is installed), and, where IAM allows the caller to ask (iam:SimulatePrincipalPolicy on\n" +
			"itself), whether its policies allow every action of graviton-cd iam-policy --for the same steps.\n\n" +
			"Exit 0 when nothing failed (notes say what could not be checked), 1 when a check failed, 2 when\n" +
			"there is no region or no credentials at all (the message names the variables that fix it).",
		Flags: []ucli.Flag{
			str("for", "", "comma-separated steps to check for: provision, deploy, smoke-test, destroy, status (default: all)"),
			str("name", "", "stack name, to check the permissions on that stack's resources as iam-policy --name scopes them"),
			str("endpoint-url", "", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"),
			str("terraform-binary", "", "terraform or tofu provision would run (default: terraform on PATH, else tofu)"),
			str("terraform-version", config.DefaultTerraformVersion, "Terraform provision installs when neither terraform nor tofu is on PATH"),
		},
		Action: func(c *ucli.Context) error {
			env, err := newRunEnv(c)
			if err != nil {
				return err
			}
			steps, err := parseSteps(c.String("for"))
			if err != nil {
				return err
			}
			endpoint := c.String("endpoint-url")
			if endpoint != "" {
				if err := config.CheckEndpoint(endpoint); err != nil {
					return err
				}
			}
			if n := c.String("name"); n != "" {
				var fe *iampolicy.FieldError
				if err := (iampolicy.Options{Stack: n}).Validate(); errors.As(err, &fe) {
					return config.Usagef(flagOf(fe.Field), "%s", fe.Msg)
				} else if err != nil {
					return config.Usagef("name", "%s", err)
				}
			}
			// No region or no credentials: exit 2 before anything is called.
			cfg, err := env.aws.Load(c.Context, awsx.Options{Region: env.region, EndpointURL: endpoint})
			if err != nil {
				return err
			}
			home, _ := os.UserHomeDir()
			rep := doctor.Run(c.Context, doctor.Input{
				Config: cfg, Steps: steps, Stack: c.String("name"),
				STS: awsx.NewSTS(cfg), IAM: awsx.NewIAM(cfg),
				Endpoints: doctor.Endpoints(c.Context, cfg, steps),
				Terraform: func(ctx context.Context) (*doctor.Terraform, []doctor.Check) {
					return doctor.CheckTerraform(ctx, doctor.TerraformOptions{
						Binary: c.String("terraform-binary"), Version: c.String("terraform-version"),
						CacheDir: terraform.DefaultCacheDir(), Home: home,
					})
				},
			})
			if err := env.result(doctorText(rep), rep); err != nil {
				return err
			}
			return rep.Err()
		},
	}
}

// doctorText is one line per check, its status first.
func doctorText(r doctor.Report) string {
	var b strings.Builder
	for i, c := range r.Checks {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%-8s %-12s %s", c.Status, c.Name, c.Message)
	}
	return b.String()
}
