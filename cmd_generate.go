package main

import (
	"context"
	"errors"
)

// runGenerate is not built yet.
func runGenerate(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("generate", "", "diptych generate (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("generate is not built yet")
}
