package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/engine/format"
)

// ModelsView lists the installed models and the catalog of downloadable
// ones, with a guided empty state.
type ModelsView struct {
	u *UI

	List        *widget.List
	Refresh     *widget.Button
	Import      *widget.Button
	InstallDemo *widget.Button
	Download    *widget.Button
	Empty       fyne.CanvasObject

	// The catalog: one row per known model, each with its Download button.
	CatalogList *widget.List
	// The running download: progress bar, bytes/speed/ETA line, Cancel.
	DownloadBar    *widget.ProgressBar
	DownloadText   *widget.Label
	CancelDownload *widget.Button
	// DownloadStatus says how the last download ended when it did not
	// succeed (cancelled, or the error naming what failed).
	DownloadStatus *widget.Label

	models   []ModelInfo
	expanded map[string]bool   // cards showing their details
	variant  map[string]string // picked dtype combination per catalog name
	// LastVerify is the last Verify's answer.
	LastVerify  string
	catalog     []CatalogModel
	downloading string // catalog name being downloaded ("" when none)
	dlCancel    context.CancelFunc
	dlBox       *fyne.Container
	browsing    bool // the empty state's Download asked for the catalog
	stack       *fyne.Container
	listBox     fyne.CanvasObject
	content     fyne.CanvasObject
}

