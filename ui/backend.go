// Package ui builds Diptych's Fyne views. It never imports fyne.io/fyne/v2/app
// (ui/desktop does), so views test headless with CGO_ENABLED=0, and it never
// calls ONNX Runtime: everything goes through a Backend, which ui/desktop
// implements with app.Studio and the gallery, and tests fake.
//
// The package mirrors the few app types it needs (Request, Progress, Job,
// Event, Settings) with the same JSON names, because package app needs cgo
// and these views must build without it.
package ui

import (
	"context"
	"image"
	"time"

	"diptych/gallery"
)

// Model kinds as models.Detect names them.
const (
	KindSDXLBase    = "sdxl-base"
	KindSDXLRefiner = "sdxl-refiner"
	KindJanus       = "janus"
)

// Engine names as app.Model has them.
const (
	EngineSDXL  = "sdxl"
	EngineJanus = "janus"
)

// Request is one generation (mirrors app.Request, same JSON names).
type Request struct {
	Model    string `json:"model"`
	ModelDir string `json:"model_dir"`
	Device   string `json:"device,omitempty"`

	Prompt   string `json:"prompt"`
	Negative string `json:"negative,omitempty"`
	Seed     int64  `json:"seed"`

	Prompt2         string  `json:"prompt_2,omitempty"`
	Width           int     `json:"width,omitempty"`
	Height          int     `json:"height,omitempty"`
	Steps           int     `json:"steps,omitempty"`
	Scheduler       string  `json:"scheduler,omitempty"`
	Guidance        float64 `json:"guidance,omitempty"`
	GuidanceRescale float64 `json:"guidance_rescale,omitempty"`
	RefinerDir      string  `json:"refiner_dir,omitempty"`
	SwitchAt        float64 `json:"switch_at,omitempty"`
	InitImage       string  `json:"init_image,omitempty"`
	Strength        float64 `json:"strength,omitempty"`

	CFG         float64 `json:"cfg,omitempty"`
	Temperature float64 `json:"temperature,omitempty"`
	TopK        int     `json:"top_k,omitempty"`
	TopP        float64 `json:"top_p,omitempty"`
	Images      int     `json:"images,omitempty"`
	Variant     string  `json:"variant,omitempty"`

	PreviewEvery int `json:"preview_every,omitempty"`
}

// Progress reports a running generation (mirrors app.Progress).
type Progress struct {
	Stage   string
	Step    int
	Total   int
	Elapsed time.Duration
	Rate    float64
	ETA     time.Duration
	Preview image.Image
}

// JobState is where a job is (same values as app.JobState).
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Job is a queued, running or finished generation (mirrors app.Job).
type Job struct {
	ID          string
	Request     Request
	State       JobState
	Error       string
	GroupID     int64
	GroupIndex  int
	Generations []int64
}

// EventKind says what happened (same values as app.EventKind).
type EventKind string

// Event kinds.
const (
	EventQueued    EventKind = "queued"
	EventStarted   EventKind = "started"
	EventProgress  EventKind = "progress"
	EventDone      EventKind = "done"
	EventFailed    EventKind = "failed"
	EventCancelled EventKind = "cancelled"
	EventRemoved   EventKind = "removed"
	EventMoved     EventKind = "moved"
	EventWarning   EventKind = "warning"
)

// Event is one change to a job (mirrors app.Event).
type Event struct {
	Kind        EventKind
	Job         Job
	Progress    Progress
	Generations []gallery.Generation // saved images of a done job
	Err         string
}

// ComparePair names the two jobs of a compare run.
type ComparePair struct {
	GroupID     int64
	SDXL, Janus string
}

// ModelInfo is an installed model folder.
type ModelInfo struct {
	Name    string // folder or registry name
	Kind    string // KindSDXLBase, KindSDXLRefiner, KindJanus
	Params  string // "1B"/"7B" for Janus when known
	Dir     string
	SizeMB  int64
	Demo    bool   // a tiny random model that produces noise
	Problem string // why the folder is not usable ("" when it is)
}

// Settings mirrors app.Settings.
type Settings struct {
	ModelDirs    []string
	Library      string
	Device       string
	ORTLib       string
	Theme        string
	PreviewEvery int
}

// Diagnosis is what the CPU banner and "copy diagnostics" show.
type Diagnosis struct {
	OnCPU  bool   // generations will run on the CPU
	Reason string // why, in plain words (from the doctor)
	Report string // the full doctor report as text
}

// Jobs is the generation queue (app.Studio).
type Jobs interface {
	Submit(req Request) string
	SubmitToGroup(req Request, groupID int64, index int) string
	Compare(ctx context.Context, sdxl, janus Request) (ComparePair, error)
	Cancel(id string) bool
	Remove(id string) error
	Move(id string, pos int) error
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
	Export(ctx context.Context, ids []int64, dest string) (gallery.ExportReport, error)
	// Path turns a library-relative image path into a file path.
	Path(rel string) string
}

// System is models, settings and diagnostics.
type System interface {
	Models(ctx context.Context) ([]ModelInfo, error)
	InstallDemoModels(ctx context.Context) ([]string, error)
	ImportModel(ctx context.Context, dir string) error
	Settings() Settings
	SaveSettings(s Settings) error
	Diagnose(ctx context.Context) Diagnosis
}

// Backend is everything the views need.
type Backend interface {
	Jobs
	Library
	System
}
