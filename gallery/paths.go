package gallery

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultRoot is the library folder used when none is given: $DIPTYCH_LIBRARY
// if set, else "diptych/library" in the user's data folder
// ($XDG_DATA_HOME or ~/.local/share on Linux, ~/Library/Application Support
// on macOS, %LOCALAPPDATA% on Windows).
func DefaultRoot() (string, error) {
	if d := os.Getenv("DIPTYCH_LIBRARY"); d != "" {
		return d, nil
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LOCALAPPDATA")
		if base == "" {
			dir, err := os.UserConfigDir()
			if err != nil {
				return "", err
			}
			base = dir
		}
		return filepath.Join(base, "Diptych", "library"), nil
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "Diptych", "library"), nil
	}
	base = os.Getenv("XDG_DATA_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", errors.New("no library folder: $HOME is not set; pass --library DIR")
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "diptych", "library"), nil
}
