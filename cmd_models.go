package main

import (
	"context"
	"errors"
)

// runModels is not built yet.
func runModels(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("models", "", "diptych models (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("models is not built yet")
}
