package app

import (
	"context"
	"fmt"
)

// janusRunner is the part of engine/janus the local engine uses.
type janusRunner interface {
	Close() error
}

func (e *LocalEngine) generateJanus(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	return Result{}, fmt.Errorf("janus: not wired yet")
}
