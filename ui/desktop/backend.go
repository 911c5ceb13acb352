//go:build cgo

package desktop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"diptych/app"
	"diptych/app/local"
	"diptych/engine/format"
	"diptych/engine/models"
	"diptych/gallery"
	"diptych/ui"
)

// BackendOptions build a Backend.
type BackendOptions struct {
	Settings     app.Settings
	SettingsPath string // where SaveSettings writes ("" = not kept)
	QueuePath    string // the persisted queue ("" = memory only)
	Engine       app.Engine
	Version      string
	// ModelStore is the model area (default models.OpenDefault).
	ModelStore *models.Store
	// Library overrides the settings' library folder.
	Library string
	// Catalog is what the Models view offers to download (default
	// models.Catalog).
	Catalog []models.CatalogEntry
	// Hub is where downloads come from (default models.NewHub, which
	// follows HF_ENDPOINT and HF_TOKEN).
	Hub *models.Hub
}

// Backend implements ui.Backend with app.Studio, the gallery and the model
// folders. Its library methods come from *gallery.Store.
type Backend struct {
	*gallery.Store
	studio *app.Studio
	models *models.Store
	opts   BackendOptions

	mu       sync.Mutex
	settings app.Settings
	// engine is what runs the jobs; owned is true when the Backend built it
	// (and so closes it).
	engine app.Engine
	owned  bool
	// engineORTLib is the runtime library setting the engine was built with.
	engineORTLib string
}

// NewBackend opens the library and builds the Studio (not started).
func NewBackend(ctx context.Context, o BackendOptions) (*Backend, error) {
	root := o.Library
	if root == "" {
		root = o.Settings.Library
	}
	if root == "" {
		d, err := gallery.DefaultRoot()
		if err != nil {
			return nil, err
		}
		root = d
	}
	st, err := gallery.Open(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("open the library: %w", err)
	}
	ms := o.ModelStore
	if ms == nil {
		if ms, err = models.OpenDefault(); err != nil {
			st.Close()
			return nil, err
		}
	}
	eng, owned := o.Engine, false
	if eng == nil {
		eng, owned = local.New(local.Options{ORTLib: o.Settings.ORTLib}), true
	}
	closeEngine := func() {
		if c, ok := eng.(interface{ Close() error }); ok && owned {
			c.Close()
		}
	}
	s, err := app.NewStudio(app.StudioOptions{Engine: eng, Library: st, Settings: o.Settings, QueuePath: o.QueuePath, AppVersion: o.Version})
	if err != nil {
		closeEngine()
		st.Close()
		return nil, err
	}
	return &Backend{Store: st, studio: s, models: ms, opts: o, settings: o.Settings, engine: eng, owned: owned,
		engineORTLib: o.Settings.ORTLib}, nil
}

// Studio is the job runner behind the window.
func (b *Backend) Studio() *app.Studio { return b.studio }

// Close stops the Studio (cancelling a running job), closes the engine it
// built (an engine passed in belongs to the caller) and the library.
func (b *Backend) Close() error {
	err := b.studio.Close()
	if c, ok := b.engine.(interface{ Close() error }); ok && b.owned {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := b.Store.Close(); err == nil {
		err = cerr
	}
	return err
}

// UnloadModels frees the models the engine holds between runs.
func (b *Backend) UnloadModels() (int, int64) {
	if u, ok := b.engine.(app.Unloader); ok {
		return u.Unload()
	}
	return 0, 0
}

// The job methods pass the Studio's own types through (package app's).

func (b *Backend) Submit(r ui.Request) ui.JobID { return b.studio.Submit(r) }

func (b *Backend) SubmitToGroup(r ui.Request, group int64, index int) ui.JobID {
	return b.studio.SubmitToGroup(r, group, index)
}

func (b *Backend) Compare(req app.CompareRequest) (ui.JobID, error) { return b.studio.Compare(req) }

func (b *Backend) Refine(req app.RefineRequest) (ui.JobID, error) { return b.studio.Refine(req) }

func (b *Backend) Cancel(id ui.JobID) bool       { return b.studio.Cancel(id) }
func (b *Backend) Remove(id ui.JobID) error      { return b.studio.Remove(id) }
func (b *Backend) Move(id ui.JobID, p int) error { return b.studio.Move(id, p) }
func (b *Backend) Jobs() []ui.Job                { return b.studio.Jobs() }

func (b *Backend) Subscribe(fn func(ui.Event)) func() { return b.studio.Subscribe(fn) }

// modelDirs are the settings' model folders (the managed folder and the
// registry come with b.models).
func (b *Backend) modelDirs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.settings.ModelDirs...)
}

