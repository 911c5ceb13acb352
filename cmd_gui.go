package main

import (
	"context"

	"diptych/ui/desktop"
)

func runGUI(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("gui", "", "Open the Diptych window (the default when no command is given).")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return desktop.Run()
}
