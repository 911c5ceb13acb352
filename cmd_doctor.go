package main

import (
	"context"
	"path/filepath"
	"strings"

	"diptych/app"
	"diptych/app/local"
	"diptych/engine/models"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runDoctor(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("doctor", "[--json] [--models DIR]...",
		"Report the system, the ONNX Runtime library, GPUs, CUDA and cuDNN libraries, installed models,\n"+
			"and whether each model will run here. Exits 0 even without a GPU.")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var dirs stringList
	fs.Var(&dirs, "models", "also look for model folders in `DIR` (repeatable)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
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
		return report.WriteJSON(c.stdout)
	}
	report.WriteText(c.stdout)
	return nil
}

// settings loads the user's settings; a broken file is reported and the
// defaults are used so the command still runs.
func (c *cli) settings() (app.Settings, error) {
	dir, err := app.ConfigDir()
	if err != nil {
		return app.DefaultSettings(), err
	}
	s, err := app.LoadSettings(filepath.Join(dir, "settings.json"))
	if err != nil {
		c.warn("%v (using defaults)", err)
	}
	return s, err
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
