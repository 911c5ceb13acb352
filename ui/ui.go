package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/app"
	"diptych/gallery"
)

// Options tune the UI.
type Options struct {
	// Prefs remembers window size, tab and split positions (nil: not kept).
	Prefs fyne.Preferences
	// Clipboard for "copy" buttons (nil: the window's app clipboard).
	Clipboard fyne.Clipboard
	// OnTheme applies a theme choice ("light", "dark", "system").
	OnTheme func(theme string)
	// Quit closes the app once the window may close (after asking, if a
	// job runs). Nil closes the window.
	Quit func()
	// NoDialogs reports errors in the status line only (tests).
	NoDialogs bool
	// Do runs fn on the UI goroutine (default fyne.Do). Tests pass a
	// queue they drain themselves, to play the one UI thread.
	Do func(fn func())
}

// UI is Diptych's main window content.
type UI struct {
	b    Backend
	win  fyne.Window
	opts Options
	ctx  context.Context
	stop context.CancelFunc

	Hints    *Hints
	Tabs     *container.AppTabs
	Studio   *StudioView
	Compare  *CompareView
	History  *HistoryView
	Models   *ModelsView
	Settings *SettingsView
	// Viewer shows one image large (from the History, Studio or Compare).
	Viewer *Viewer

	Banner     *fyne.Container
	BannerText *widget.Label
	CopyDiag   *widget.Button
	// CPUChip is the calm "CPU mode — why?" notice in the status bar;
	// DismissChip hides it for good.
	CPUChip, DismissChip *widget.Button
	chip                 *fyne.Container
	Status               *widget.Label
	// LastError is the last error shown (also in a dialog).
	LastError string

	diag      Diagnosis
	unsub     func()
	restoring bool
	content   fyne.CanvasObject
}

// Preference keys.
const (
	PrefWidth       = "window.width"
	PrefHeight      = "window.height"
	PrefTab         = "layout.tab"
	PrefStudioSplit = "layout.studio_split"
)

// New builds the views for w and subscribes to the backend's events.
// Call Start once the window is shown, and Close when it goes.
func New(b Backend, w fyne.Window, o Options) *UI {
	ctx, stop := context.WithCancel(context.Background())
	u := &UI{b: b, win: w, opts: o, ctx: ctx, stop: stop, Hints: newHints()}
	u.Status = widget.NewLabel("Ready")
	u.Status.Truncation = fyne.TextTruncateEllipsis
	u.Studio = newStudioView(u)
	u.Compare = newCompareView(u)
	u.History = newHistoryView(u)
	u.Models = newModelsView(u)
	u.Settings = newSettingsView(u)
	u.Viewer = newViewer(u)
	u.Tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Studio", theme.MediaPlayIcon(), u.Studio.content),
		container.NewTabItemWithIcon("Compare", theme.ViewRestoreIcon(), u.Compare.content),
		container.NewTabItemWithIcon("History", theme.GridIcon(), u.History.content),
		container.NewTabItemWithIcon("Models", theme.StorageIcon(), u.Models.content),
		container.NewTabItemWithIcon("Settings", theme.SettingsIcon(), u.Settings.content),
	)
	u.Tabs.OnSelected = func(*container.TabItem) { u.savePrefs() }

	u.BannerText = widget.NewLabel("")
	u.BannerText.Wrapping = fyne.TextWrapWord
	u.CopyDiag = widget.NewButtonWithIcon("Copy diagnostics", theme.ContentCopyIcon(), u.copyDiagnostics)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	u.Banner = container.NewStack(bg, container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()),
		u.Hints.With(u.CopyDiag, "Copy the full hardware and runtime report (diptych doctor) to the clipboard"), u.BannerText))
	u.Banner.Hide()

	bottom := container.NewVBox(widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, u.newHardwareChip(), container.NewGridWithColumns(2, u.Status, u.Hints.Label)))
	u.content = container.NewBorder(u.Banner, bottom, nil, nil, u.Tabs)

	if w != nil {
		w.SetContent(u.content)
		w.SetOnDropped(func(pos fyne.Position, uris []fyne.URI) { u.HandleDropAt(pos, uris) })
		w.SetCloseIntercept(u.RequestClose)
		u.installShortcuts(w.Canvas())
		w.Canvas().SetOnTypedKey(u.TypedKey)
	}
	for _, e := range []*keyEntry{u.Studio.Prompt, u.Studio.Negative, u.Compare.Prompt, u.Compare.Negative, u.History.Search} {
		e.onShortcut = u.Shortcut
	}
	u.unsub = b.Subscribe(func(e Event) { u.do(func() { u.handle(e) }) })
	u.restorePrefs()
	return u
}

// Content is the window's root object.
func (u *UI) Content() fyne.CanvasObject { return u.content }

// Start loads what the views show (models, history, recent prompts,
// diagnostics), all off the UI goroutine.
func (u *UI) Start() {
	u.LoadModels()
	u.Models.LoadCatalog()
	u.History.Reload()
	u.Studio.loadRecent(u.ctx)
	u.Studio.refreshJobs()
	go func() {
		d := u.b.Diagnose(u.ctx)
		u.do(func() { u.SetDiagnosis(d) })
	}()
}

