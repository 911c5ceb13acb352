package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/engine/models"
)

// sweepFlags are the axes of a sweep or a benchmark.
type sweepFlags struct {
	sizes, steps, pairs string
}

func (a *sweepFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.sizes, "sizes", "", "image sizes for a grid: 256,512,768 (square) or WxH (default with --steps: 256,512,768)")
	fs.StringVar(&a.steps, "steps", "", "step counts for a grid: 20,50,100 (default with --sizes: 20,50,100)")
	fs.StringVar(&a.pairs, "pairs", "", "SIZE:STEPS pairs instead of a grid (default: 256:20,512:50,768:100)")
}

// plan turns the axes into a sweep plan: --pairs, a grid of --sizes by
// --steps, or the classic pairs when none is given.
func (a *sweepFlags) plan() (app.SweepPlan, error) {
	if a.pairs != "" {
		if a.sizes != "" || a.steps != "" {
			return app.SweepPlan{}, fmt.Errorf("%w: give --pairs or --sizes/--steps, not both", errUsage)
		}
		pts, err := app.ParsePairs(a.pairs)
		if err != nil {
			return app.SweepPlan{}, fmt.Errorf("%w: --%v", errUsage, err)
		}
		return app.PairsPlan(pts), nil
	}
	if a.sizes == "" && a.steps == "" {
		return app.PairsPlan(app.ClassicPairs()), nil
	}
	sizes, steps := a.sizes, a.steps
	if sizes == "" {
		sizes = "256,512,768"
	}
	if steps == "" {
		steps = "20,50,100"
	}
	sz, err := app.ParseSizes(sizes)
	if err != nil {
		return app.SweepPlan{}, fmt.Errorf("%w: --%v", errUsage, err)
	}
	st, err := app.ParseSteps(steps)
	if err != nil {
		return app.SweepPlan{}, fmt.Errorf("%w: --%v", errUsage, err)
	}
	return app.GridPlan(sz, st), nil
}

// newSweepCmd declares `diptych sweep` and its flags.
func newSweepCmd(c *cli) *cobra.Command {
	var s studyFlags
	var axes sweepFlags
	var out *string
	var critic, noWarmup *bool
	var scoreGroup *int64
	cmd := c.command("sweep --prompt P [--sizes 256,512,768 --steps 20,50,100 | --pairs 256:20,512:50,768:100] --out FILE.png [flags]",
		"run a resolution x steps grid",
		"Run SDXL on one prompt and seed at several sizes and step counts: a grid of --sizes by --steps, or the\n"+
			"listed --pairs (default: the classic 256:20, 512:50, 768:100). Writes a labelled contact sheet, prints a\n"+
			"table of times (also written next to the sheet as FILE.md) and stores the cells as one history group.\n"+
			"--critic asks Janus-Pro, after the sweep, whether each image shows the prompt, and for a caption.",
		func(ctx context.Context, fs *pflag.FlagSet, _ []string) error {
			return runSweep(ctx, c, fs, &s, &axes, out, critic, noWarmup, scoreGroup)
		})
	fs := cmd.Flags()
	s.register(fs, "model", "model-dir", "init-image", "images", "width", "height", "steps", "strength",
		"cfg", "temperature", "top-k", "top-p", "variant")
	axes.register(fs)
	out = fs.String("out", "", "contact sheet PNG (required)")
	critic = fs.Bool("critic", false, "score every image with Janus-Pro after the sweep (needs --janus-dir or an installed Janus-Pro)")
	noWarmup = fs.Bool("no-warmup", false, "do not run one untimed step first (model loading then counts in the first cell)")
	scoreGroup = fs.Int64("score-group", 0, "generate nothing: score every image of this history group (an earlier sweep or compare) with Janus-Pro")
	return cmd
}

func runSweep(ctx context.Context, c *cli, fs *pflag.FlagSet, s *studyFlags, axes *sweepFlags, out *string,
	critic, noWarmup *bool, scoreGroup *int64) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q (flags only)", errUsage, fs.Args())
	}
	if *scoreGroup != 0 {
		return scoreSweepGroup(ctx, c, s, *scoreGroup)
	}
	if *out == "" {
		return fmt.Errorf("%w: --out FILE.png is required", errUsage)
	}
	if err := checkPNGPath(*out); err != nil {
		return err
	}
	if strings.TrimSpace(s.gen.req.Prompt) == "" {
		return fmt.Errorf("%w: --prompt is required and must not be empty", errUsage)
	}
	plan, err := axes.plan()
	if err != nil {
		return err
	}
	if s.sdxlDir, err = c.modelDir(s.sdxlDir, models.KindSDXLBase, "sdxl-dir"); err != nil {
		return err
	}
	if *critic {
		if s.janusDir, err = c.modelDir(s.janusDir, models.KindJanus, "janus-dir"); err != nil {
			return err
		}
	}
	base, _ := s.requests(fs)
	lib, err := c.openLibrary(ctx, s.gen.library)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer lib.Close()
	eng := c.studyEngine()
	defer eng.Close()
	req := app.SweepRequest{Base: base, Plan: plan, AppVersion: version, Warmup: !*noWarmup}
	if *critic {
		req.Critic = app.JanusDescriber(eng, s.janusDir, base.Device)
		req.CriticModel = filepath.Base(filepath.Clean(s.janusDir))
	}
	bar := &labelledBar{c: c, quiet: s.gen.quiet}
	res, runErr := app.Sweep(ctx, eng, lib, req, func(p app.SweepProgress) {
		part := "warm-up"
		if p.Cell >= 0 {
			part = fmt.Sprintf("%d/%d %dx%d", p.Cell+1, p.Cells, p.Point.Width, p.Point.Height)
		}
		bar.update(part, p.Progress)
	})
	bar.done()
	if len(res.Cells) == 0 {
		return runErr
	}
	if err := writePNG(*out, res.Sheet()); err != nil {
		return err
	}
	table := res.Table()
	tablePath := (*out)[:len(*out)-len(filepath.Ext(*out))] + ".md"
	if err := os.WriteFile(tablePath, []byte(table), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", tablePath, err)
	}
	fmt.Fprintf(c.stdout, "wrote %s and %s (seed %d; history group #%d)\n\n%s", *out, tablePath,
		res.Cells[0].Request.Seed, res.Group.ID, table)
	for _, cell := range res.Cells {
		if v := cell.Critic; v != nil {
			fmt.Fprintf(c.stdout, "critic %s: %s (%q); caption: %q\n", cell.Point, v.Match, clip(v.Answer, 60), clip(v.Caption, 160))
		}
	}
	return runErr
}

// scoreSweepGroup is the critic's batch form over a stored group.
func scoreSweepGroup(ctx context.Context, c *cli, s *studyFlags, group int64) error {
	if group < 0 {
		return fmt.Errorf("%w: --score-group %d: expected a history group id", errUsage, group)
	}
	dir, err := c.modelDir(s.janusDir, models.KindJanus, "janus-dir")
	if err != nil {
		return err
	}
	lib, err := c.openLibrary(ctx, s.gen.library)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer lib.Close()
	eng := c.studyEngine()
	defer eng.Close()
	vs, err := app.CritiqueGroup(ctx, app.JanusDescriber(eng, dir, s.gen.req.Device), lib, group, filepath.Base(filepath.Clean(dir)))
	for _, v := range vs {
		fmt.Fprintf(c.stdout, "#%d: %s (%q); caption: %q\n", v.GenerationID, v.Match, clip(v.Answer, 60), clip(v.Caption, 160))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "scored %d images of group #%d; the answers are in the history (searchable)\n", len(vs), group)
	return nil
}
