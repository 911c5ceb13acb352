// Package app holds the use cases the GUI and the CLI share: settings,
// diagnostics, generation jobs and their queue, compare, sweep and bench.
// It drives engine/ and gallery/ and knows nothing of Fyne.
package app

import (
	"encoding/json"

	"diptych/engine/models"
	"diptych/engine/ort"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// LocateRuntime returns where to look for the ONNX Runtime library: flag
// (--ort-lib or the settings' path), the environment, the GPU runtimes
// installed with `diptych models runtime --gpu`, then the defaults.
func LocateRuntime(flag string) ort.LocateOptions {
	o := ort.DefaultLocateOptions(flag)
	if st, err := models.OpenDefault(); err == nil {
		for _, r := range models.InstalledRuntimes(st.LibDir()) {
			o.Installed = append(o.Installed, r.Library)
		}
	}
	return o
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

// Save writes the settings atomically (temporary file, then rename).
func (s Settings) Save(path string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
