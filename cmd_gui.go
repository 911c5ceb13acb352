package main

import (
	"context"
	"errors"
	"os"
	"runtime"

	"diptych/ui/desktop"
)

// errNoDisplay reports a Linux session without a display server, where the
// window cannot open (GLFW would panic).
var errNoDisplay = errors.New("no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the window cannot open; " +
	"run Diptych in a desktop session, or use the subcommands (diptych help) on a headless machine")

// runGUI opens the window: the Studio, Compare, History, Models and
// Settings views over a real app.Studio (app.NewLocalEngine, the user's
// library and the persisted queue).
func runGUI(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("gui", "", "Open the Diptych window (the default when no command is given).")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	return desktop.Run(ctx, desktop.Options{Version: version, ORTLib: c.ortLib})
}
