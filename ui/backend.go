// Package ui builds Diptych's Fyne views. It never imports fyne.io/fyne/v2/app
// (ui/desktop does), so views test headless with CGO_ENABLED=0, and it never
// calls ONNX Runtime: everything goes through a Backend, which ui/desktop
// implements with app.Studio, the gallery and app/local's engine, and tests
// fake. The request, job, event and settings types are package app's own.
package ui

import (
	"context"
	"time"

	"diptych/app"
	"diptych/gallery"
)

// Model kinds and engine names, untyped so that they compare with
// ModelInfo.Kind, Request.Model and gallery's Engine string alike.
const (
	KindSDXLBase    = app.KindSDXLBase
	KindSDXLRefiner = app.KindSDXLRefiner
	KindJanus       = app.KindJanus
	EngineSDXL      = "sdxl"  // app.ModelSDXL (TestEngineNames checks)
	EngineJanus     = "janus" // app.ModelJanus
)

// The app types the views use most, by their short names.
type (
	Request   = app.Request
	Progress  = app.Progress
	JobID     = app.JobID
	Job       = app.Job
	Event     = app.Event
	Settings  = app.Settings
	ModelInfo = app.ModelInfo
)

// CatalogModel is a known model the Models view offers to download.
type CatalogModel struct {
	Name     string // catalog name ("sdxl-base", "janus-pro-1b")
	Title    string
	Kind     string // KindSDXLBase, KindSDXLRefiner, KindJanus
	Params   string
	Size     int64  // approximate download size in bytes (0: unknown)
	License  string // licence name
	Hardware string // what it needs to run
	Notes    string
	// Downloadable is false for models that have no public ONNX export
	// and are made by an export script (Notes say how).
	Downloadable bool
	Installed    bool
}

// DownloadProgress is one progress report of a model download.
type DownloadProgress struct {
	Phase       string  // "download", "verify", "retry", "done"
	File        string  // the file being fetched
	Done, Total int64   // bytes over all files
	Speed       float64 // bytes per second
	ETA         time.Duration
	Message     string // what a retry is about
}

// Diagnosis is what the CPU banner and "copy diagnostics" show.
type Diagnosis struct {
	OnCPU  bool   // generations will run on the CPU
	Reason string // why, in plain words (from the doctor)
	Report string // the full doctor report as text
	// Restart says why the settings differ from what the running engine
	// uses (a new runtime library takes effect after a restart); "" when
	// they agree.
	Restart string
}

// Jobs is the generation queue (app.Studio).
type Jobs interface {
	Submit(req Request) JobID
	SubmitToGroup(req Request, groupID int64, index int) JobID
	// Compare queues app.Compare as one job (see app.Studio.Compare).
	Compare(req app.CompareRequest) (JobID, error)
	// Refine queues app.Refine: a stored Janus image refined by SDXL.
	Refine(req app.RefineRequest) (JobID, error)
	Cancel(id JobID) bool
	Remove(id JobID) error
	Move(id JobID, pos int) error
	Jobs() []Job
	// Subscribe delivers every event in order on a goroutine of the
	// backend's; the views apply them with fyne.Do.
	Subscribe(fn func(Event)) (unsubscribe func())
}

// Library is the history (*gallery.Store satisfies it).
type Library interface {
	List(ctx context.Context, q gallery.Query) (gallery.Page, error)
	Get(ctx context.Context, id int64) (gallery.Generation, error)
	RecentPrompts(ctx context.Context, limit int) ([]gallery.Prompt, error)
	Boards(ctx context.Context) (map[string]int, error)
	SetFavourite(ctx context.Context, id int64, on bool) error
	Delete(ctx context.Context, ids ...int64) error
	Restore(ctx context.Context, ids ...int64) error
	// EmptyTrash deletes the trashed generations for good, returning how many.
	EmptyTrash(ctx context.Context) (int, error)
	Export(ctx context.Context, ids []int64, dest string) (gallery.ExportReport, error)
	// Path turns a library-relative image path into a file path.
	Path(rel string) string
}

// System is models, settings and diagnostics.
type System interface {
	Models(ctx context.Context) ([]ModelInfo, error)
	InstallDemoModels(ctx context.Context) ([]string, error)
	ImportModel(ctx context.Context, dir string) error
	// Catalog lists the models that can be downloaded.
	Catalog(ctx context.Context) ([]CatalogModel, error)
	// Download fetches a catalog model (resumably, verified) and registers
	// it; progress is called from the download's goroutine. Cancelling ctx
	// stops it; a later call resumes.
	Download(ctx context.Context, name string, progress func(DownloadProgress)) error
	Settings() Settings
	SaveSettings(s Settings) error
	Diagnose(ctx context.Context) Diagnosis
	// UnloadModels frees the models the engine keeps loaded between runs
	// (not one that is running), returning how many and their size in MB.
	UnloadModels() (int, int64)
}

// Backend is everything the views need.
type Backend interface {
	Jobs
	Library
	System
}
