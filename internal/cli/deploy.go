package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

func deployCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "deploy",
		Usage: "register a new task definition revision with a new image and follow that deployment to a verdict",
		Action: func(c *ucli.Context) error {
			return errors.New("deploy is not available yet in this build")
		},
	}
}
