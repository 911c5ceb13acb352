// Package gallery keeps the history of every prompt and image Diptych makes:
// a SQLite database (versioned schema, full-text search, keyset paging) next
// to a library folder of PNG files with thumbnails, plus the PNG metadata
// that other tools read (A1111 "parameters") and importers for their files.
//
// The package takes plain Go values; it knows nothing of the engines or the UI.
package gallery

import (
	"image"
	"time"
)

// Status is how a generation ended.
type Status string

// Generation statuses.
const (
	StatusOK        Status = "ok"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// GroupKind says what tied several generations together.
type GroupKind string

// Group kinds.
const (
	GroupCompare GroupKind = "compare" // SDXL and Janus on the same prompt
	GroupSweep   GroupKind = "sweep"   // a resolution x steps grid
	GroupBatch   GroupKind = "batch"   // several seeds of one request
	GroupHybrid  GroupKind = "hybrid"  // Janus image refined by SDXL
)

// Source values for Generation.Source.
const (
	SourceDiptych = "diptych"
	SourceA1111   = "a1111"
	SourceComfyUI = "comfyui"
	SourceInvoke  = "invokeai"
	SourceFooocus = "fooocus"
	SourceUnknown = "unknown"
)

// StageTiming is the wall time of one pipeline stage (text encoder, denoise,
// VAE decode, ...), in the order the stages ran.
type StageTiming struct {
	Stage    string        `json:"stage"`
	Duration time.Duration `json:"ns"`
}

// Generation is one run of a model: its settings, how it ran, and its image.
type Generation struct {
	ID        int64     `json:"id"`
	CreatedAt time.Time `json:"created_at"`

	Engine         string  `json:"engine"` // "sdxl", "janus", or the importing tool's name
	Model          string  `json:"model"`
	ModelHash      string  `json:"model_hash,omitempty"` // SHA-256 hex of the model file(s), if known
	PromptID       int64   `json:"prompt_id"`
	Prompt         string  `json:"prompt"`
	NegativePrompt string  `json:"negative_prompt,omitempty"`
	Seed           uint64  `json:"seed"`
	Steps          int     `json:"steps"`
	Scheduler      string  `json:"scheduler"` // Diptych name: euler, euler_a, heun, ddim, dpmpp_2m, dpmpp_2m_karras, unipc
	Width          int     `json:"width"`
	Height         int     `json:"height"`
	Guidance       float64 `json:"guidance"`              // CFG scale
	Temperature    float64 `json:"temperature,omitempty"` // Janus sampling temperature
	RNG            string  `json:"rng,omitempty"`         // generator kind, e.g. "cpu" (torch mt19937) or "philox"

	Device            string        `json:"device,omitempty"`    // e.g. "NVIDIA H100 80GB" or "cpu"
	ExecutionProvider string        `json:"provider,omitempty"`  // e.g. "CUDA", "CPU"
	Precision         string        `json:"precision,omitempty"` // e.g. "fp16"
	Timings           []StageTiming `json:"timings,omitempty"`
	PeakMemoryBytes   int64         `json:"peak_memory_bytes,omitempty"`
	Status            Status        `json:"status"`
	Error             string        `json:"error,omitempty"`

	GroupID    int64  `json:"group_id,omitempty"`
	GroupIndex int    `json:"group_index,omitempty"` // position in the group (pair side, sweep cell)
	Source     string `json:"source"`                // who made it: SourceDiptych or an importer
	AppVersion string `json:"app_version,omitempty"`

	// Params holds every other setting (refiner, init image, ...) and, for
	// imports, whatever the other tool recorded. It is stored as JSON.
	Params map[string]any `json:"params,omitempty"`

	Favourite bool       `json:"favourite"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"` // set while in the trash
	Image     *Image     `json:"image,omitempty"`      // nil for a failed run

	// Boards and Captions are filled by Get, not by List.
	Boards   []string  `json:"boards,omitempty"`
	Captions []Caption `json:"captions,omitempty"`
}

// Image is the file a generation produced. Paths are relative to the library
// root and use forward slashes.
type Image struct {
	ID        int64  `json:"id"`
	Path      string `json:"path"`
	ThumbPath string `json:"thumb_path"`
	SHA256    string `json:"sha256"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Bytes     int64  `json:"bytes"`
}

// Caption is a Janus answer about an image: a description or an answer to a
// question (e.g. "does the image match the prompt?").
type Caption struct {
	ID        int64     `json:"id"`
	Kind      string    `json:"kind"` // "describe" or "alignment" (free form)
	Question  string    `json:"question,omitempty"`
	Answer    string    `json:"answer"`
	Model     string    `json:"model,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Group ties generations made together.
type Group struct {
	ID        int64          `json:"id"`
	Kind      GroupKind      `json:"kind"`
	Title     string         `json:"title,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	Params    map[string]any `json:"params,omitempty"` // e.g. the sweep axes
}

// Prompt is one distinct prompt/negative pair and how often it was used.
type Prompt struct {
	ID        int64     `json:"id"`
	Text      string    `json:"text"`
	Negative  string    `json:"negative,omitempty"`
	FirstUsed time.Time `json:"first_used"`
	LastUsed  time.Time `json:"last_used"`
	UseCount  int       `json:"use_count"`
}

// Query selects generations for List. Zero fields do not filter. Results are
// newest first; pass Page.Next back as After to get the following page.
type Query struct {
	Text      string // full-text search over prompt, negative, captions and boards (plain words; quotes and operators are literal)
	Model     string
	Scheduler string
	Seed      *uint64 // all runs with this seed
	PromptID  int64   // all images of this prompt
	GroupID   int64
	Board     string
	Favourite bool // only favourites
	Width     int
	Height    int
	Since     time.Time // created at or after
	Until     time.Time // created before
	Status    Status
	Trash     bool   // list the trash instead of the live library
	Limit     int    // page size; 0 means DefaultPageSize, capped at MaxPageSize
	After     string // cursor from a previous Page.Next
}

// Page sizes.
const (
	DefaultPageSize = 60
	MaxPageSize     = 1000
)

// Page is one page of List results.
type Page struct {
	Items []Generation `json:"items"`
	Next  string       `json:"next,omitempty"` // empty on the last page
}

// SaveRequest is what Save needs: the settings and how the run went, and the
// image, either decoded (Image) or as PNG bytes (PNG). A failed run may have
// neither.
type SaveRequest struct {
	Generation Generation
	Image      image.Image // the picture; ignored when PNG is set
	PNG        []byte      // an encoded PNG; its own text chunks are replaced by ours
}
