package cli

import (
	"errors"

	ucli "github.com/urfave/cli/v2"
)

func destroyCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "destroy",
		Usage: "tear the stack down and show that nothing was left behind",
		Action: func(c *ucli.Context) error {
			return errors.New("destroy is not available yet in this build")
		},
	}
}
