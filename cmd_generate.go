package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/app/local"
	"diptych/app/progress"
	"diptych/engine/format"
	"diptych/gallery"
)

// generateFlags are the per-model options shared by generate, compare and sweep.
type generateFlags struct {
	req       app.Request
	out       string
	library   string
	noHistory bool
	quiet     bool
}

func (g *generateFlags) register(fs *pflag.FlagSet) {
	r := &g.req
	fs.StringVar((*string)(&r.Model), "model", "sdxl", "sdxl or janus")
	fs.StringVar(&r.ModelDir, "model-dir", "", "model folder (an SDXL or Janus-Pro ONNX export)")
	fs.StringVar(&r.Device, "device", "", "auto, cpu, cuda or cuda:N (default: the settings' device, else auto)")
	fs.StringVar(&r.Prompt, "prompt", "", "the prompt")
	fs.StringVar(&r.Negative, "negative", "", "negative prompt")
	fs.Int64Var(&r.Seed, "seed", -1, "seed (-1: random; the result records it)")
	fs.StringVar(&r.Prompt2, "prompt-2", "", "SDXL: prompt for the second text encoder (default: --prompt)")
	fs.IntVar(&r.Width, "width", 1024, "SDXL: image width")
	fs.IntVar(&r.Height, "height", 1024, "SDXL: image height")
	fs.IntVar(&r.Steps, "steps", 30, "SDXL: denoising steps")
	fs.StringVar(&r.Scheduler, "scheduler", "euler", "SDXL: euler, euler_a, heun, ddim, dpmpp_2m, dpmpp_2m_karras, unipc")
	fs.Float64Var(&r.Guidance, "guidance", 5, "SDXL: guidance scale (CFG off at 1)")
	fs.Float64Var(&r.GuidanceRescale, "guidance-rescale", 0, "SDXL: guidance rescale φ in [0,1]")
	fs.StringVar(&r.RefinerDir, "refiner-dir", "", "SDXL: refiner folder (ensemble of experts)")
	fs.Float64Var(&r.SwitchAt, "switch-at", 0.8, "SDXL: fraction of the steps the base runs before the refiner")
	fs.StringVar(&r.InitImage, "init-image", "", "SDXL: image-to-image source (PNG or JPEG)")
	fs.Float64Var(&r.Strength, "strength", 0.3, "SDXL: image-to-image strength in (0,1]")
	fs.Float64Var(&r.CFG, "cfg", 5, "Janus: classifier-free guidance weight")
	fs.Float64Var(&r.Temperature, "temperature", 1, "Janus: sampling temperature")
	fs.IntVar(&r.TopK, "top-k", 0, "Janus: sample from the K most likely tokens (0: all)")
	fs.Float64Var(&r.TopP, "top-p", 0, "Janus: nucleus sampling mass (0: off)")
	fs.IntVar(&r.Images, "images", 1, "Janus: images per prompt")
	fs.StringVar(&r.Variant, "variant", "", "Janus: file combination (fp32, fp16, q4f16; default fp32)")
}

// newGenerateCmd declares `diptych generate` and its flags.
func newGenerateCmd(c *cli) *cobra.Command {
	var g generateFlags
	var o generateOpts
	cmd := c.command("generate --model sdxl|janus --model-dir DIR --prompt P --out FILE.png [flags]",
		"make an image with SDXL or Janus-Pro",
		"Make an image with SDXL (text-to-image, refiner hand-off, image-to-image) or Janus-Pro (text-to-image).\n"+
			"Writes a PNG with an A1111 'parameters' chunk, prints per-stage timings and peak memory, and keeps the\n"+
			"result in the history.",
		func(ctx context.Context, fs *pflag.FlagSet, _ []string) error {
			return runGenerate(ctx, c, fs, &g, &o)
		})
	cmd.Args = noArgs
	fs := cmd.Flags()
	g.register(fs)
	fs.StringVar(&g.out, "out", "", "output PNG (several Janus images: FILE-1.png, FILE-2.png, ...)")
	fs.StringVar(&g.library, "library", "", "history library folder (default: the user's library)")
	fs.BoolVar(&g.noHistory, "no-history", false, "do not record the result in the history")
	fs.BoolVar(&g.quiet, "quiet", false, "no progress bar")
	o.lowMem = fs.Bool("low-memory", false, "SDXL: free the text encoders after encoding and the UNet before decoding, run the two CFG rows one at a time")
	o.forceCPU = fs.Bool("force-cpu", false, "Janus: let Janus-Pro-7B run on the CPU (slow; refused otherwise), and skip the RAM check")
	o.threads = fs.Int("threads", 0, "CPU threads per model (0 = one per core)")
	o.report = fs.String("report", "", "also write the result (timings, per-token times, Janus image tokens, peak memory) as JSON to this file")
	return cmd
}

// generateOpts are generate's flags that are not part of the request.
type generateOpts struct {
	lowMem, forceCPU *bool
	threads          *int
	report           *string
}