func newModelsView(u *UI) *ModelsView {
	v := &ModelsView{u: u, expanded: map[string]bool{}, variant: map[string]string{}}
	h := u.Hints
	v.List = widget.NewList(func() int { return len(v.models) }, v.newInstalledCard, v.updateInstalledCard)
	v.Refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), func() { u.LoadModels() })
	v.Import = widget.NewButtonWithIcon("Import a folder…", theme.FolderOpenIcon(), v.importFolder)
	v.InstallDemo = widget.NewButtonWithIcon("Install the demo models", theme.DownloadIcon(), v.installDemo)
	v.Download = widget.NewButtonWithIcon("Refresh catalog", theme.DownloadIcon(), v.LoadCatalog)
	buttons := container.NewHBox(
		h.With(v.Refresh, "Look in the model folders again"),
		h.With(v.Import, "Use a model folder you already have (SDXL ONNX or Janus-Pro ONNX export)"),
		h.With(v.Download, "Reload the list of models that can be downloaded"),
		h.With(v.InstallDemo, "Tiny random models that produce NOISE, to try the whole flow offline"))
	v.Empty = v.emptyState()
	v.CatalogList = widget.NewList(func() int { return len(v.catalog) }, v.newCatalogCard, v.updateCatalogCard)
	v.DownloadBar = widget.NewProgressBar()
	v.DownloadText = widget.NewLabel("")
	v.DownloadText.Truncation = fyne.TextTruncateEllipsis
	v.CancelDownload = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), v.cancelDownload)
	v.DownloadStatus = widget.NewLabel("")
	v.DownloadStatus.Wrapping = fyne.TextWrapWord
	v.DownloadStatus.Hide()
	v.dlBox = container.NewBorder(nil, nil, nil,
		h.With(v.CancelDownload, "Stop the download (Download again resumes where it stopped)"),
		container.NewVBox(v.DownloadText, v.DownloadBar))
	v.dlBox.Hide()
	catalog := container.NewBorder(
		container.NewVBox(widget.NewLabelWithStyle("Download", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
			v.DownloadStatus),
		nil, nil, nil, v.CatalogList)
	installed := container.NewBorder(
		widget.NewLabelWithStyle("Installed", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, v.List)
	split := container.NewVSplit(installed, catalog)
	v.listBox = container.NewBorder(nil, buttons, nil, nil, split)
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
		v.browsing = true
		v.show()
		v.LoadCatalog()
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
	if v.Usable() == 0 && !v.browsing && v.downloading == "" {
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

// LoadCatalog lists the downloadable models off the UI goroutine.
func (v *ModelsView) LoadCatalog() {
	go func() {
		cs, err := v.u.b.Catalog(v.u.ctx)
		v.u.do(func() {
			if err != nil {
				v.u.showError(fmt.Errorf("list the model catalog: %w", err))
				return
			}
			v.catalog = cs
			v.CatalogList.Refresh()
			v.u.Studio.Welcome.setCatalog(cs)
		})
	}()
}

// CatalogModels are the catalog entries shown.
func (v *ModelsView) CatalogModels() []CatalogModel { return v.catalog }

// Downloading is the catalog name being downloaded ("" when none).
func (v *ModelsView) Downloading() string { return v.downloading }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// StartDownload downloads a catalog model off the UI goroutine, showing its
// progress; one download runs at a time.
func (v *ModelsView) StartDownload(name string) {
	if v.downloading != "" {
		return
	}
	ctx, cancel := context.WithCancel(v.u.ctx)
	v.downloading, v.dlCancel = name, cancel
	v.DownloadStatus.Hide()
	v.DownloadBar.SetValue(0)
	v.DownloadText.SetText("Starting the download of " + name + "…")
	v.CancelDownload.Enable()
	v.dlBox.Show()
	v.CatalogList.Refresh()
	v.u.setStatus("Downloading " + name + "…")
	go func() {
		err := v.u.b.Download(ctx, name, func(p DownloadProgress) {
			v.u.do(func() {
				if v.downloading == name {
					v.showProgress(name, p)
				}
			})
		})
		cancelled := ctx.Err() != nil
		cancel()
		v.u.do(func() { v.finishDownload(name, err, cancelled) })
	}()
}

func (v *ModelsView) showProgress(name string, p DownloadProgress) {
	if p.Total > 0 {
		v.DownloadBar.SetValue(float64(p.Done) / float64(p.Total))
	}
	v.DownloadText.SetText(downloadText(name, p))
	v.CatalogList.Refresh() // the card shows it
}

// downloadText is "Downloading janus-pro-1b: 1.2 GB of 4.0 GB · 25.0 MB/s ·
// ETA 2:05 · onnx/model.onnx".
func downloadText(name string, p DownloadProgress) string {
	verb := map[string]string{"verify": "Verifying", "retry": "Retrying", "done": "Finishing"}[p.Phase]
	if verb == "" {
		verb = "Downloading"
	}
	parts := []string{fmt.Sprintf("%s %s: %s of %s", verb, name, format.Bytes(p.Done), format.Bytes(p.Total))}
	if p.Speed > 0 {
		parts = append(parts, format.Bytes(int64(p.Speed))+"/s")
	}
	if p.ETA > 0 {
		parts = append(parts, "ETA "+clock(p.ETA))
	}
	if p.File != "" {
		parts = append(parts, p.File)
	}
	if p.Message != "" {
		parts = append(parts, p.Message)
	}
	return strings.Join(parts, " · ")
}

func (v *ModelsView) cancelDownload() {
	if v.dlCancel != nil {
		v.CancelDownload.Disable()
		v.DownloadText.SetText("Cancelling the download of " + v.downloading + "…")
		v.dlCancel()
		v.CatalogList.Refresh()
	}
}

func (v *ModelsView) finishDownload(name string, err error, cancelled bool) {
	v.downloading, v.dlCancel = "", nil
	v.dlBox.Hide()
	switch {
	case err == nil:
		v.u.setStatus("Downloaded " + name)
		v.u.LoadModels()
	case cancelled:
		v.DownloadStatus.SetText("The download of " + name + " was cancelled. Download it again to resume where it stopped.")
		v.DownloadStatus.Show()
		v.u.setStatus("Download cancelled")
	default:
		err = fmt.Errorf("download %s: %w", name, err)
		v.DownloadStatus.SetText("The download failed: " + err.Error())
		v.DownloadStatus.Show()
		v.u.showError(err)
	}
	v.LoadCatalog()
	v.show()
}
