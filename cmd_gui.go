package main

import (
	"context"
	"errors"
	"os"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/ui/desktop"
)

// errNoDisplay reports a Linux session without a display server, where the
// window cannot open (GLFW would panic).
var errNoDisplay = errors.New("no display: neither DISPLAY nor WAYLAND_DISPLAY is set, so the window cannot open; " +
	"run Diptych in a desktop session, or use the subcommands (diptych help) on a headless machine")

// newGUICmd declares `diptych gui`, which `diptych` alone runs too.
func newGUICmd(c *cli) *cobra.Command {
	cmd := c.command("gui", "open the window (the default with no arguments)",
		"Open the Diptych window (the default when no command is given).",
		func(ctx context.Context, _ *pflag.FlagSet, _ []string) error { return runGUI(ctx, c) })
	cmd.Args = noArgs
	return cmd
}

// runGUI opens the window: the Studio, Compare, History, Models and
// Settings views over a real app.Studio (app.NewLocalEngine, the user's
// library and the persisted queue).
func runGUI(ctx context.Context, c *cli) error {
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" && os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	return desktop.Run(ctx, desktop.Options{Version: version, ORTLib: c.ortLib})
}