func runGenerate(ctx context.Context, c *cli, fs *pflag.FlagSet, g *generateFlags, o *generateOpts) error {
	lowMem, forceCPU, threads, report := o.lowMem, o.forceCPU, o.threads, o.report
	if g.out == "" {
		return fmt.Errorf("%w: --out FILE.png is required", errUsage)
	}
	if strings.TrimSpace(g.req.Prompt) == "" {
		return fmt.Errorf("%w: --prompt is required and must not be empty", errUsage)
	}
	if g.req.Model != app.ModelSDXL && g.req.Model != app.ModelJanus {
		return fmt.Errorf("%w: --model %q: expected sdxl or janus", errUsage, g.req.Model)
	}
	if g.req.ModelDir == "" {
		return fmt.Errorf("%w: --model-dir is required", errUsage)
	}
	if g.req.Model == app.ModelSDXL && !flagGiven(fs, "refiner-dir") {
		g.req.SwitchAt = 0
	}
	if !flagGiven(fs, "init-image") {
		g.req.Strength = 0
	}
	settings, _ := c.settings()
	eng := local.New(local.Options{ORTLib: c.ortLibPath(settings), LowMem: *lowMem, ForceCPU: *forceCPU, Threads: *threads})
	defer eng.Close()
	var lib app.Library
	if !g.noHistory {
		st, err := c.openLibrary(ctx, g.library)
		if err != nil {
			return fmt.Errorf("history (use --no-history to skip): %w", err)
		}
		defer st.Close()
		lib = st
	}
	req := settings.Apply(g.req)
	req.PreviewEvery = 0 // no preview to show on a terminal
	bar := newProgressBar(c, g.quiet)
	gen, err := app.Generate(ctx, eng, req, app.RecordOptions{Library: lib, AppVersion: version}, bar.update)
	bar.done()
	for _, w := range gen.Result.Warnings {
		c.warn("%s", w)
	}
	if err != nil {
		return err
	}
	paths, err := writeImages(g.out, gen)
	if err != nil {
		return err
	}
	printResult(c, gen.Request, gen.Result, paths)
	if *report != "" {
		b, err := json.MarshalIndent(gen.Result, "", " ")
		if err == nil {
			err = os.WriteFile(*report, append(b, '\n'), 0o644)
		}
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
	}
	for _, row := range gen.Generations {
		if row.ID != 0 {
			fmt.Fprintf(c.stdout, "  history #%d\n", row.ID)
		}
	}
	return nil
}

// writeImages writes each image as PNG with the metadata of its row.
func writeImages(out string, gen app.Generated) ([]string, error) {
	var paths []string
	ext := filepath.Ext(out)
	images := gen.Result.Images
	for i, img := range images {
		path := out
		if len(images) > 1 {
			path = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(out, ext), i+1, ext)
		}
		b, err := app.EncodePNG(img, gen.Generations[i], "")
		if err != nil {
			return nil, err
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func printResult(c *cli, req app.Request, res app.Result, paths []string) {
	fmt.Fprintf(c.stdout, "wrote %s (seed %d, %s on %s)\n", strings.Join(paths, ", "), res.Seed, req.Model, res.Device)
	if res.Fallback != "" {
		fmt.Fprintf(c.stdout, "note: running on the CPU because %s\n", res.Fallback)
	}
	for _, t := range res.Timings {
		fmt.Fprintf(c.stdout, "  %-22s %10s\n", t.Stage, format.Duration(t.Duration))
	}
	if n := len(res.StepTimes); n > 0 {
		st := append([]time.Duration(nil), res.StepTimes...)
		sort.Slice(st, func(i, j int) bool { return st[i] < st[j] })
		what := map[bool]string{true: "token", false: "step"}[req.Model == app.ModelJanus]
		fmt.Fprintf(c.stdout, "  %-22s %10s (%d %ss)\n", "per "+what+" (median)", format.Duration(st[n/2]), n, what)
	}
	fmt.Fprintf(c.stdout, "  %-22s %10s\n", "total", format.Duration(res.Total))
	fmt.Fprintf(c.stdout, "  peak memory %d MB (process RSS)", res.PeakRSSMB)
	if res.PeakGPUMB > 0 {
		fmt.Fprintf(c.stdout, ", %d MB GPU", res.PeakGPUMB)
	}
	fmt.Fprintln(c.stdout)
}

// openLibrary opens the history library: --library, else the settings'
// library, else the default.
func (c *cli) openLibrary(ctx context.Context, flagValue string) (*gallery.Store, error) {
	root, err := libraryRoot(c, flagValue)
	if err != nil {
		return nil, err
	}
	return gallery.Open(ctx, root)
}

// libraryRoot is --library, else the settings' library, else the default.
func libraryRoot(c *cli, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if s, _ := c.settings(); s.Library != "" {
		return s.Library, nil
	}
	return gallery.DefaultRoot()
}

// progressBar shows a generation's progress on stderr (see app/progress).
type progressBar struct {
	bar *progress.Bar // nil with --quiet
}

func newProgressBar(c *cli, quiet bool) *progressBar {
	if quiet {
		return &progressBar{}
	}
	return &progressBar{bar: c.progressBar()}
}

func (b *progressBar) update(p app.Progress) {
	if b.bar == nil || p.Total == 0 {
		return
	}
	b.bar.Update(progress.State{Task: p.Stage, Done: int64(p.Step), Total: int64(p.Total), Rate: p.Rate, ETA: p.ETA})
}

func (b *progressBar) done() {
	if b.bar != nil {
		b.bar.Finish()
	}
}

// isTerminal tells whether progress goes to a terminal (tests replace it).
var isTerminal = progress.IsTerminal

// progressBar returns a progress bar on stderr: redrawn in place on a
// terminal, plain lines every 5 % otherwise.
func (c *cli) progressBar() *progress.Bar {
	return newBar(c.stderr)
}

func newBar(w io.Writer) *progress.Bar {
	return progress.New(w, progress.Options{Terminal: isTerminal(w), Width: progress.TerminalWidth(w)})
}
