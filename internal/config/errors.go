// Package config holds typed, validated settings for every subcommand. Every bad
// input becomes a *UsageError here, before anything touches AWS or the disk.
package config

import (
	"errors"
	"fmt"
)

// UsageError reports bad input or configuration. The CLI maps it to exit code 2.
// Its message says what is wrong and what would be right.
type UsageError struct {
	Flag string // the flag (without dashes) at fault, if one is
	Msg  string
}

func (e *UsageError) Error() string {
	if e.Flag == "" {
		return e.Msg
	}
	return fmt.Sprintf("--%s: %s", e.Flag, e.Msg)
}

// Usagef builds a *UsageError for flag with a formatted message.
func Usagef(flag, format string, args ...any) error {
	return &UsageError{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// IsUsage reports whether err is, or wraps, a *UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}
