package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"runtime/debug"

	"diptych/gallery"
)

// Library is the part of the gallery the use cases write to; *gallery.Store
// satisfies it.
type Library interface {
	Save(ctx context.Context, req gallery.SaveRequest) (gallery.Generation, error)
	NewGroup(ctx context.Context, kind gallery.GroupKind, title string, params map[string]any) (gallery.Group, error)
}

// RecordOptions say where and how a run is recorded.
type RecordOptions struct {
	// Library receives the rows; nil records nothing (`generate
	// --no-history`), and Generate still returns the rows it would have
	// saved, for the PNG metadata.
	Library Library
	// AppVersion is recorded with every generation.
	AppVersion string
	// GroupID and GroupIndex tie the run to a gallery group (a compare pair,
	// a re-run of one side); JobID names the Studio job that ran it.
	GroupID    int64
	GroupIndex int
	JobID      JobID
	// Params are added to every row's Params (a compare's "ran_together",
	// a hybrid refine's draft).
	Params map[string]any
}

// Generated is a finished (or failed) generation and its rows.
type Generated struct {
	Request Request // as run: the seed drawn, the device filled in
	Result  Result
	// Generations are the rows, one per image (IDs set when saved); a failed
	// run has one row with status failed and no image.
	Generations []gallery.Generation
}

// ErrNoImage is the failure of an engine that returned nothing.
var ErrNoImage = errors.New("the engine returned no image")

// Generate is the one way a generation runs, for the GUI's queue and the CLI
// alike: it draws the seed of a request that asks for one (-1), runs the
// engine (a panic becomes an error), and records every image as a history
// row with its whole request, or, when the run fails, one failed row saying
// why. A cancelled run (ctx done) records nothing.
func Generate(ctx context.Context, eng Engine, req Request, o RecordOptions, progress func(Progress)) (Generated, error) {
	if eng == nil {
		return Generated{}, errors.New("generate: no engine")
	}
	req = withSeed(req)
	res, err := safeGenerate(ctx, eng, req, progress)
	return record(ctx, req, res, err, o)
}

// withSeed draws the seed of a request that asks for a random one.
func withSeed(req Request) Request {
	if req.Seed < 0 {
		req.Seed = RandomSeed()
	}
	return req
}

// record stores what a run of req gave (res, or the failure err) as
// Generate describes.
func record(ctx context.Context, req Request, res Result, err error, o RecordOptions) (Generated, error) {
	out := Generated{Request: req, Result: res}
	if err == nil && len(res.Images) == 0 {
		err = ErrNoImage
	}
	if err != nil {
		if ctx.Err() != nil {
			return out, err
		}
		g := generationOf(req, res, o, nil)
		g.Status, g.Error = gallery.StatusFailed, err.Error()
		if o.Library != nil {
			saved, serr := o.Library.Save(context.WithoutCancel(ctx), gallery.SaveRequest{Generation: g})
			if serr != nil {
				return out, fmt.Errorf("%w; also could not record the failure in the library: %v", err, serr)
			}
			g = saved
		}
		out.Generations = []gallery.Generation{g}
		return out, err
	}
	for i, img := range res.Images {
		g := generationOf(req, res, o, img)
		if len(res.Images) > 1 && o.GroupID == 0 {
			g.GroupIndex = i
		}
		if o.Library != nil {
			saved, err := o.Library.Save(context.WithoutCancel(ctx), gallery.SaveRequest{Generation: g, Image: img})
			if err != nil {
				return out, fmt.Errorf("save image %d of %d to the library: %w", i+1, len(res.Images), err)
			}
			g = saved
		}
		out.Generations = append(out.Generations, g)
	}
	return out, nil
}

// safeGenerate calls the engine, turning a panic into an error. Engines may
// count on a progress function.
func safeGenerate(ctx context.Context, eng Engine, req Request, progress func(Progress)) (res Result, err error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the engine crashed: %v\n%s", r, debug.Stack())
		}
	}()
	return eng.Generate(ctx, req, progress)
}

// generationOf describes a run for the gallery with Record, adding its group
// and the whole request under Params["request"] so that "use these
// settings" restores it exactly.
func generationOf(req Request, res Result, o RecordOptions, img image.Image) gallery.Generation {
	if img != nil {
		res.Images = []image.Image{img}
	} else {
		res.Images = nil
	}
	g := Record(req, res, o.AppVersion)
	g.GroupID, g.GroupIndex = o.GroupID, o.GroupIndex
	if res.Seed == 0 && req.Seed > 0 {
		g.Seed = uint64(req.Seed)
	}
	for k, v := range o.Params {
		g.Params[k] = v
	}
	if o.JobID != "" {
		g.Params["job_id"] = string(o.JobID)
	}
	var rm map[string]any
	if b, err := json.Marshal(req); err == nil && json.Unmarshal(b, &rm) == nil {
		g.Params["request"] = rm
	}
	return g
}
