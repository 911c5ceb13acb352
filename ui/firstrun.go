package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/engine/format"
	"diptych/gallery"
)

// Catalog names the first-run panel offers.
const (
	catalogSDXL  = "sdxl-base"
	catalogJanus = "janus-pro-1b"
)

// Welcome is the Studio's first-run panel: how to get a model, and what
// this machine can run.
type Welcome struct {
	u *UI

	Title         *widget.Label
	DownloadJanus *widget.Button
	DownloadSDXL  *widget.Button
	Import        *widget.Button
	Demo          *widget.Button
	// Machine lists what this computer can run (from the doctor), with
	// the time per image seen here when the history has runs, else the
	// doctor's estimate from the full-size benchmark.
	Machine *widget.Label

	janus, sdxl string // the catalog names the buttons download
	content     fyne.CanvasObject
}

func newWelcome(u *UI) *Welcome {
	w := &Welcome{u: u}
	h := u.Hints
	w.Title = widget.NewLabelWithStyle("Welcome to Diptych", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.Title.SizeName = theme.SizeNameSubHeadingText
	intro := widget.NewLabel("Diptych makes images with Stable Diffusion XL and Janus-Pro on this computer, offline. " +
		"To start, get a model:")
	intro.Wrapping = fyne.TextWrapWord
	w.DownloadJanus = widget.NewButtonWithIcon("Download Janus-Pro-1B", theme.DownloadIcon(), func() { w.download(w.janus) })
	w.DownloadJanus.Importance = widget.HighImportance
	w.DownloadSDXL = widget.NewButtonWithIcon("Download SDXL base", theme.DownloadIcon(), func() { w.download(w.sdxl) })
	w.Import = widget.NewButtonWithIcon("Import a model folder…", theme.FolderOpenIcon(), func() { u.Models.importFolder() })
	w.Demo = widget.NewButtonWithIcon("Try the demo models (tiny; they make noise)", theme.ComputerIcon(), func() { u.Models.installDemo() })
	w.Machine = widget.NewLabel("Checking what this machine can run…")
	w.Machine.Wrapping = fyne.TextWrapWord
	note := widget.NewLabel("Downloads resume if interrupted and are checked before use. The Models tab lists every model.")
	note.Wrapping = fyne.TextWrapWord
	note.Importance = widget.LowImportance
	body := container.NewVBox(w.Title, intro,
		h.With(w.DownloadJanus, "Janus-Pro-1B from Hugging Face (ONNX export); runs on the CPU"),
		h.With(w.DownloadSDXL, "Stable Diffusion XL 1.0 base (ONNX); best with a CUDA GPU"),
		h.With(w.Import, "Use a model folder you already have (SDXL ONNX or Janus-Pro ONNX export)"),
		h.With(w.Demo, "Tiny random models that produce NOISE, to try the whole flow offline"),
		widget.NewSeparator(),
		boldLabel("What this machine can run"), w.Machine, note)
	w.content = container.NewPadded(container.NewVScroll(container.NewPadded(body)))
	return w
}

func (w *Welcome) download(name string) {
	if name == "" {
		name = map[bool]string{true: catalogJanus, false: catalogSDXL}[w.janus == "" && w.sdxl == ""]
	}
	w.u.SelectTab(3)
	w.u.Models.StartDownload(name)
}

// setCatalog puts the download sizes on the buttons.
func (w *Welcome) setCatalog(cs []CatalogModel) {
	for _, c := range cs {
		var b *widget.Button
		var title string
		switch {
		case c.Kind == KindJanus && c.Params == "1B" && c.Downloadable && w.janus == "":
			b, title, w.janus = w.DownloadJanus, "Download Janus-Pro-1B", c.Name
		case c.Kind == KindSDXLBase && c.Downloadable && w.sdxl == "":
			b, title, w.sdxl = w.DownloadSDXL, "Download SDXL base", c.Name
		default:
			continue
		}
		if c.Size > 0 {
			title += " (" + format.Bytes(c.Size) + ")"
		}
		b.SetText(title)
		setEnabled(b, c.Downloadable && !c.Installed)
	}
}

// setMachine writes what the doctor says this machine runs, with the
// seconds per image seen in the history.
func (w *Welcome) setMachine(d Diagnosis, perImage map[string]time.Duration) {
	var lines []string
	for _, v := range d.Verdicts {
		if v.Model == "SDXL refiner" {
			continue
		}
		mark := map[string]string{"gpu": "✔", "cpu": "✔", "cpu-slow": "•", "no": "✘"}[v.Runs]
		line := fmt.Sprintf("%s %s %s", mark, v.Model, v.Text)
		engine := EngineSDXL
		if strings.HasPrefix(v.Model, "Janus") {
			engine = EngineJanus
		}
		if t, ok := perImage[engine]; ok && v.Runs != "no" {
			line += fmt.Sprintf(" — about %s per image here so far", format.Duration(t))
		} else if v.Estimate != "" && v.Runs != "no" {
			line += " — " + v.Estimate
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		if d.OnCPU {
			lines = append(lines, "Generations will run on the CPU: "+orDash(d.Reason)+".")
		} else {
			lines = append(lines, "A CUDA GPU is available.")
		}
	}
	w.Machine.SetText(strings.Join(lines, "\n"))
}

// timePerImage averages the total time of the recent successful runs per
// engine (only runs that recorded a total).
func timePerImage(gens []gallery.Generation) map[string]time.Duration {
	sum, n := map[string]time.Duration{}, map[string]int{}
	for _, g := range gens {
		if g.Status != gallery.StatusOK {
			continue
		}
		if t := totalTime(g); t > 0 {
			sum[g.Engine] += t
			n[g.Engine]++
		}
	}
	out := map[string]time.Duration{}
	for e, s := range sum {
		out[e] = s / time.Duration(n[e])
	}
	return out
}

// totalTime is a run's "total" stage, or the sum of its stages.
func totalTime(g gallery.Generation) time.Duration {
	var sum time.Duration
	for _, t := range g.Timings {
		if t.Stage == "total" {
			return t.Duration
		}
		sum += t.Duration
	}
	return sum
}

// loadMachine fills the Welcome's machine lines off the UI goroutine.
func (u *UI) loadMachine(ctx context.Context, d Diagnosis) {
	go func() {
		page, _ := u.b.List(ctx, gallery.Query{Limit: 40})
		per := timePerImage(page.Items)
		u.do(func() { u.Studio.Welcome.setMachine(d, per) })
	}()
}

// Hardware notice: a calm chip in the status bar when generations run on
// the CPU; the orange banner is kept for real failures.

// PrefCPUNoticeDismissed remembers that the CPU chip was dismissed.
const PrefCPUNoticeDismissed = "notice.cpu_dismissed"

func (u *UI) newHardwareChip() fyne.CanvasObject {
	u.CPUChip = widget.NewButtonWithIcon("CPU mode — why?", theme.InfoIcon(), u.ShowDiagnostics)
	u.CPUChip.Importance = widget.LowImportance
	u.DismissChip = widget.NewButtonWithIcon("", theme.WindowCloseIcon(), func() {
		u.chip.Hide()
		if u.opts.Prefs != nil {
			u.opts.Prefs.SetBool(PrefCPUNoticeDismissed, true)
		}
	})
	u.DismissChip.Importance = widget.LowImportance
	u.chip = container.NewHBox(u.Hints.With(u.CPUChip, "Generations run on the CPU here: see why, and what this machine can run"),
		u.Hints.With(u.DismissChip, "Hide this notice"))
	u.chip.Hide()
	return u.chip
}

// ChipVisible reports whether the CPU chip shows.
func (u *UI) ChipVisible() bool { return u.chip.Visible() }

// DiagnosticsText is what the diagnostics dialog says.
func (u *UI) DiagnosticsText() string {
	d := u.diag
	var b strings.Builder
	if d.Failure != "" {
		b.WriteString(d.Failure + "\n\n")
	}
	if d.OnCPU {
		reason := d.Reason
		if reason == "" {
			reason = "no usable GPU was found"
		}
		fmt.Fprintf(&b, "Generations run on the CPU because %s. That works; it is slower than a GPU.\n\n", reason)
	}
	for _, v := range d.Verdicts {
		fmt.Fprintf(&b, "%s: %s\n", v.Model, v.Text)
	}
	return strings.TrimSpace(b.String())
}

// ShowDiagnostics opens the hardware report with Copy diagnostics.
func (u *UI) ShowDiagnostics() {
	if u.win == nil {
		return
	}
	sum := widget.NewLabel(u.DiagnosticsText())
	sum.Wrapping = fyne.TextWrapWord
	rep := widget.NewLabel(u.diag.Report)
	rep.TextStyle.Monospace = true
	rep.Selectable = true
	copyBtn := widget.NewButtonWithIcon("Copy diagnostics", theme.ContentCopyIcon(), u.copyDiagnostics)
	content := container.NewBorder(sum, copyBtn, nil, nil, container.NewScroll(rep))
	d := dialog.NewCustom("Hardware and runtime", "Close", content, u.win)
	d.Resize(fyne.NewSize(min(900, u.win.Canvas().Size().Width-40), min(600, u.win.Canvas().Size().Height-40)))
	d.Show()
}
