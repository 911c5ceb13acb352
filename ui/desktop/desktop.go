// Package desktop opens Diptych's window with the real Fyne driver (cgo,
// OpenGL). Everything testable lives in package ui.
package desktop

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"diptych/ui"
)

// AppID is the application identifier (preferences, desktop file).
const AppID = "io.github.diptych"

// Run opens the main window and blocks until it is closed.
func Run() error {
	a := fyneapp.NewWithID(AppID)
	w := a.NewWindow("Diptych")
	w.SetContent(ui.NoModelsView())
	w.Resize(fyne.NewSize(1100, 720))
	w.ShowAndRun()
	return nil
}
