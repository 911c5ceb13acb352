package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/engine/models"
)

// Bench defaults: the prompt of the classic SDXL demonstration and a fixed
// seed, so that reports from two machines compare like for like.
const (
	benchPrompt = "a photograph of an astronaut riding a horse"
	benchSeed   = 42
)

// newBenchCmd declares `diptych bench` and its flags.
func newBenchCmd(c *cli) *cobra.Command {
	var s studyFlags
	var axes sweepFlags
	var modelList, out *string
	var runs, warmup *int
	cmd := c.command("bench --out DIR [--models sdxl,janus] [--runs N] [--warmup N] [--pairs ... | --sizes ... --steps ...] [flags]",
		"benchmark the models and write a report",
		"Benchmark the models: for each model, resolution and step count, a warm-up then N timed runs; reports the\n"+
			"mean and spread of wall time, time per stage, peak process memory, peak GPU memory (NVML), device and\n"+
			"execution provider. Writes report.md, report.csv, report.json and chart.png (time against steps) into\n"+
			"--out. SDXL runs at --pairs or the --sizes x --steps grid (default 256:20, 512:50, 768:100); Janus-Pro\n"+
			"at its native size. Nothing is added to the history.",
		func(ctx context.Context, fs *pflag.FlagSet, _ []string) error {
			return runBench(ctx, c, fs, &s, &axes, modelList, out, runs, warmup)
		})
	fs := cmd.Flags()
	s.register(fs, "model", "model-dir", "init-image", "images", "width", "height", "steps", "strength")
	axes.register(fs)
	modelList = fs.String("models", "sdxl,janus", "models to run: sdxl, janus or sdxl,janus (a default model that is not installed is skipped)")
	runs = fs.Int("runs", 3, "timed runs per case")
	warmup = fs.Int("warmup", 1, "untimed runs per case before the timed ones")
	out = fs.String("out", "", "report folder (required)")
	return cmd
}

func runBench(ctx context.Context, c *cli, fs *pflag.FlagSet, s *studyFlags, axes *sweepFlags, modelList, out *string,
	runs, warmup *int) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q (flags only)", errUsage, fs.Args())
	}
	if *out == "" {
		return fmt.Errorf("%w: --out DIR is required", errUsage)
	}
	if *runs < 1 || *runs > 1000 {
		return fmt.Errorf("%w: --runs %d: expected 1 to 1000", errUsage, *runs)
	}
	if *warmup < 0 || *warmup > 100 {
		return fmt.Errorf("%w: --warmup %d: expected 0 to 100", errUsage, *warmup)
	}
	want, err := app.ParseModels(*modelList)
	if err != nil {
		return fmt.Errorf("%w: --%v", errUsage, err)
	}
	plan, err := axes.plan()
	if err != nil {
		return err
	}
	if !flagGiven(fs, "prompt") {
		s.gen.req.Prompt = benchPrompt
	}
	if strings.TrimSpace(s.gen.req.Prompt) == "" {
		return fmt.Errorf("%w: --prompt must not be empty", errUsage)
	}
	if !flagGiven(fs, "seed") {
		s.gen.req.Seed = benchSeed
	}
	// Find the folders; a model left to its default is skipped when absent.
	explicit := flagGiven(fs, "models")
	var run []app.Model
	for _, m := range want {
		given, kind, name := &s.sdxlDir, models.KindSDXLBase, "sdxl-dir"
		if m == app.ModelJanus {
			given, kind, name = &s.janusDir, models.KindJanus, "janus-dir"
		}
		dir, err := c.modelDir(*given, kind, name)
		if err != nil {
			if explicit || *given != "" {
				return err
			}
			c.warn("skipping %s: %v", m, err)
			continue
		}
		*given = dir
		run = append(run, m)
	}
	if len(run) == 0 {
		return errors.New("no model to benchmark: install SDXL or Janus-Pro, or give --sdxl-dir / --janus-dir")
	}
	sdxl, janus := s.requests(fs)
	bar := &labelledBar{c: c, quiet: s.gen.quiet}
	w := *warmup
	if w == 0 {
		w = -1 // BenchRequest: -1 means none
	}
	// Each model gets a fresh engine, closed before the next model loads,
	// so that one model's weights do not count in the other's peak memory.
	var rep app.BenchReport
	var errs []error
	for _, m := range run {
		eng := c.studyEngine()
		r, err := app.Bench(ctx, eng, app.BenchRequest{Cases: app.BenchCases([]app.Model{m}, sdxl, janus, plan.Points),
			Runs: *runs, Warmup: w}, func(p app.BenchProgress) {
			part := fmt.Sprintf("%s %d/%d run %d/%d", p.Request.Model, p.Case+1, p.Cases, p.Run, p.Runs)
			if p.Warmup {
				part = fmt.Sprintf("%s %d/%d warm-up", p.Request.Model, p.Case+1, p.Cases)
			}
			if p.Progress.Stage != "start" {
				bar.update(part, p.Progress)
			}
		})
		eng.Close()
		if rep.Rows == nil {
			rep = r
		} else {
			rep.Rows = append(rep.Rows, r.Rows...)
		}
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	runErr := errors.Join(errs...)
	bar.done()
	if len(rep.Rows) == 0 {
		return runErr
	}
	paths, err := rep.WriteDir(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s\n\n%s", strings.Join(paths, ", "), rep.Markdown())
	return runErr
}
