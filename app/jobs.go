package app

import "diptych/app/api"

// The job and event types live in app/api (see engine.go).
type (
	// JobID names a job in the Studio's queue.
	JobID = api.JobID
	// JobState is where a job is in its life.
	JobState = api.JobState
	// Job is one generation request in the queue and how it went.
	Job = api.Job
	// EventKind says what happened to a job.
	EventKind = api.EventKind
	// Event is one change to a job, delivered to subscribers in order.
	Event = api.Event
	// ComparePair names the two jobs of a compare run and their gallery group.
	ComparePair = api.ComparePair
)

// Job states.
const (
	JobQueued    = api.JobQueued
	JobRunning   = api.JobRunning
	JobDone      = api.JobDone
	JobFailed    = api.JobFailed
	JobCancelled = api.JobCancelled
)

// Event kinds.
const (
	EventQueued    = api.EventQueued
	EventStarted   = api.EventStarted
	EventProgress  = api.EventProgress
	EventDone      = api.EventDone
	EventFailed    = api.EventFailed
	EventCancelled = api.EventCancelled
	EventRemoved   = api.EventRemoved
	EventMoved     = api.EventMoved
	EventWarning   = api.EventWarning
)
