package app_test

import (
	"diptych/app"
	"diptych/app/local"
)

// The tests of package app that run the tiny fixtures need the real engine,
// which lives in app/local (it imports app, so app's own tests cannot import
// it); this external test file hands it over.
func init() {
	app.RealEngine = func() (app.Engine, func() error, error) {
		e := local.New(local.Options{Threads: 1, MemoryBudgetMB: -1})
		_, err := e.Runtime()
		return e, e.Close, err
	}
}
