//go:build cgo

package desktop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CopyImage puts a PNG on the system clipboard as an image (Fyne's
// clipboard holds text only): wl-copy or xclip on Linux, osascript on
// macOS, PowerShell on Windows.
func (b *Backend) CopyImage(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("copy image: %w", err)
	}
	var tries [][]string
	switch runtime.GOOS {
	case "darwin":
		tries = [][]string{{"osascript", "-e", fmt.Sprintf(`set the clipboard to (read (POSIX file %q) as «class PNGf»)`, path)}}
	case "windows":
		tries = [][]string{{"powershell", "-NoProfile", "-Command",
			"Add-Type -AssemblyName System.Windows.Forms; [System.Windows.Forms.Clipboard]::SetImage([System.Drawing.Image]::FromFile('" +
				strings.ReplaceAll(path, "'", "''") + "'))"}}
	default:
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			tries = append(tries, []string{"wl-copy", "--type", "image/png"})
		}
		tries = append(tries, []string{"xclip", "-selection", "clipboard", "-t", "image/png", "-i", path})
	}
	var errs []error
	for _, t := range tries {
		if _, err := exec.LookPath(t[0]); err != nil {
			errs = append(errs, fmt.Errorf("%s is not installed", t[0]))
			continue
		}
		cmd := exec.Command(t[0], t[1:]...)
		if t[0] == "wl-copy" {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			cmd.Stdin = f
		}
		// xclip stays running to serve the selection: start it, don't wait.
		if t[0] == "xclip" || t[0] == "wl-copy" {
			if err := cmd.Start(); err != nil {
				errs = append(errs, err)
				continue
			}
			go cmd.Wait()
			return nil
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v %s", t[0], err, strings.TrimSpace(string(out))))
			continue
		}
		return nil
	}
	return fmt.Errorf("copy image to the clipboard: %w", errors.Join(errs...))
}

// ShowInFolder opens the system file manager on the image's folder
// (selecting the file where the platform can).
func (b *Backend) ShowInFolder(path string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", "-R", path)
	case "windows":
		cmd = exec.Command("explorer", "/select,"+path)
	default:
		cmd = exec.Command("xdg-open", filepath.Dir(path))
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("show in the file manager: %w", err)
	}
	go cmd.Wait()
	return nil
}
