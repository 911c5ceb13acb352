package main

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/engine/models"
)

// newDoctorCmd declares `diptych doctor` and its flags.
func newDoctorCmd(c *cli) *cobra.Command {
	var asJSON bool
	var dirs []string
	cmd := c.command("doctor [--json] [--models DIR]...", "report the runtime, GPU, CUDA libraries and installed models",
		"Report the system, the ONNX Runtime library, GPUs, CUDA and cuDNN libraries, installed models,\n"+
			"and whether each model will run here. Exits 0 even without a GPU.",
		func(ctx context.Context, _ *pflag.FlagSet, _ []string) error { return runDoctor(ctx, c, &asJSON, dirs) })
	cmd.Args = noArgs
	fs := cmd.Flags()
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringArrayVar(&dirs, "models", nil, "also look for model folders in `DIR` (repeatable)")
	return cmd
}

func runDoctor(ctx context.Context, c *cli, asJSON *bool, dirs []string) error {
	settings, _ := c.settings()
	report := app.Diagnose(ctx, app.DoctorOptions{
		Locate:    app.LocateRuntime(c.ortLibPath(settings)),
		ModelDirs: append(c.modelDirs(settings), dirs...),
	})
	if *asJSON {
		return c.printJSON(report)
	}
	report.WriteText(c.stdout)
	return nil
}

// settings returns the user's settings, read from disk on the first call of
// a command and remembered for the rest of it: a command reads them in
// several places (model folders, library, runtime), and a broken file is
// reported once, then the defaults are used so the command still runs.
func (c *cli) settings() (app.Settings, error) {
	c.settingsOnce.Do(func() {
		dir, err := app.ConfigDir()
		if err != nil {
			c.settingsVal, c.settingsErr = app.DefaultSettings(), err
			return
		}
		c.settingsVal, c.settingsErr = app.LoadSettings(filepath.Join(dir, "settings.json"))
		if c.settingsErr != nil {
			c.warn("%v (using defaults)", c.settingsErr)
		}
	})
	return c.settingsVal, c.settingsErr
}

// ortLibPath is the --ort-lib flag, else the settings' runtime path.
func (c *cli) ortLibPath(s app.Settings) string {
	if c.ortLib != "" {
		return c.ortLib
	}
	return s.ORTLib
}

// modelDirs are the folders searched for models: the registered models
// (pulled or imported), the settings' folders and the default models folder.
func (c *cli) modelDirs(s app.Settings) []string {
	var dirs []string
	if st, err := models.OpenDefault(); err == nil {
		if entries, err := st.List(); err == nil {
			for _, e := range entries {
				dirs = append(dirs, e.Dir)
			}
		}
		dirs = append(dirs, st.ModelsDir())
	}
	return append(dirs, s.ModelDirs...)
}
