package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// downloadHelp says how to fetch real models (the download manager lives in
// `diptych models`).
const downloadHelp = "Download a model with the command line (resumable, verified):\n\n" +
	"    diptych models pull sdxl-base\n" +
	"    diptych models pull sdxl-refiner\n" +
	"    diptych models pull janus-pro-1b\n\n" +
	"then press Refresh here. \"diptych doctor\" says what will run on this machine."

// ModelsView lists the installed models, with a guided empty state.
type ModelsView struct {
	u *UI

	List        *widget.List
	Refresh     *widget.Button
	Import      *widget.Button
	InstallDemo *widget.Button
	Download    *widget.Button
	Empty       fyne.CanvasObject

	models  []ModelInfo
	stack   *fyne.Container
	listBox fyne.CanvasObject
	content fyne.CanvasObject
}

func newModelsView(u *UI) *ModelsView {
	v := &ModelsView{u: u}
	h := u.Hints
	v.List = widget.NewList(func() int { return len(v.models) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Wrapping = fyne.TextWrapWord
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(v.models) {
				o.(*widget.Label).SetText(modelLine(v.models[i]))
				v.List.SetItemHeight(i, o.MinSize().Height)
			}
		})
	v.Refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), func() { u.LoadModels() })
	v.Import = widget.NewButtonWithIcon("Import a folder…", theme.FolderOpenIcon(), v.importFolder)
	v.InstallDemo = widget.NewButtonWithIcon("Install the demo models", theme.DownloadIcon(), v.installDemo)
	v.Download = widget.NewButtonWithIcon("Download…", theme.DownloadIcon(), func() {
		dialog.ShowInformation("Download models", downloadHelp, u.win)
	})
	buttons := container.NewHBox(
		h.With(v.Refresh, "Look in the model folders again"),
		h.With(v.Import, "Use a model folder you already have (SDXL ONNX or Janus-Pro ONNX export)"),
		h.With(v.Download, "How to download SDXL and Janus-Pro"),
		h.With(v.InstallDemo, "Tiny random models that produce NOISE, to try the whole flow offline"))
	v.Empty = v.emptyState()
	v.listBox = container.NewBorder(nil, buttons, nil, nil, v.List)
	v.stack = container.NewStack(v.Empty, v.listBox)
	v.content = v.stack
	v.show()
	return v
}

func (v *ModelsView) emptyState() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("No models are installed yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	body := widget.NewLabel("Diptych runs Stable Diffusion XL and Janus-Pro on this machine, offline.\n" +
		"Pick one way to start:")
	body.Alignment = fyne.TextAlignCenter
	dl := widget.NewButtonWithIcon("Download SDXL or Janus-Pro…", theme.DownloadIcon(), func() {
		dialog.ShowInformation("Download models", downloadHelp, v.u.win)
	})
	imp := widget.NewButtonWithIcon("Import a model folder…", theme.FolderOpenIcon(), v.importFolder)
	demo := widget.NewButtonWithIcon("Install the demo models (they produce noise)", theme.ComputerIcon(), v.installDemo)
	note := widget.NewLabel("The demo models are tiny random networks: every image is noise.\n" +
		"They let you try the queue, progress, history and compare without a download.")
	note.Alignment = fyne.TextAlignCenter
	return container.NewCenter(container.NewVBox(title, body, dl, imp, demo, note))
}

func modelLine(m ModelInfo) string {
	kind := map[string]string{KindSDXLBase: "SDXL base", KindSDXLRefiner: "SDXL refiner", KindJanus: "Janus-Pro"}[m.Kind]
	if kind == "" {
		kind = "unknown"
	}
	if m.Params != "" {
		kind += " " + m.Params
	}
	line := fmt.Sprintf("%s — %s, %d MB\n%s", m.Name, kind, m.SizeMB, m.Dir)
	if m.Demo {
		line += "\nDEMO MODEL: random weights, produces noise"
	}
	if m.Problem != "" {
		line += "\nNot usable: " + m.Problem
	}
	return line
}

// SetModels shows the list, or the empty state when nothing is usable.
func (v *ModelsView) SetModels(ms []ModelInfo) {
	v.models = ms
	v.List.Refresh()
	v.show()
}

// Usable reports how many models can run.
func (v *ModelsView) Usable() int {
	n := 0
	for _, m := range v.models {
		if m.Problem == "" {
			n++
		}
	}
	return n
}

func (v *ModelsView) show() {
	if v.Usable() == 0 {
		v.listBox.Hide()
		v.Empty.Show()
	} else {
		v.Empty.Hide()
		v.listBox.Show()
	}
}

func (v *ModelsView) importFolder() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		v.ImportDir(dir.Path())
	}, v.u.win)
}

// ImportDir registers a model folder in place.
func (v *ModelsView) ImportDir(dir string) {
	v.u.setStatus("Importing " + dir + "…")
	v.u.work(func() error { return v.u.b.ImportModel(v.u.ctx, dir) }, func() {
		v.u.setStatus("Imported " + dir)
		v.u.LoadModels()
	})
}

func (v *ModelsView) installDemo() {
	v.u.setStatus("Installing the demo models…")
	var dirs []string
	v.u.work(func() (err error) {
		dirs, err = v.u.b.InstallDemoModels(v.u.ctx)
		return err
	}, func() {
		v.u.setStatus(fmt.Sprintf("Installed %d demo models (they produce noise): %s", len(dirs), strings.Join(dirs, ", ")))
		v.u.LoadModels()
	})
}
