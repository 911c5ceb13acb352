package ui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/engine/format"
)

// modelCard is one short model card: name, a one-line summary (kind,
// size, what it runs on here, licence), its actions, and details behind
// "More". Catalog cards also carry the dtype picker and the download's
// progress.
type modelCard struct {
	widget.BaseWidget
	Title    *widget.Label
	Summary  *widget.Label
	License  *widget.Hyperlink
	Variant  *widget.Select
	Action   *widget.Button // Download / Installed / Needs an export
	Verify   *widget.Button
	Remove   *widget.Button
	More     *widget.Button
	Details  *widget.Label
	Bar      *widget.ProgressBar
	BarText  *widget.Label
	Cancel   *widget.Button
	progress *fyne.Container
	body     fyne.CanvasObject
}

func newModelCard(catalog bool) *modelCard {
	c := &modelCard{
		Title:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Summary: widget.NewLabel(""),
		License: widget.NewHyperlink("Licence", nil),
		Variant: widget.NewSelect(nil, nil),
		Action:  widget.NewButtonWithIcon("Download", theme.DownloadIcon(), nil),
		Verify:  widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), nil),
		Remove:  widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), nil),
		More:    widget.NewButton("More", nil),
		Details: widget.NewLabel(""),
		Bar:     widget.NewProgressBar(),
		BarText: widget.NewLabel(""),
		Cancel:  widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), nil),
	}
	c.Summary.Truncation = fyne.TextTruncateEllipsis
	c.Details.Wrapping = fyne.TextWrapWord
	c.Details.Hide()
	c.BarText.Truncation = fyne.TextTruncateEllipsis
	c.progress = container.NewBorder(nil, nil, nil, c.Cancel, container.NewVBox(c.BarText, c.Bar))
	c.progress.Hide()
	var actions *fyne.Container
	if catalog {
		c.Verify.Hide()
		c.Remove.Hide()
		actions = container.NewHBox(container.New(fixedWidth(270), c.Variant), c.Action, c.More)
	} else {
		c.Variant.Hide()
		c.Action.Hide()
		actions = container.NewHBox(c.Verify, c.Remove, c.More)
	}
	c.body = container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewCenter(actions),
			container.NewVBox(c.Title, container.NewBorder(nil, nil, nil, c.License, c.Summary))),
		c.progress, c.Details, widget.NewSeparator())
	c.ExtendBaseWidget(c)
	return c
}

func (c *modelCard) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.body) }

func (c *modelCard) setLicense(name, link string) {
	u, err := url.Parse(link)
	if link == "" || err != nil {
		c.License.Hide()
		return
	}
	c.License.SetURL(u)
	c.License.SetText("Licence ↗")
	c.License.Show()
}

// runsHere says, from the doctor, what a model of kind/params runs on on
// this machine ("" while unknown).
func (u *UI) runsHere(kind, params string) string {
	key := map[string]string{KindSDXLBase: "SDXL", KindSDXLRefiner: "SDXL refiner", KindJanus: "Janus-Pro-1B"}[kind]
	if kind == KindJanus && strings.EqualFold(params, "7B") {
		key = "Janus-Pro-7B"
	}
	for _, v := range u.diag.Verdicts {
		if v.Model == key {
			return map[string]string{"gpu": "runs here on the GPU", "cpu": "runs here on the CPU",
				"cpu-slow": "runs here on the CPU, slowly", "no": "does not run here"}[v.Runs]
		}
	}
	return ""
}

func kindName(kind, params string) string {
	k := map[string]string{KindSDXLBase: "SDXL base", KindSDXLRefiner: "SDXL refiner", KindJanus: "Janus-Pro"}[kind]
	if k == "" {
		k = orDash(kind)
	}
	if params != "" {
		k += " " + params
	}
	return k
}

func joinParts(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// variantOption is a dtype choice as the picker lists it.
func variantOption(v CatalogVariant) string {
	return fmt.Sprintf("%s · %s · ~%s memory", v.Name, format.Bytes(v.Size), format.MB(v.MemoryMB))
}

func (v *ModelsView) newInstalledCard() fyne.CanvasObject { return newModelCard(false) }

func (v *ModelsView) updateInstalledCard(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.models) {
		return
	}
	m := v.models[i]
	c := o.(*modelCard)
	title := m.Name
	if m.Demo {
		title += "  (demo: produces noise)"
	}
	c.Title.SetText(title)
	size := ""
	if m.SizeMB > 0 {
		size = format.MB(m.SizeMB)
	}
	runs := v.u.runsHere(m.Kind, m.Params)
	if m.Problem != "" {
		runs = "not usable: " + m.Problem
	}
	c.Summary.SetText(joinParts(kindName(m.Kind, m.Params), size, runs))
	c.License.Hide()
	for _, cm := range v.catalog {
		if cm.Name == m.Name {
			c.setLicense(cm.License, cm.LicenseURL)
		}
	}
	c.Details.SetText(modelLine(m))
	c.setDetails(v.expanded["installed/"+m.Name])
	name := m.Name
	c.More.OnTapped = func() { v.toggle("installed/"+name, v.List) }
	c.Verify.OnTapped = func() { v.VerifyModel(name) }
	c.Remove.OnTapped = func() { v.confirmRemove(name) }
	setEnabled(c.Verify, !m.Demo)
	v.List.SetItemHeight(i, c.MinSize().Height)
}

