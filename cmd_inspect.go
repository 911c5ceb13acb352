package main

import (
	"context"
	"errors"
)

// runInspect is not built yet.
func runInspect(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("inspect", "", "diptych inspect (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("inspect is not built yet")
}
