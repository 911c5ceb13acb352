package app

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"diptych/engine/discover"
)

// BenchRequest is a benchmark: every case run Warmup times untimed, then
// Runs times timed.
type BenchRequest struct {
	// Cases are complete requests (model, folder, size, steps, seed, ...).
	Cases  []Request
	Runs   int // timed runs per case (0 means 3)
	Warmup int // untimed runs first (loads the models); -1 means none, 0 means 1
}

// BenchCases builds the cases of a benchmark: SDXL at every point, Janus
// once at its native size (it has no size or step axis), for the models
// named (sdxl, janus) in that order.
func BenchCases(modelsToRun []Model, sdxl, janus Request, points []SweepPoint) []Request {
	var out []Request
	for _, m := range modelsToRun {
		switch m {
		case ModelSDXL:
			for _, p := range points {
				r := sdxl
				r.Model, r.Width, r.Height, r.Steps = ModelSDXL, p.Width, p.Height, p.Steps
				out = append(out, r)
			}
		case ModelJanus:
			r := janus
			r.Model, r.Images = ModelJanus, 1
			r.Width, r.Height, r.Steps = 0, 0, 0
			out = append(out, r)
		}
	}
	return out
}

// ParseModels reads "sdxl,janus".
func ParseModels(s string) ([]Model, error) {
	var out []Model
	for _, f := range splitList(s) {
		m := Model(strings.ToLower(f))
		if m != ModelSDXL && m != ModelJanus {
			return nil, fmt.Errorf("models %q: unknown model %q (expected sdxl, janus or both)", s, f)
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("models %q: expected sdxl, janus or sdxl,janus", s)
	}
	return out, nil
}

// StageStat is the mean time of one stage over the timed runs.
type StageStat struct {
	Stage string  `json:"stage"`
	MeanS float64 `json:"mean_s"`
}

// BenchRow is one case's measurements.
type BenchRow struct {
	Model     string      `json:"model"`
	ModelDir  string      `json:"model_dir"`
	Width     int         `json:"width"`
	Height    int         `json:"height"`
	Steps     int         `json:"steps"` // 0 for Janus (576 image tokens at 384²)
	Runs      int         `json:"runs"`
	MeanS     float64     `json:"mean_s"`
	StdS      float64     `json:"std_s"` // sample standard deviation
	MinS      float64     `json:"min_s"`
	MaxS      float64     `json:"max_s"`
	TimesS    []float64   `json:"times_s"`
	Stages    []StageStat `json:"stages"`
	PeakRSSMB int64       `json:"peak_rss_mb"`
	PeakGPUMB int64       `json:"peak_gpu_mb"`
	Device    string      `json:"device"`
	Provider  string      `json:"provider"`
	Precision string      `json:"precision"`
	Error     string      `json:"error,omitempty"`
}

// BenchReport is a finished benchmark.
type BenchReport struct {
	Created time.Time  `json:"created"`
	Host    string     `json:"host"`
	Runs    int        `json:"runs"`
	Warmup  int        `json:"warmup"`
	Rows    []BenchRow `json:"rows"`
}

// BenchProgress reports a running benchmark. Run counts from 1; warm-up
// runs have Warmup set.
type BenchProgress struct {
	Case, Cases int
	Run, Runs   int
	Warmup      bool
	Request     Request
	Progress    Progress
}

// Bench runs every case and measures it. A case that fails gets a row with
// its error and the benchmark goes on; the returned error names every
// failure.
func Bench(ctx context.Context, eng Engine, req BenchRequest, progress func(BenchProgress)) (BenchReport, error) {
	if eng == nil {
		return BenchReport{}, errors.New("bench: no engine")
	}
	if len(req.Cases) == 0 {
		return BenchReport{}, errors.New("bench: no cases to run")
	}
	if req.Runs == 0 {
		req.Runs = 3
	}
	if req.Runs < 0 || req.Runs > 1000 {
		return BenchReport{}, fmt.Errorf("bench: runs %d: expected 1 to 1000", req.Runs)
	}
	switch {
	case req.Warmup == 0:
		req.Warmup = 1
	case req.Warmup < 0:
		req.Warmup = 0
	}
	host := discover.LookupHost()
	rep := BenchReport{Created: time.Now(), Runs: req.Runs, Warmup: req.Warmup,
		Host: fmt.Sprintf("%s/%s, %s, %d cores, %d MB", host.OS, host.Arch, host.CPU, host.Cores, host.MemoryMB)}
	var errs []error
	for ci, c := range req.Cases {
		if c.Seed < 0 {
			c.Seed = RandomSeed()
		}
		row := BenchRow{Model: string(c.Model), ModelDir: c.ModelDir, Width: c.Width, Height: c.Height, Steps: c.Steps}
		var results []Result
		var err error
		for k := range req.Warmup + req.Runs {
			if err = ctx.Err(); err != nil {
				break
			}
			warm := k < req.Warmup
			run, runs := k+1, req.Warmup
			if !warm {
				run, runs = k-req.Warmup+1, req.Runs
			}
			report := func(p Progress) {
				if progress != nil {
					progress(BenchProgress{Case: ci, Cases: len(req.Cases), Run: run, Runs: runs, Warmup: warm, Request: c, Progress: p})
				}
			}
			report(Progress{Stage: "start"})
			var res Result
			res, err = eng.Generate(ctx, c, report)
			if err == nil && len(res.Images) == 0 {
				err = errors.New("the engine returned no image")
			}
			if err != nil {
				break
			}
			if !warm {
				results = append(results, res)
			}
		}
		summarize(&row, results)
		if err != nil {
			row.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", caseName(c), err))
		}
		rep.Rows = append(rep.Rows, row)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) > 0 {
		return rep, fmt.Errorf("bench: %w", errors.Join(errs...))
	}
	return rep, nil
}

func caseName(c Request) string {
	if c.Model == ModelSDXL {
		return fmt.Sprintf("sdxl %dx%d/%d", c.Width, c.Height, c.Steps)
	}
	return string(c.Model)
}

// summarize fills a row's statistics from its timed runs.
func summarize(row *BenchRow, results []Result) {
	row.Runs = len(results)
	if len(results) == 0 {
		return
	}
	if b := results[0].Images[0].Bounds(); b.Dx() > 0 {
		row.Width, row.Height = b.Dx(), b.Dy()
	}
	var order []string
	sums := map[string]float64{}
	for _, r := range results {
		t := r.Total.Seconds()
		row.TimesS = append(row.TimesS, t)
		row.PeakRSSMB = max(row.PeakRSSMB, r.PeakRSSMB)
		row.PeakGPUMB = max(row.PeakGPUMB, r.PeakGPUMB)
		for _, st := range r.Timings {
			if _, ok := sums[st.Stage]; !ok {
				order = append(order, st.Stage)
			}
			sums[st.Stage] += st.Duration.Seconds()
		}
	}
	row.MeanS, row.StdS = meanStd(row.TimesS)
	row.MinS, row.MaxS = slices.Min(row.TimesS), slices.Max(row.TimesS)
	for _, s := range order {
		row.Stages = append(row.Stages, StageStat{Stage: s, MeanS: sums[s] / float64(len(results))})
	}
	last := results[len(results)-1]
	row.Device, row.Provider, row.Precision = last.Device, last.Provider, last.Precision
}

// meanStd returns the mean and the sample standard deviation (0 for one value).
func meanStd(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

func (r BenchRow) stepsText() string {
	if r.Steps == 0 {
		return "-"
	}
	return strconv.Itoa(r.Steps)
}

func (r BenchRow) stagesText(sep, kv string) string {
	parts := make([]string, len(r.Stages))
	for i, s := range r.Stages {
		parts[i] = fmt.Sprintf("%s%s%.3f", s.Stage, kv, s.MeanS)
	}
	return strings.Join(parts, sep)
}

// Markdown formats the report as a Markdown document with one table row
// per case.
func (r BenchReport) Markdown() string {
	var b strings.Builder
	b.WriteString("# Diptych benchmark\n\n")
	fmt.Fprintf(&b, "- date: %s\n- host: %s\n- runs: %d timed after %d warm-up\n\n",
		r.Created.Format(time.RFC3339), r.Host, r.Runs, r.Warmup)
	b.WriteString("| model | size | steps | runs | mean s | ± s | min s | max s | stages (mean s) | peak RSS MB | peak GPU MB | device | EP | precision |\n")
	b.WriteString("|-------|-----:|------:|-----:|-------:|----:|------:|------:|-----------------|------------:|------------:|--------|----|-----------|\n")
	for _, row := range r.Rows {
		if row.Error != "" && row.Runs == 0 {
			fmt.Fprintf(&b, "| %s | %dx%d | %s | 0 | failed: %s | | | | | | | | | |\n", row.Model, row.Width, row.Height,
				row.stepsText(), strings.ReplaceAll(shorten(row.Error, 80), "|", "/"))
			continue
		}
		gpu := "-"
		if row.PeakGPUMB > 0 {
			gpu = strconv.FormatInt(row.PeakGPUMB, 10)
		}
		fmt.Fprintf(&b, "| %s | %dx%d | %s | %d | %.3f | %.3f | %.3f | %.3f | %s | %d | %s | %s | %s | %s |\n",
			row.Model, row.Width, row.Height, row.stepsText(), row.Runs, row.MeanS, row.StdS, row.MinS, row.MaxS,
			row.stagesText(", ", " "), row.PeakRSSMB, gpu, row.Device, row.Provider, row.Precision)
	}
	b.WriteString("\n![time against steps](chart.png)\n")
	return b.String()
}

// benchCSVHeader is the CSV report's first line.
var benchCSVHeader = []string{"model", "model_dir", "width", "height", "steps", "runs", "mean_s", "std_s", "min_s", "max_s",
	"peak_rss_mb", "peak_gpu_mb", "device", "provider", "precision", "stages", "error"}

// WriteCSV writes one line per case under benchCSVHeader; stages are
// "name=seconds" joined by ";".
func (r BenchReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(benchCSVHeader)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	for _, row := range r.Rows {
		cw.Write([]string{row.Model, row.ModelDir, strconv.Itoa(row.Width), strconv.Itoa(row.Height), strconv.Itoa(row.Steps),
			strconv.Itoa(row.Runs), f(row.MeanS), f(row.StdS), f(row.MinS), f(row.MaxS),
			strconv.FormatInt(row.PeakRSSMB, 10), strconv.FormatInt(row.PeakGPUMB, 10),
			row.Device, row.Provider, row.Precision, row.stagesText(";", "="), row.Error})
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the report as indented JSON.
func (r BenchReport) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// Chart sizes.
const (
	ChartWidth  = 800
	ChartHeight = 500
)

// Chart plots mean time against steps, one line per model and resolution;
// a model without steps (Janus) is a dashed horizontal line.
func (r BenchReport) Chart() *image.RGBA {
	type key struct {
		model string
		w, h  int
	}
	var keys []key
	byKey := map[key]*Series{}
	for _, row := range r.Rows {
		if row.Runs == 0 {
			continue
		}
		k := key{row.Model, row.Width, row.Height}
		s, ok := byKey[k]
		if !ok {
			label := fmt.Sprintf("%s %dx%d", row.Model, row.Width, row.Height)
			if row.Steps == 0 {
				label += " (no steps)"
			}
			s = &Series{Label: label, Flat: row.Steps == 0}
			byKey[k] = s
			keys = append(keys, k)
		}
		s.X = append(s.X, float64(row.Steps))
		s.Y = append(s.Y, row.MeanS)
	}
	series := make([]Series, 0, len(keys))
	for _, k := range keys {
		s := *byKey[k]
		type pt struct{ x, y float64 }
		pts := make([]pt, len(s.X))
		for i := range pts {
			pts[i] = pt{s.X[i], s.Y[i]}
		}
		slices.SortStableFunc(pts, func(a, b pt) int { return cmp.Compare(a.x, b.x) })
		s.X, s.Y = make([]float64, len(pts)), make([]float64, len(pts))
		for i, p := range pts {
			s.X[i], s.Y[i] = p.x, p.y
		}
		series = append(series, s)
	}
	title := "Mean wall time against steps"
	if r.Host != "" {
		title += " (" + shorten(r.Host, 70) + ")"
	}
	return RenderLineChart(series, ChartOptions{Title: title, XLabel: "steps", YLabel: "seconds",
		Width: ChartWidth, Height: ChartHeight})
}

// BenchFiles are the files WriteDir writes.
var BenchFiles = []string{"report.md", "report.csv", "report.json", "chart.png"}

// WriteDir writes report.md, report.csv, report.json and chart.png into
// dir (created if needed) and returns their paths.
func (r BenchReport) WriteDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: create %s: %w", dir, err)
	}
	write := func(name string, fill func(io.Writer) error) (string, error) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return "", fmt.Errorf("bench: %w", err)
		}
		if err := fill(f); err != nil {
			f.Close()
			return "", fmt.Errorf("bench: write %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return "", fmt.Errorf("bench: write %s: %w", path, err)
		}
		return path, nil
	}
	fills := []func(io.Writer) error{
		func(w io.Writer) error { _, err := io.WriteString(w, r.Markdown()); return err },
		r.WriteCSV,
		r.WriteJSON,
		func(w io.Writer) error { return png.Encode(w, r.Chart()) },
	}
	var paths []string
	for i, name := range BenchFiles {
		p, err := write(name, fills[i])
		if err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
