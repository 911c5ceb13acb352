package app

import (
	"time"

	"diptych/gallery"
)

// JobID names a job in the Studio's queue.
type JobID string

// JobState is where a job is in its life.
type JobState string

// Job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobDone      JobState = "done"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Finished reports whether the state is final.
func (s JobState) Finished() bool {
	return s == JobDone || s == JobFailed || s == JobCancelled
}

// JobKind is the use case a job runs.
type JobKind string

// Job kinds.
const (
	JobGenerate JobKind = ""        // one request (Generate)
	JobCompare  JobKind = "compare" // SDXL and Janus-Pro on one prompt (Compare)
	JobRefine   JobKind = "refine"  // a stored Janus draft refined by SDXL (Refine)
)

// Job is one request in the queue and how it went.
type Job struct {
	ID   JobID   `json:"id"`
	Kind JobKind `json:"kind,omitempty"`
	// Request is what a generate job runs; for a compare or refine job it is
	// the SDXL side, for display.
	Request Request         `json:"request"`
	Compare *CompareRequest `json:"compare,omitempty"`
	Refine  *RefineRequest  `json:"refine,omitempty"`
	State   JobState        `json:"state"`
	// Error is the reason a job failed (or was cancelled).
	Error string `json:"error,omitempty"`
	// GroupID ties the job to a gallery group (a compare pair, a batch);
	// GroupIndex is its position there (0 = SDXL side of a pair, 1 = Janus).
	GroupID    int64     `json:"group_id,omitempty"`
	GroupIndex int       `json:"group_index,omitempty"`
	Created    time.Time `json:"created"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
	// Generations are the gallery ids of the saved images (done jobs).
	Generations []int64 `json:"generations,omitempty"`
}

// EventKind says what happened to a job.
type EventKind string

// Event kinds.
const (
	EventQueued    EventKind = "queued"
	EventStarted   EventKind = "started"
	EventProgress  EventKind = "progress"
	EventDone      EventKind = "done"
	EventFailed    EventKind = "failed"
	EventCancelled EventKind = "cancelled"
	EventRemoved   EventKind = "removed"   // taken out of the queue unrun
	EventMoved     EventKind = "moved"     // the queue order changed
	EventWarning   EventKind = "warning"   // a problem not tied to a job (Err says what)
	EventSideDone  EventKind = "side-done" // one side of a compare was stored (Side, Generations)
)

// Event is one change to a job, delivered to subscribers in order.
type Event struct {
	Kind EventKind
	Job  Job // the job as it is after the change
	// Side is which side of a compare a progress or side-done event is
	// about (0 SDXL, 1 Janus-Pro, 2 the hybrid refine).
	Side int
	// Progress is set for EventProgress (Preview may hold a live preview).
	Progress Progress
	// Result and Generations are set for EventDone (and, where rows were
	// stored, for EventFailed): what the engine returned and the rows saved
	// to the gallery, one per image (a compare's: one per side, in order).
	Result      *Result
	Generations []gallery.Generation
	// Err is the reason for EventFailed and EventCancelled.
	Err string
}
