// Package app holds the use cases the GUI and the CLI share: settings,
// model inventory, diagnostics, generation jobs and their queue, compare,
// hybrid, sweep and bench. It drives engine/ and gallery/, knows nothing of
// Fyne, and builds without cgo: the ONNX Runtime engine (app/local) sits
// behind the Engine interface.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"diptych/app/internal/atomicfile"
	"diptych/engine/models"
)

// Settings are the user's choices that outlive a session.
type Settings struct {
	// ModelDirs are folders that hold model folders (or are model folders).
	ModelDirs []string `json:"model_dirs"`
	// Library is the gallery root; empty means the default data folder.
	Library string `json:"library"`
	// Device is auto, cpu or cuda[:N].
	Device string `json:"device"`
	// ORTLib is an explicit libonnxruntime path; empty means search.
	ORTLib string `json:"ort_lib"`
	// Theme is light, dark or system.
	Theme string `json:"theme"`
	// PreviewEvery is how many denoising steps (or image-token rows) pass
	// between live previews; 0 turns previews off.
	PreviewEvery int `json:"preview_every"`
}

// DefaultSettings returns the settings of a fresh install.
func DefaultSettings() Settings {
	return Settings{Device: "auto", Theme: "system", PreviewEvery: 5}
}

// LoadSettings reads path; a missing file gives the defaults. A file that
// does not parse is an error naming it, never silently replaced.
func LoadSettings(path string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read settings %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("settings file %s is not valid JSON: %w", path, err)
	}
	return s, s.Validate()
}

// Validate checks the fields that have a fixed set of values.
func (s Settings) Validate() error {
	switch s.Theme {
	case "", "light", "dark", "system":
	default:
		return fmt.Errorf("settings: theme %q: expected light, dark or system", s.Theme)
	}
	if s.PreviewEvery < 0 {
		return fmt.Errorf("settings: preview_every %d: expected 0 (off) or more", s.PreviewEvery)
	}
	return nil
}

// Apply fills in what a request leaves to the settings: the device and how
// often to preview. The Studio and the CLI both run requests through it.
func (s Settings) Apply(r Request) Request {
	if r.Device == "" {
		r.Device = s.Device
	}
	if r.PreviewEvery == 0 {
		r.PreviewEvery = s.PreviewEvery
	}
	return r
}

// Save writes the settings atomically (temporary file, then rename).
func (s Settings) Save(path string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// ConfigDir is where Diptych keeps settings and the job queue
// ($XDG_CONFIG_HOME/diptych).
func ConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder: %w", err)
	}
	return filepath.Join(d, "diptych"), nil
}

// DataDir is where Diptych keeps models and the library by default
// ($DIPTYCH_HOME, else $XDG_DATA_HOME/diptych or ~/.local/share/diptych).
func DataDir() (string, error) {
	return models.DefaultDir()
}