func (c *modelCard) setDetails(on bool) {
	if on {
		c.Details.Show()
		c.More.SetText("Less")
	} else {
		c.Details.Hide()
		c.More.SetText("More")
	}
}

func (v *ModelsView) toggle(key string, l *widget.List) {
	v.expanded[key] = !v.expanded[key]
	l.Refresh()
}

func (v *ModelsView) newCatalogCard() fyne.CanvasObject { return newModelCard(true) }

func (v *ModelsView) updateCatalogCard(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.catalog) {
		return
	}
	m := v.catalog[i]
	c := o.(*modelCard)
	title := m.Name
	if m.Title != "" {
		title = m.Title + " (" + m.Name + ")"
	}
	c.Title.SetText(title)
	size := "size unknown"
	if m.Size > 0 {
		size = "about " + format.Bytes(m.Size)
	}
	if !m.Downloadable {
		size = "made by an export script"
	}
	c.Summary.SetText(joinParts(kindName(m.Kind, m.Params), size, v.u.runsHere(m.Kind, m.Params)))
	c.setLicense(m.License, m.LicenseURL)

	var details []string
	details = append(details, "Licence: "+orDash(m.License), "Needs: "+orDash(m.Hardware))
	if !m.Downloadable {
		details = append(details, "No ONNX download: 'diptych models pull "+m.Name+"' makes one with an export script")
	}
	if m.Notes != "" && len(m.Variants) == 0 {
		details = append(details, m.Notes)
	}
	name := m.Name
	if len(m.Variants) > 0 {
		var opts []string
		for _, vr := range m.Variants {
			opts = append(opts, variantOption(vr))
			details = append(details, fmt.Sprintf("%s: %s (%s download, ~%s memory)", vr.Name, vr.Note, format.Bytes(vr.Size), format.MB(vr.MemoryMB)))
		}
		c.Variant.OnChanged = nil
		c.Variant.SetOptions(opts)
		sel := v.variant[name]
		idx := 0
		for j, vr := range m.Variants {
			if vr.Name == sel {
				idx = j
			}
		}
		c.Variant.SetSelectedIndex(idx)
		c.Variant.OnChanged = func(string) {
			if j := c.Variant.SelectedIndex(); j >= 0 && j < len(m.Variants) {
				v.variant[name] = m.Variants[j].Name
			}
		}
		c.Variant.Show()
		c.Variant.Refresh()
		setEnabled(c.Variant, !m.Installed && v.downloading == "")
	} else {
		c.Variant.Hide()
	}
	c.Variant.Hidden = len(m.Variants) == 0
	c.Details.SetText(strings.Join(details, "\n"))
	c.setDetails(v.expanded["catalog/"+name])
	c.More.OnTapped = func() { v.toggle("catalog/"+name, v.CatalogList) }

	b := c.Action
	b.OnTapped = func() { v.StartDownload(v.downloadName(name)) }
	switch {
	case m.Installed:
		b.SetText("Installed")
		b.Disable()
	case !m.Downloadable:
		b.SetText("Needs an export")
		b.Disable()
	case v.downloading == name || strings.HasPrefix(v.downloading, name+":"):
		b.SetText("Downloading…")
		b.Disable()
	default:
		b.SetText("Download")
		setEnabled(b, v.downloading == "") // one download at a time
	}
	if v.downloading != "" && (v.downloading == name || strings.HasPrefix(v.downloading, name+":")) {
		c.Bar.SetValue(v.DownloadBar.Value)
		c.BarText.SetText(v.DownloadText.Text)
		c.Cancel.OnTapped = v.cancelDownload
		setEnabled(c.Cancel, !v.CancelDownload.Disabled())
		c.progress.Show()
	} else {
		c.progress.Hide()
	}
	v.CatalogList.SetItemHeight(i, c.MinSize().Height)
}

// downloadName is the catalog name with the picked variant
// ("janus-pro-1b:fp16"); the default variant needs no suffix.
func (v *ModelsView) downloadName(name string) string {
	for _, m := range v.catalog {
		if m.Name == name && len(m.Variants) > 0 {
			if vr := v.variant[name]; vr != "" && vr != m.Variants[0].Name {
				return name + ":" + vr
			}
		}
	}
	return name
}

// SetVariant picks the dtype combination a download of name uses.
func (v *ModelsView) SetVariant(name, variant string) {
	v.variant[name] = variant
	v.CatalogList.Refresh()
}

// VerifyModel re-hashes an installed model and says what it found.
func (v *ModelsView) VerifyModel(name string) {
	v.u.setStatus("Verifying " + name + "…")
	var msg string
	v.u.work(func() (err error) {
		msg, err = v.u.b.VerifyModel(v.u.ctx, name)
		if err != nil {
			err = fmt.Errorf("verify %s: %w", name, err)
		}
		return err
	}, func() {
		v.LastVerify = msg
		v.u.setStatus(msg)
	})
}

func (v *ModelsView) confirmRemove(name string) {
	if v.u.win == nil {
		v.RemoveModel(name)
		return
	}
	dialog.ShowConfirm("Remove "+name+"?",
		"A downloaded model's files are deleted; an imported folder stays where it is.",
		func(yes bool) {
			if yes {
				v.RemoveModel(name)
			}
		}, v.u.win)
}

// RemoveModel unregisters an installed model.
func (v *ModelsView) RemoveModel(name string) {
	v.u.work(func() error { return v.u.b.RemoveModel(v.u.ctx, name) }, func() {
		v.u.setStatus("Removed " + name)
		v.u.LoadModels()
		v.LoadCatalog()
	})
}