// Models lists the model folders (app.FindModels, as doctor and the CLI do).
func (b *Backend) Models(ctx context.Context) ([]ui.ModelInfo, error) {
	return app.FindModels(b.models, b.modelDirs())
}

// InstallDemoModels copies the tiny noise models into the managed models
// folder.
func (b *Backend) InstallDemoModels(ctx context.Context) ([]string, error) {
	src, err := app.FindDemoSource()
	if err != nil {
		return nil, err
	}
	return app.InstallDemoModels(src, b.models.ModelsDir())
}

// ImportModel registers a folder in place (hashing its files).
func (b *Backend) ImportModel(ctx context.Context, dir string) error {
	_, err := b.models.Import(ctx, dir, models.ImportOptions{})
	return err
}

func (b *Backend) catalog() []models.CatalogEntry {
	if b.opts.Catalog != nil {
		return b.opts.Catalog
	}
	return models.Catalog()
}

// Catalog lists the catalog with each entry's download size (its default
// variant) and whether it is installed already.
func (b *Backend) Catalog(ctx context.Context) ([]ui.CatalogModel, error) {
	installed := map[string]bool{}
	entries, err := b.models.List()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read the model registry: %w", err)
	}
	for _, e := range entries {
		installed[e.Name] = true
	}
	var out []ui.CatalogModel
	for _, e := range b.catalog() {
		m := ui.CatalogModel{Name: e.Name, Title: e.Title, Kind: string(e.Kind), Params: e.Params, License: e.License,
			LicenseURL: e.LicenseURL, Hardware: e.Hardware, Notes: e.Notes, Downloadable: e.Source == models.SourceHub,
			Installed: installed[e.Name]}
		if m.Downloadable {
			if files, err := e.NeededFiles(""); err == nil {
				m.Size = models.DownloadSize(files)
			}
			if len(e.Variants) > 0 {
				for _, c := range models.JanusCombos() {
					files, err := e.NeededFiles(c.Name)
					if err != nil {
						continue
					}
					size := models.DownloadSize(files)
					m.Variants = append(m.Variants, ui.CatalogVariant{Name: c.Name, Note: c.Description, Size: size,
						MemoryMB: variantMemoryMB(size)})
				}
			}
		}
		if e.Source == models.SourceLocal {
			continue // folders already on disk: nothing to fetch
		}
		out = append(out, m)
	}
	return out, nil
}

// Download pulls a catalog entry (its default variant) from the Hub into
// the managed models folder, reporting bytes, speed and ETA.
func (b *Backend) Download(ctx context.Context, name string, progress func(ui.DownloadProgress)) error {
	var entry *models.CatalogEntry
	var names []string
	variant := ""
	if i := strings.IndexByte(name, ':'); i > 0 {
		name, variant = name[:i], name[i+1:]
	}
	for _, e := range b.catalog() {
		names = append(names, e.Name)
		if e.Name == name {
			entry = &e
		}
	}
	if entry == nil {
		return fmt.Errorf("%q is not in the model catalog (known: %s)", name, strings.Join(names, ", "))
	}
	hub := b.opts.Hub
	if hub == nil {
		hub = models.NewHub()
	}
	d := hub.Downloader()
	if progress != nil {
		d.Progress = func(p models.Progress) {
			progress(ui.DownloadProgress{Phase: string(p.Phase), File: p.File, Done: p.Done, Total: p.Total,
				Speed: p.Speed, ETA: p.ETA, Message: p.Message})
		}
	}
	_, err := b.models.Pull(ctx, hub, d, models.PullRequest{Entry: entry, Variant: variant})
	return err
}