// Close stops listening to the backend and saves the layout.
func (u *UI) Close() {
	u.savePrefs()
	if u.unsub != nil {
		u.unsub()
	}
	u.stop()
}

// LoadModels refreshes every model picker off the UI goroutine.
func (u *UI) LoadModels() {
	go func() {
		ms, err := u.b.Models(u.ctx)
		u.do(func() {
			if err != nil {
				u.showError(fmt.Errorf("list models: %w", err))
			}
			u.Studio.SetModels(ms)
			u.Compare.SetModels(ms)
			u.Models.SetModels(ms)
			var names []string
			for _, m := range ms {
				if m.Problem == "" {
					names = append(names, m.Name)
				}
			}
			u.History.SetModelNames(names)
		})
	}()
}

// SetDiagnosis shows the CPU chip when generations run on the CPU (unless
// dismissed), and the orange banner only for a real failure.
func (u *UI) SetDiagnosis(d Diagnosis) {
	u.diag = d
	dismissed := u.opts.Prefs != nil && u.opts.Prefs.BoolWithFallback(PrefCPUNoticeDismissed, false)
	if d.OnCPU && d.Failure == "" && !dismissed {
		u.chip.Show()
	} else {
		u.chip.Hide()
	}
	u.Studio.Welcome.setMachine(d, nil)
	u.loadMachine(u.ctx, d)
	if d.Failure == "" {
		u.Banner.Hide()
		return
	}
	u.BannerText.SetText(d.Failure)
	u.Banner.Show()
}

func (u *UI) copyDiagnostics() {
	u.clipboard().SetContent(u.diag.Report)
	u.setStatus("Diagnostics copied to the clipboard")
}

func (u *UI) clipboard() fyne.Clipboard {
	if u.opts.Clipboard != nil {
		return u.opts.Clipboard
	}
	return fyne.CurrentApp().Clipboard()
}

// handle applies a backend event on the UI goroutine.
func (u *UI) handle(e Event) {
	switch e.Kind {
	case app.EventWarning:
		u.setStatus("Warning: " + e.Err)
		return
	case app.EventFailed:
		u.setStatus("Failed: " + e.Err)
	case app.EventDone:
		u.setStatus("Done: " + shorten(e.Job.Request.Prompt, 50))
		u.Studio.loadRecent(u.ctx)
	case app.EventCancelled:
		u.setStatus("Cancelled")
	}
	u.Studio.onEvent(e)
	u.Compare.onEvent(e)
	if e.Kind != app.EventProgress {
		u.History.onEvent(e)
	}
}

// do runs fn on the UI goroutine; every widget update from a background
// goroutine goes through it.
func (u *UI) do(fn func()) {
	if u.opts.Do != nil {
		u.opts.Do(fn)
		return
	}
	fyne.Do(fn)
}

// loadGeneration reads generation id with its full-size image off the UI
// goroutine and hands them to show on it (err from either read).
func (u *UI) loadGeneration(id int64, show func(full gallery.Generation, img image.Image, err error)) {
	go func() {
		full, err := u.b.Get(u.ctx, id)
		var img image.Image
		if err == nil && full.Image != nil {
			img, err = app.LoadImage(u.b.Path(full.Image.Path))
		}
		u.do(func() { show(full, img, err) })
	}()
}

func (u *UI) setStatus(s string) { u.Status.SetText(s) }

// showError reports an error in the status line and a dialog.
func (u *UI) showError(err error) {
	u.LastError = err.Error()
	u.setStatus(err.Error())
	if u.win != nil && !u.opts.NoDialogs {
		dialog.ShowError(err, u.win)
	}
}

// work runs fn off the UI goroutine, then done (or the error) on it.
func (u *UI) work(fn func() error, done func()) {
	go func() {
		err := fn()
		u.do(func() {
			if err != nil {
				u.showError(err)
				return
			}
			done()
		})
	}()
}

// Running is the id of the running job ("" if none).
func (u *UI) Running() JobID {
	for _, j := range u.b.Jobs() {
		if j.State == app.JobRunning {
			return j.ID
		}
	}
	return ""
}

// RequestClose is the window's close handler: with a job running it asks
// first, and on yes cancels the job before quitting.
func (u *UI) RequestClose() {
	id := u.Running()
	if id == "" {
		u.quit()
		return
	}
	dialog.ShowConfirm("A generation is running",
		"Cancel it and quit? Jobs still waiting in the queue are kept for next time.",
		func(yes bool) {
			if yes {
				u.b.Cancel(id)
				u.quit()
			}
		}, u.win)
}

func (u *UI) quit() {
	u.Close()
	if u.opts.Quit != nil {
		u.opts.Quit()
	} else if u.win != nil {
		u.win.Close()
	}
}

// HandleDrop takes files dropped on the window: a PNG with generation
// settings loads them into the Studio; another readable image becomes the
// SDXL init image; anything else is reported, naming the file.
func (u *UI) HandleDrop(uris []fyne.URI) {
	for _, uri := range uris {
		u.openImage(uri.Path(), false)
	}
}

