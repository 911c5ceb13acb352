package main

import (
	"context"

	"diptych/ui/desktop"
)

// runGUI opens the window: the Studio, Compare, History, Models and
// Settings views over a real app.Studio (app.NewLocalEngine, the user's
// library and the persisted queue).
func runGUI(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("gui", "", "Open the Diptych window (the default when no command is given).")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return desktop.Run(ctx, desktop.Options{Version: version, ORTLib: c.ortLib})
}