// variantMemoryMB is a rough memory need for running weights of size
// bytes: the weights once more in working buffers, plus activations and the
// KV cache (about 1 GB at 384×384).
func variantMemoryMB(size int64) int64 { return size*3/2>>20 + 1024 }

// RemoveModel unregisters a model; a downloaded one's files are deleted.
func (b *Backend) RemoveModel(ctx context.Context, name string) error {
	_, err := b.models.Remove(name, false)
	return err
}

// VerifyModel re-hashes an installed model against its manifest.
func (b *Backend) VerifyModel(ctx context.Context, name string) (string, error) {
	rep, err := b.models.Verify(ctx, name, nil)
	if err != nil {
		return "", err
	}
	if !rep.OK() {
		var bad []string
		bad = append(bad, rep.Missing...)
		for _, m := range rep.Mismatch {
			bad = append(bad, m.Error())
		}
		bad = append(bad, rep.Resized...)
		return "", fmt.Errorf("%s: %d of %d files do not match its manifest: %s", name, len(bad), rep.Checked, strings.Join(bad, "; "))
	}
	return fmt.Sprintf("%s: %d files, %s: all match", name, rep.Checked, format.Bytes(rep.Bytes)), nil
}

func (b *Backend) Settings() ui.Settings {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.settings
}

func (b *Backend) SaveSettings(s ui.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if b.opts.SettingsPath != "" {
		if err := s.Save(b.opts.SettingsPath); err != nil {
			return err
		}
	}
	b.mu.Lock()
	b.settings = s
	b.mu.Unlock()
	b.studio.SetSettings(s)
	return nil
}

// Diagnose runs the doctor on the engine that runs the jobs: the banner says
// why generations run on the CPU, and a runtime library setting the engine
// does not use yet is named as needing a restart (the ONNX Runtime library
// is loaded once per process).
func (b *Backend) Diagnose(ctx context.Context) ui.Diagnosis {
	b.mu.Lock()
	s := b.settings
	b.mu.Unlock()
	prober, _ := b.engine.(app.RuntimeProber)
	r := app.Diagnose(ctx, app.DoctorOptions{Runtime: prober, Registry: b.models, ModelDirs: b.modelDirs()})
	var buf bytes.Buffer
	r.WriteText(&buf)
	d := ui.Diagnosis{Report: buf.String(), OnCPU: !r.CUDA.Usable || s.Device == "cpu", Reason: r.CUDA.Reason}
	if s.Device == "cpu" {
		d.Reason = "the settings ask for the CPU"
	}
	if r.Runtime.Error != "" {
		d.Reason = "the ONNX Runtime library was not found (" + r.Runtime.Error + ")"
		d.Failure = "The ONNX Runtime library was not found, so nothing can be generated: " + r.Runtime.Error
	}
	for _, v := range r.Verdicts {
		d.Verdicts = append(d.Verdicts, ui.Verdict{Model: v.Model, Runs: v.Runs, Text: v.Text, Estimate: v.EstimateText})
	}
	if b.owned && s.ORTLib != b.engineORTLib {
		d.Restart = fmt.Sprintf("the runtime library setting (%q) takes effect when Diptych restarts; until then it uses %q",
			s.ORTLib, orDefault(b.engineORTLib))
	}
	return d
}

func orDefault(path string) string {
	if path == "" {
		return "the library found by the usual search"
	}
	return path
}

var _ ui.Backend = (*Backend)(nil)
