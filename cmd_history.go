package main

import (
	"context"
	"errors"
)

// runHistory is not built yet.
func runHistory(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("history", "", "diptych history (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("history is not built yet")
}
