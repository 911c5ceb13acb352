package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/engine/format"
)

// SettingsView edits the app settings.
type SettingsView struct {
	u *UI

	ModelDirs    *widget.Entry
	Library      *widget.Entry
	Device       *widget.Select
	Runtime      *widget.Entry
	Theme        *widget.RadioGroup
	PreviewEvery *widget.Slider
	Save         *widget.Button
	// Unload frees the models kept loaded between runs.
	Unload *widget.Button

	content fyne.CanvasObject
}

var themes = []string{"system", "light", "dark"}

func newSettingsView(u *UI) *SettingsView {
	v := &SettingsView{u: u}
	h := u.Hints
	v.ModelDirs = widget.NewMultiLineEntry()
	v.ModelDirs.SetPlaceHolder("One folder per line")
	v.ModelDirs.SetMinRowsVisible(3)
	v.Library = widget.NewEntry()
	v.Library.SetPlaceHolder("Default library folder")
	dl := []string{}
	for _, d := range devices {
		dl = append(dl, d.label)
	}
	v.Device = widget.NewSelect(dl, nil)
	v.Runtime = widget.NewEntry()
	v.Runtime.SetPlaceHolder("Search the usual places")
	v.Theme = widget.NewRadioGroup(themes, nil)
	v.Theme.Horizontal = true
	var pl *widget.Label
	v.PreviewEvery, pl = newSlider(0, 20, 1, 5, func(f float64) string {
		if f == 0 {
			return "no live preview"
		}
		return fmt.Sprintf("preview every %d steps", int(f))
	})
	v.Save = widget.NewButtonWithIcon("Save settings", theme.DocumentSaveIcon(), v.save)
	v.Save.Importance = widget.HighImportance
	v.Unload = widget.NewButtonWithIcon("Unload models", theme.DeleteIcon(), v.unload)
	browse := func(e *widget.Entry, multi bool) fyne.CanvasObject {
		return widget.NewButtonWithIcon("", theme.FolderOpenIcon(), func() {
			dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
				if err != nil || dir == nil {
					return
				}
				if multi && strings.TrimSpace(e.Text) != "" {
					e.SetText(strings.TrimRight(e.Text, "\n") + "\n" + dir.Path())
				} else {
					e.SetText(dir.Path())
				}
			}, u.win)
		})
	}
	form := widget.NewForm(
		widget.NewFormItem("Model folders", container.NewBorder(nil, nil, nil, browse(v.ModelDirs, true),
			h.With(v.ModelDirs, "Folders that hold model folders (or are one)"))),
		widget.NewFormItem("Library", container.NewBorder(nil, nil, nil, browse(v.Library, false),
			h.With(v.Library, "Where images and the history database live (takes effect on restart)"))),
		widget.NewFormItem("Device", h.With(v.Device, "Auto uses the GPU when CUDA works, else the CPU")),
		widget.NewFormItem("Runtime library", h.With(v.Runtime, "Path of libonnxruntime (empty: search; takes effect on restart)")),
		widget.NewFormItem("Theme", h.With(v.Theme, "Light, dark, or follow the system")),
		widget.NewFormItem("Live preview", container.NewGridWithColumns(2, h.With(v.PreviewEvery, "How often the preview updates during a run (0 = off, fastest)"), pl)),
	)
	v.content = container.NewBorder(nil, container.NewHBox(v.Save,
		h.With(v.Unload, "Free the memory of the models kept loaded between runs (a running one stays)")), nil, nil, container.NewVScroll(form))
	v.Load(u.b.Settings())
	return v
}

// Load shows s in the form.
func (v *SettingsView) Load(s Settings) {
	v.ModelDirs.SetText(strings.Join(s.ModelDirs, "\n"))
	v.Library.SetText(s.Library)
	v.Device.SetSelected(deviceLabel(s.Device))
	v.Runtime.SetText(s.ORTLib)
	t := s.Theme
	if t == "" {
		t = "system"
	}
	v.Theme.SetSelected(t)
	v.PreviewEvery.SetValue(float64(s.PreviewEvery))
}

// Value is the settings the form describes.
func (v *SettingsView) Value() Settings {
	var dirs []string
	for _, l := range strings.Split(v.ModelDirs.Text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			dirs = append(dirs, l)
		}
	}
	return Settings{ModelDirs: dirs, Library: strings.TrimSpace(v.Library.Text), Device: deviceValue(v.Device.Selected),
		ORTLib: strings.TrimSpace(v.Runtime.Text), Theme: v.Theme.Selected, PreviewEvery: int(v.PreviewEvery.Value)}
}

func (v *SettingsView) save() {
	s := v.Value()
	v.u.work(func() error { return v.u.b.SaveSettings(s) }, func() {
		v.u.setStatus("Settings saved")
		if v.u.opts.OnTheme != nil {
			v.u.opts.OnTheme(s.Theme)
		}
		v.u.LoadModels()
		go func() {
			if d := v.u.b.Diagnose(v.u.ctx); d.Restart != "" {
				v.u.do(func() { dialog.ShowInformation("Restart to apply", "Saved. "+capitalize(d.Restart)+".", v.u.win) })
			}
		}()
	})
}

// unload frees the loaded models off the UI goroutine and says how much.
func (v *SettingsView) unload() {
	go func() {
		n, mb := v.u.b.UnloadModels()
		v.u.do(func() {
			if n == 0 {
				v.u.setStatus("No model was loaded")
				return
			}
			v.u.setStatus(fmt.Sprintf("Unloaded %d model(s), %s freed", n, format.MB(mb)))
		})
	}()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
