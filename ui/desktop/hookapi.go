//go:build cgo

package desktop

import (
	"fyne.io/fyne/v2"

	"diptych/ui"
)

// testHook, when a guitest build registers it, drives the window for the
// real-window test. Release builds have none.
var testHook func(u *ui.UI, b *Backend, w fyne.Window)

// HookStatus is what the test hook reports.
type HookStatus struct {
	State        string `json:"state"` // "done" or "failed"
	Error        string `json:"error,omitempty"`
	GenerationID int64  `json:"generation_id,omitempty"`
	Image        string `json:"image,omitempty"`
	Model        string `json:"model,omitempty"`
	// Shots are the screenshots taken, one per view.
	Shots []Shot `json:"shots,omitempty"`
}

// Shot is one view's screenshot and the controls found clipped in it.
type Shot struct {
	Name    string   `json:"name"`
	Path    string   `json:"path"`
	Width   int      `json:"width"`
	Height  int      `json:"height"`
	Clipped []string `json:"clipped,omitempty"`
	// Checked counts the labelled controls looked at.
	Checked int `json:"checked"`
}
