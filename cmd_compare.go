package main

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/app/local"
	"diptych/engine/format"
	"diptych/engine/models"
)

// studyFlags are the flags compare, sweep and bench share: the per-model
// options of generate (less the ones named in skip) and the model folders.
type studyFlags struct {
	gen      generateFlags
	sdxlDir  string
	janusDir string
}

// register adds the shared flags to fs, leaving out the generate flags in skip.
func (s *studyFlags) register(fs *pflag.FlagSet, skip ...string) {
	all := pflag.NewFlagSet("", pflag.ContinueOnError)
	s.gen.register(all)
	all.VisitAll(func(f *pflag.Flag) { // compare has no --model, sweep's --steps is a list, ...
		if !slices.Contains(skip, f.Name) {
			fs.AddFlag(f)
		}
	})
	fs.StringVar(&s.sdxlDir, "sdxl-dir", "", "SDXL base folder (default: the installed SDXL model)")
	fs.StringVar(&s.janusDir, "janus-dir", "", "Janus-Pro folder (default: the installed Janus-Pro model)")
	fs.StringVar(&s.gen.library, "library", "", "history library folder (default: the user's library)")
	fs.BoolVar(&s.gen.quiet, "quiet", false, "no progress bar")
}

// requests splits the generate options into an SDXL and a Janus request.
func (s *studyFlags) requests(fs *pflag.FlagSet) (sdxl, janus app.Request) {
	r := s.gen.req
	r.InitImage, r.Images = "", 1
	if !flagGiven(fs, "refiner-dir") {
		r.SwitchAt = 0
	}
	sdxl, janus = r, r
	sdxl.Model, sdxl.ModelDir = app.ModelSDXL, s.sdxlDir
	janus.Model, janus.ModelDir = app.ModelJanus, s.janusDir
	sdxl.Strength = 0
	return sdxl, janus
}

// modelDir is the folder given for a model, checked, else the installed one.
func (c *cli) modelDir(given string, kind models.Kind, flagName string) (string, error) {
	if given != "" {
		if err := app.CheckModelDir(given, kind); err != nil {
			return "", fmt.Errorf("--%s: %w", flagName, err)
		}
		return given, nil
	}
	settings, _ := c.settings()
	reg, _ := models.OpenDefault()
	dir, err := app.FindModelDir(registry(reg), settings.ModelDirs, kind)
	if err != nil {
		return "", fmt.Errorf("%w (or give --%s DIR)", err, flagName)
	}
	return dir, nil
}

// studyEngine opens the local engine with the user's runtime settings.
func (c *cli) studyEngine() *local.Engine {
	settings, _ := c.settings()
	return local.New(local.Options{ORTLib: c.ortLibPath(settings)})
}

// writePNG writes img to path, creating its folder.
func writePNG(path string, img image.Image) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// checkPNGPath refuses an output that is not a .png file name.
func checkPNGPath(out string) error {
	if !strings.EqualFold(filepath.Ext(out), ".png") {
		return fmt.Errorf("%w: --out %q: expected a file name ending in .png", errUsage, out)
	}
	return nil
}

// labelledBar prefixes a progress bar's stage with the running part's name
// and starts a new bar line when the part changes.
type labelledBar struct {
	c     *cli
	quiet bool
	bar   *progressBar
	part  string
}

func (l *labelledBar) update(part string, p app.Progress) {
	if l.bar == nil {
		l.bar = newProgressBar(l.c, l.quiet)
	} else if part != l.part {
		l.bar.done()
	}
	l.part = part
	p.Stage = part + " " + p.Stage
	l.bar.update(p)
}

func (l *labelledBar) done() {
	if l.bar != nil {
		l.bar.done()
		l.bar = nil
	}
}

// newCompareCmd declares `diptych compare` and its flags.
func newCompareCmd(c *cli) *cobra.Command {
	var s studyFlags
	var hybrid, critic *bool
	var out, together *string
	cmd := c.command("compare --prompt P [--seed N] [--sdxl-dir DIR] [--janus-dir DIR] [--hybrid [--strength S]] [--critic] [--out FILE.png] [flags]",
		"run SDXL and Janus-Pro on the same prompt",
		"Run SDXL and Janus-Pro on the same prompt and seed, one after the other, store both as one pair in the\n"+
			"history and write a side-by-side PNG with each image's model, settings, time and peak memory under it.\n"+
			"--hybrid adds \"Janus draft -> SDXL refine\": the Janus image upscaled (Lanczos) and refined by SDXL\n"+
			"image-to-image at --strength. --critic asks Janus whether each image shows the prompt, and for a caption.",
		func(ctx context.Context, fs *pflag.FlagSet, _ []string) error {
			return runCompare(ctx, c, fs, &s, hybrid, critic, out, together)
		})
	fs := cmd.Flags()
	s.register(fs, "model", "model-dir", "init-image", "images")
	hybrid = fs.Bool("hybrid", false, "also refine the Janus image with SDXL image-to-image (strength: --strength, default 0.5)")
	critic = fs.Bool("critic", false, "ask Janus whether each image shows the prompt and for a caption; stored with the images")
	out = fs.String("out", "", "side-by-side PNG (default: compare-GROUP.png)")
	together = fs.String("together", "auto", "run both models at once: auto (when both fit on the GPU), on, off")
	return cmd
}

