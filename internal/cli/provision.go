package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

func provisionCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "provision",
		Usage: "render and apply the Terraform root module for an ECS cluster on Graviton EC2",
		Action: func(c *ucli.Context) error {
			return errors.New("provision is not available yet in this build")
		},
	}
}
