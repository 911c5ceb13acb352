//go:build cgo

// Package desktop opens Diptych's window with the real Fyne driver (cgo,
// OpenGL) and connects the views in package ui to app.Studio, the gallery
// and the model folders. Everything testable headless lives in package ui.
package desktop

import (
	"context"
	"image/color"
	"path/filepath"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"

	"diptych/app"
	"diptych/assets"
	"diptych/ui"
)

// AppID is the application identifier (preferences, desktop file).
const AppID = "io.github.diptych"

// Options configure Run.
type Options struct {
	// Version is recorded with every generation.
	Version string
	// Engine runs generations; nil builds app.NewLocalEngine from the
	// settings.
	Engine app.Engine
	// ConfigDir holds settings.json and queue.json (default app.ConfigDir).
	ConfigDir string
	// ORTLib overrides the settings' runtime library path.
	ORTLib string
}

// Run opens the main window and blocks until it is closed.
func Run(ctx context.Context, o Options) error {
	cfg := o.ConfigDir
	if cfg == "" {
		d, err := app.ConfigDir()
		if err != nil {
			return err
		}
		cfg = d
	}
	settingsPath := filepath.Join(cfg, "settings.json")
	settings, serr := app.LoadSettings(settingsPath)
	if o.ORTLib != "" {
		settings.ORTLib = o.ORTLib
	}
	b, err := NewBackend(ctx, BackendOptions{Settings: settings, SettingsPath: settingsPath,
		QueuePath: filepath.Join(cfg, app.QueueFileName), Engine: o.Engine, Version: o.Version})
	if err != nil {
		return err
	}
	defer b.Close()

	a := fyneapp.NewWithID(AppID)
	a.SetIcon(assets.Icon)
	applyTheme(a, settings.Theme)
	w := a.NewWindow("Diptych")
	u := ui.New(b, w, ui.Options{
		Prefs:   a.Preferences(),
		OnTheme: func(t string) { applyTheme(a, t) },
		Quit:    func() { w.Close() },
	})
	w.SetMainMenu(fyne.NewMainMenu(fyne.NewMenu("Run",
		&fyne.MenuItem{Label: "Generate", Shortcut: ui.GenerateShortcut, Action: func() { u.Studio.Generate.OnTapped() }},
		&fyne.MenuItem{Label: "Cancel", Action: func() { u.Studio.Cancel.OnTapped() }},
	), fyne.NewMenu("Help",
		&fyne.MenuItem{Label: "Keyboard shortcuts", Action: u.ShowShortcuts},
		&fyne.MenuItem{Label: "Hardware and diagnostics", Action: u.ShowDiagnostics},
	)))
	w.Resize(ui.WindowSize(a.Preferences()))
	u.Start()
	b.studio.Start()
	var warnings []string
	if serr != nil {
		warnings = append(warnings, serr.Error())
	}
	warnings = append(warnings, b.studio.Warnings()...)
	for _, msg := range warnings {
		dialog.ShowInformation("Diptych", msg, w)
	}
	if testHook != nil {
		testHook(u, b, w)
	}
	w.ShowAndRun()
	return nil
}

// themed forces light or dark over the default theme.
type themed struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t themed) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func applyTheme(a fyne.App, name string) {
	switch name {
	case "light":
		a.Settings().SetTheme(themed{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		a.Settings().SetTheme(themed{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}
