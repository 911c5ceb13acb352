// Package ui builds Diptych's Fyne views. It never imports fyne.io/fyne/v2/app
// (ui/desktop does), so views test headless with CGO_ENABLED=0, and it never
// calls ONNX Runtime: everything goes through the app layer.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// NoModelsView is the first-run screen shown while no model is installed.
func NoModelsView() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("No models are installed yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	body := widget.NewLabel("Diptych runs Stable Diffusion XL and Janus-Pro on this machine.\n\n" +
		"Download one:      diptych models pull sdxl-base   |   diptych models pull janus-pro-1b\n" +
		"Or import a folder:  diptych models import DIR\n\n" +
		"Then check what will run here with:  diptych doctor")
	body.Alignment = fyne.TextAlignCenter
	return container.NewCenter(container.NewVBox(title, body))
}
