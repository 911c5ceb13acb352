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
	// Variants are the dtype combinations one can pick (Janus-Pro-1B);
	// the first is the default. Empty for single-variant models.
	Variants []CatalogVariant
	// LicenseURL links the licence text ("" when unknown).
	LicenseURL string
}

// CatalogVariant is one downloadable dtype combination of a model.
type CatalogVariant struct {
	Name     string // "fp32", "fp16", "q4f16": pass Name+":"+Name to Download
	Note     string // what it is good for
	Size     int64  // download size in bytes
	MemoryMB int64  // rough memory needed to run it
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

// Diagnosis is what the hardware chip, the failure banner and "copy
// diagnostics" show.
type Diagnosis struct {
	OnCPU  bool   // generations will run on the CPU
	Reason string // why, in plain words (from the doctor)
	Report string // the full doctor report as text
	// Restart says why the settings differ from what the running engine
	// uses (a new runtime library takes effect after a restart); "" when
	// they agree.
	Restart string
	// Failure is a real problem that stops generations (the runtime
	// library is missing): it gets the orange banner. Running on the CPU
	// is not a failure.
	Failure string
	// Verdicts say what this machine can run, one per model family.
	Verdicts []Verdict
}

// Verdict is the doctor's answer for one model family.
type Verdict struct {
	Model string // "SDXL", "Janus-Pro-1B", ...
	Runs  string // "gpu", "cpu", "cpu-slow" or "no"
	Text  string // "will run on the CPU (16 cores, 31 GB RAM)"
	// Estimate is the expected time per image here before there is a
	// history: "about 1 min per 384×384 image here (estimated from a 2-core
	// benchmark)"; empty when unknown (GPU figures are not measured).
	Estimate string
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
	// Boards (gallery.Store's board methods): BoardList lists boards with
	// their live image counts; names are checked by
	// gallery.ValidateBoardName and duplicates (ignoring case) refused.
	BoardList(ctx context.Context) ([]gallery.Board, error)
	CreateBoard(ctx context.Context, name string) (gallery.Board, error)
	RenameBoard(ctx context.Context, old, name string) error
	DeleteBoard(ctx context.Context, name string) error
	// BoardAdd and BoardRemove return how many images changed.
	BoardAdd(ctx context.Context, board string, ids ...int64) (int, error)
	BoardRemove(ctx context.Context, board string, ids ...int64) (int, error)
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
	// it; name may carry a variant as NAME:VARIANT ("janus-pro-1b:fp16"); progress is called from the download's goroutine. Cancelling ctx
	// stops it; a later call resumes.
	Download(ctx context.Context, name string, progress func(DownloadProgress)) error
	// RemoveModel unregisters an installed model, deleting the files of a
	// downloaded one (an imported folder is left alone).
	RemoveModel(ctx context.Context, name string) error
	// VerifyModel re-hashes a model's files against its manifest and says
	// what it found ("12 files, 6.9 GB: all match"); a mismatch is an
	// error naming the files.
	VerifyModel(ctx context.Context, name string) (string, error)
	// CopyImage puts an image file on the system clipboard as an image.
	CopyImage(path string) error
	// ShowInFolder opens the file manager on the folder holding path.
	ShowInFolder(path string) error
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