// HandleDropAt is HandleDrop for a drop at pos (window coordinates): on
// the Studio's init-image rows every image becomes the init image, even a
// PNG that carries settings.
func (u *UI) HandleDropAt(pos fyne.Position, uris []fyne.URI) {
	asInit := u.Tabs.SelectedIndex() == 0 && u.inside(u.Studio.InitImageRow(), pos)
	for _, uri := range uris {
		u.openImage(uri.Path(), asInit)
	}
}

// inside says whether pos (window coordinates) falls on the visible o.
func (u *UI) inside(o fyne.CanvasObject, pos fyne.Position) bool {
	if o == nil || !o.Visible() {
		return false
	}
	d := fyne.CurrentApp().Driver()
	if d == nil {
		return false
	}
	at, size := d.AbsolutePositionForObject(o), o.Size()
	return pos.X >= at.X && pos.Y >= at.Y && pos.X < at.X+size.Width && pos.Y < at.Y+size.Height
}

// chooseInitImage asks for an image file and makes it the init image.
func (u *UI) chooseInitImage() {
	if u.opts.NoDialogs || u.win == nil {
		return
	}
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			u.showError(err)
			return
		}
		if rc == nil {
			return
		}
		rc.Close()
		u.openImage(rc.URI().Path(), true)
	}, u.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"}))
	d.Show()
}

// openImage reads a dropped or chosen image off the UI goroutine and then
// loads its settings or, asInit or when it has none, makes it the init
// image. A file that is not a usable image is reported and nothing changes.
func (u *UI) openImage(path string, asInit bool) {
	go func() {
		req, isSettings, err := readDropped(path)
		u.do(func() {
			switch {
			case err != nil:
				u.showError(err)
			case isSettings && !asInit:
				u.Studio.Apply(req)
				u.Tabs.SelectIndex(0)
				u.setStatus("Loaded the settings stored in " + filepath.Base(path))
			default:
				u.Studio.SetInitImage(path)
				u.Tabs.SelectIndex(0)
				u.setStatus("Using " + filepath.Base(path) + " as the init image")
			}
		})
	}()
}

// MaxDropPixels is the largest dropped image read (64 megapixels).
const MaxDropPixels = 64_000_000

// readDropped reads a dropped file: the settings in its PNG metadata, or
// just whether it decodes as an image.
func readDropped(path string) (Request, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return Request{}, false, fmt.Errorf("dropped file %s cannot be read: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 256<<20))
	if err != nil {
		return Request{}, false, fmt.Errorf("dropped file %s cannot be read: %w", path, err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Request{}, false, fmt.Errorf("dropped file %s is not a readable image (PNG or JPEG expected): %w", path, err)
	}
	if mp := int64(cfg.Width) * int64(cfg.Height); mp > MaxDropPixels {
		return Request{}, false, fmt.Errorf("dropped image %s is too large: %d×%d is %.0f megapixels, at most %d are read",
			path, cfg.Width, cfg.Height, float64(mp)/1e6, MaxDropPixels/1_000_000)
	}
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return Request{}, false, fmt.Errorf("dropped image %s is damaged: %w", path, err)
	}
	if chunks, err := gallery.ReadPNGText(bytes.NewReader(b)); err == nil && len(chunks) > 0 {
		g, src := gallery.ParseMetadata(chunks)
		if src != "" && src != "unknown" && strings.TrimSpace(g.Prompt) != "" {
			return RequestFromGeneration(g), true, nil
		}
	}
	return Request{}, false, nil
}

func (u *UI) restorePrefs() {
	p := u.opts.Prefs
	if p == nil {
		return
	}
	u.restoring = true
	defer func() { u.restoring = false }()
	if f := p.FloatWithFallback(PrefStudioSplit, 0); f > 0.1 && f < 0.9 {
		u.Studio.Split.SetOffset(f)
	}
	if i := p.IntWithFallback(PrefTab, 0); i >= 0 && i < len(u.Tabs.Items) {
		u.Tabs.SelectIndex(i)
	}
}

func (u *UI) savePrefs() {
	p := u.opts.Prefs
	if p == nil || u.restoring {
		return
	}
	p.SetInt(PrefTab, u.Tabs.SelectedIndex())
	p.SetFloat(PrefStudioSplit, u.Studio.Split.Offset)
	if u.win != nil {
		s := u.win.Canvas().Size()
		if s.Width > 200 && s.Height > 200 {
			p.SetFloat(PrefWidth, float64(s.Width))
			p.SetFloat(PrefHeight, float64(s.Height))
		}
	}
}

// WindowSize is the remembered window size, or the default.
func WindowSize(p fyne.Preferences) fyne.Size {
	def := fyne.NewSize(1280, 820)
	if p == nil {
		return def
	}
	w, h := p.FloatWithFallback(PrefWidth, 0), p.FloatWithFallback(PrefHeight, 0)
	if w < 400 || h < 300 {
		return def
	}
	return fyne.NewSize(float32(w), float32(h))
}
