package main

import (
	"context"
	"errors"
)

// runSweep is not built yet.
func runSweep(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("sweep", "", "diptych sweep (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("sweep is not built yet")
}
