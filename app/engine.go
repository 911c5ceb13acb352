package app

import "diptych/app/api"

// The request, result and engine types live in the cgo-free package
// app/api so that the GUI can use them; these aliases keep app.X working.
type (
	// Model names a kind of generator.
	Model = api.Model
	// Request is one generation, with every setting either engine understands.
	Request = api.Request
	// Progress reports a running generation.
	Progress = api.Progress
	// StageTiming is the wall time of one stage.
	StageTiming = api.StageTiming
	// Result is a finished generation.
	Result = api.Result
	// Engine runs generations (the real one is NewLocalEngine's).
	Engine = api.Engine
)

// The generators Diptych runs.
const (
	ModelSDXL  = api.ModelSDXL
	ModelJanus = api.ModelJanus
)
