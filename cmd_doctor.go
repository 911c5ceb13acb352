package main

import (
	"context"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/app/local"
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
	eng := local.New(local.Options{ORTLib: c.ortLibPath(settings)})
	defer eng.Close()
	reg, _ := models.OpenDefault()
	report := app.Diagnose(ctx, app.DoctorOptions{
		Runtime:   eng,
		Registry:  registry(reg),
		ModelDirs: append(append([]string(nil), settings.ModelDirs...), dirs...),
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
// registry is the managed model store as app's Registry, nil when there is
// none (a typed nil would look like a store).
func registry(st *models.Store) app.Registry {
	if st == nil {
		return nil
	}
	return st
}