func runCompare(ctx context.Context, c *cli, fs *pflag.FlagSet, s *studyFlags, hybrid, critic *bool, out, together *string) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q (flags only)", errUsage, fs.Args())
	}
	if strings.TrimSpace(s.gen.req.Prompt) == "" {
		return fmt.Errorf("%w: --prompt is required and must not be empty", errUsage)
	}
	if *out != "" {
		if err := checkPNGPath(*out); err != nil {
			return err
		}
	}
	strength := app.DefaultHybridStrength
	if flagGiven(fs, "strength") {
		if !*hybrid {
			return fmt.Errorf("%w: --strength applies to --hybrid only", errUsage)
		}
		strength = s.gen.req.Strength
		if !(strength > 0 && strength <= 1) {
			return fmt.Errorf("%w: --strength %g: expected a value in (0, 1]", errUsage, strength)
		}
	}
	var err error
	if s.sdxlDir, err = c.modelDir(s.sdxlDir, models.KindSDXLBase, "sdxl-dir"); err != nil {
		return err
	}
	if s.janusDir, err = c.modelDir(s.janusDir, models.KindJanus, "janus-dir"); err != nil {
		return err
	}
	sdxl, janus := s.requests(fs)
	req := app.CompareRequest{SDXL: sdxl, Janus: janus, Hybrid: *hybrid, HybridStrength: strength, AppVersion: version}

	lib, err := c.openLibrary(ctx, s.gen.library)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	defer lib.Close()
	eng := c.studyEngine()
	defer eng.Close()
	switch *together {
	case "on":
		req.Together = true
	case "off":
	case "auto":
		var why string
		req.Together, why = eng.FitsTogether(ctx, sdxl.ModelDir, janus.ModelDir, sdxl.Device)
		fmt.Fprintf(c.stderr, "compare: %s\n", why)
	default:
		return fmt.Errorf("%w: --together %q: expected auto, on or off", errUsage, *together)
	}
	if *critic {
		req.Critic = app.JanusDescriber(eng, s.janusDir, sdxl.Device)
		req.CriticModel = filepath.Base(filepath.Clean(s.janusDir))
	}
	bar := &labelledBar{c: c, quiet: s.gen.quiet}
	res, runErr := app.Compare(ctx, eng, lib, req, func(p app.CompareProgress) { bar.update(p.Side, p.Progress) })
	bar.done()
	if len(res.Sides) == 0 {
		return runErr
	}
	path := *out
	if path == "" {
		path = fmt.Sprintf("compare-%d.png", res.Group.ID)
	}
	if err := writePNG(path, res.Sheet()); err != nil {
		return err
	}
	printCompare(c, res, path)
	return runErr
}

// printCompare prints one line per side and the critic's answers.
func printCompare(c *cli, res app.CompareResult, path string) {
	fmt.Fprintf(c.stdout, "wrote %s (seed %d; history group #%d, %s)\n", path, res.Sides[0].Request.Seed, res.Group.ID, res.Group.Kind)
	for _, s := range res.Sides {
		g := s.Generation
		if s.Err != nil {
			fmt.Fprintf(c.stdout, "  %-14s failed: %v (history #%d)\n", s.Label, s.Err, g.ID)
			continue
		}
		line := fmt.Sprintf("  %-14s %-18s %4dx%-4d %10s  peak %d MB", s.Label, g.Model, g.Width, g.Height,
			format.Duration(s.Result.Total), s.Result.PeakRSSMB)
		if s.Result.PeakGPUMB > 0 {
			line += fmt.Sprintf(", GPU %d MB", s.Result.PeakGPUMB)
		}
		fmt.Fprintf(c.stdout, "%s  %s  history #%d\n", line, s.Result.Device, g.ID)
		if v := s.Critic; v != nil {
			fmt.Fprintf(c.stdout, "  %-14s critic: %s (%q); caption: %q\n", "", v.Match, clip(v.Answer, 60), clip(v.Caption, 160))
		}
	}
}

// clip shortens s to n runes, ending with "…" when cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
