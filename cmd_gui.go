package main

import (
	"context"
	"errors"
)

// runGUI is not built yet.
func runGUI(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("gui", "", "diptych gui (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("gui is not built yet")
}
