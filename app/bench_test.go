package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"diptych/engine/ort/orttest"
	"diptych/engine/sdxl"
)

// scriptedEngine returns the totals and stage times it is given, in order,
// one per call, with a 16×8 image.
type scriptedEngine struct {
	mu     sync.Mutex
	totals []time.Duration
	calls  []Request
	failAt int // call number (1-based) that fails; 0 = none
}

func (s *scriptedEngine) Generate(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, req)
	n := len(s.calls)
	if n == s.failAt {
		return Result{}, errors.New("unet: CUDA out of memory")
	}
	total := s.totals[(n-1)%len(s.totals)]
	return Result{Images: []image.Image{image.NewRGBA(image.Rect(0, 0, 16, 8))}, Seed: req.Seed, Total: total,
		Timings:   []StageTiming{{Stage: "text_encoders", Duration: total / 10}, {Stage: "denoise", Duration: total * 8 / 10}, {Stage: "vae_decoder", Duration: total / 10}},
		PeakRSSMB: int64(100 * n), PeakGPUMB: int64(1000 * n), Device: "cuda:0", Provider: "CUDAExecutionProvider", Precision: "fp16"}, nil
}

func TestBenchStatistics(t *testing.T) {
	s := time.Second
	eng := &scriptedEngine{totals: []time.Duration{9 * s, 1 * s, 2 * s, 3 * s}}
	rep, err := Bench(context.Background(), eng, BenchRequest{Cases: []Request{{Model: ModelSDXL, ModelDir: "m", Prompt: "p", Width: 16, Height: 8, Steps: 20}}, Runs: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(eng.calls) != 4 {
		t.Fatalf("%d calls, want 1 warm-up + 3 runs", len(eng.calls))
	}
	r := rep.Rows[0]
	// Runs of 1, 2 and 3 s (the 9 s warm-up is not counted): mean 2, sample
	// standard deviation 1.
	if r.Runs != 3 || r.MeanS != 2 || math.Abs(r.StdS-1) > 1e-12 || r.MinS != 1 || r.MaxS != 3 {
		t.Fatalf("row %+v", r)
	}
	wantStages := []StageStat{{"text_encoders", 0.2}, {"denoise", 1.6}, {"vae_decoder", 0.2}}
	for i, st := range r.Stages {
		if st.Stage != wantStages[i].Stage || math.Abs(st.MeanS-wantStages[i].MeanS) > 1e-9 {
			t.Fatalf("stages %+v, want %+v", r.Stages, wantStages)
		}
	}
	if r.PeakRSSMB != 400 || r.PeakGPUMB != 4000 || r.Device != "cuda:0" || r.Provider != "CUDAExecutionProvider" || r.Precision != "fp16" {
		t.Fatalf("row %+v", r)
	}
	if r.Steps != 20 || r.Width != 16 || r.Height != 8 {
		t.Fatalf("row size %dx%d/%d", r.Width, r.Height, r.Steps)
	}
}

func TestBenchFailureIsAReportedRow(t *testing.T) {
	eng := &scriptedEngine{totals: []time.Duration{time.Second}, failAt: 3}
	cases := BenchCases([]Model{ModelSDXL, ModelJanus}, Request{ModelDir: "s", Prompt: "p"}, Request{ModelDir: "j", Prompt: "p"},
		[]SweepPoint{{64, 64, 2}})
	rep, err := Bench(context.Background(), eng, BenchRequest{Cases: cases, Runs: 2, Warmup: -1}, nil)
	if err == nil || !strings.Contains(err.Error(), "janus: unet: CUDA out of memory") {
		t.Fatalf("error %v", err)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Runs != 2 || rep.Rows[0].Error != "" || rep.Rows[1].Runs != 0 || rep.Rows[1].Error == "" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	if !strings.Contains(rep.Markdown(), "| janus | 0x0 | - | 0 | failed: unet: CUDA out of memory |") {
		t.Fatalf("markdown:\n%s", rep.Markdown())
	}
}

func TestBenchCasesAndModels(t *testing.T) {
	cases := BenchCases([]Model{ModelSDXL, ModelJanus}, Request{ModelDir: "s", Width: 1, Steps: 9}, Request{ModelDir: "j", Images: 4},
		ClassicPairs())
	if len(cases) != 4 || cases[2].Width != 768 || cases[2].Steps != 100 || cases[3].Model != ModelJanus || cases[3].Images != 1 || cases[3].Steps != 0 {
		t.Fatalf("cases %+v", cases)
	}
	ms, err := ParseModels("SDXL, janus,sdxl")
	if err != nil || !reflect.DeepEqual(ms, []Model{ModelSDXL, ModelJanus}) {
		t.Fatalf("models %v %v", ms, err)
	}
	if _, err := ParseModels("sdxl,flux"); err == nil || !strings.Contains(err.Error(), `unknown model "flux"`) {
		t.Fatalf("bad model: %v", err)
	}
	if _, err := Bench(context.Background(), &scriptedEngine{}, BenchRequest{}, nil); err == nil || !strings.Contains(err.Error(), "no cases") {
		t.Fatalf("no cases: %v", err)
	}
	if _, err := Bench(context.Background(), &scriptedEngine{}, BenchRequest{Cases: cases, Runs: -2}, nil); err == nil || !strings.Contains(err.Error(), "runs -2") {
		t.Fatalf("bad runs: %v", err)
	}
}

func fixedReport() BenchReport {
	return BenchReport{Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Host: "linux/amd64, Test CPU, 2 cores, 4096 MB", Runs: 3, Warmup: 1,
		Rows: []BenchRow{
			{Model: "sdxl", ModelDir: "/m/sdxl", Width: 256, Height: 256, Steps: 20, Runs: 3, MeanS: 2, StdS: 0.5, MinS: 1.5, MaxS: 2.5,
				Stages: []StageStat{{"text_encoders", 0.1}, {"denoise", 1.7}, {"vae_decoder", 0.2}}, PeakRSSMB: 900, Device: "cpu", Provider: "CPUExecutionProvider", Precision: "fp32"},
			{Model: "sdxl", ModelDir: "/m/sdxl", Width: 512, Height: 512, Steps: 50, Runs: 3, MeanS: 10.25, StdS: 0, MinS: 10.25, MaxS: 10.25,
				Stages: []StageStat{{"denoise", 10}}, PeakRSSMB: 1500, PeakGPUMB: 8000, Device: "cuda:0", Provider: "CUDAExecutionProvider", Precision: "fp16"},
			{Model: "janus", ModelDir: "/m/janus", Width: 384, Height: 384, Runs: 3, MeanS: 6, MinS: 6, MaxS: 6,
				Stages: []StageStat{{"tokens", 5}}, PeakRSSMB: 3000, Device: "cpu", Provider: "CPUExecutionProvider", Precision: "fp32"},
		}}
}

func TestBenchReportFormats(t *testing.T) {
	rep := fixedReport()
	wantMD := `# Diptych benchmark

- date: 2026-03-01T12:00:00Z
- host: linux/amd64, Test CPU, 2 cores, 4096 MB
- runs: 3 timed after 1 warm-up

| model | size | steps | runs | mean s | ± s | min s | max s | stages (mean s) | peak RSS MB | peak GPU MB | device | EP | precision |
|-------|-----:|------:|-----:|-------:|----:|------:|------:|-----------------|------------:|------------:|--------|----|-----------|
| sdxl | 256x256 | 20 | 3 | 2.000 | 0.500 | 1.500 | 2.500 | text_encoders 0.100, denoise 1.700, vae_decoder 0.200 | 900 | - | cpu | CPUExecutionProvider | fp32 |
| sdxl | 512x512 | 50 | 3 | 10.250 | 0.000 | 10.250 | 10.250 | denoise 10.000 | 1500 | 8000 | cuda:0 | CUDAExecutionProvider | fp16 |
| janus | 384x384 | - | 3 | 6.000 | 0.000 | 6.000 | 6.000 | tokens 5.000 | 3000 | - | cpu | CPUExecutionProvider | fp32 |

![time against steps](chart.png)
`
	if got := rep.Markdown(); got != wantMD {
		t.Fatalf("markdown:\n%s\nwant:\n%s", got, wantMD)
	}
	var csvOut strings.Builder
	if err := rep.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	wantCSV := `model,model_dir,width,height,steps,runs,mean_s,std_s,min_s,max_s,peak_rss_mb,peak_gpu_mb,device,provider,precision,stages,error
sdxl,/m/sdxl,256,256,20,3,2.0000,0.5000,1.5000,2.5000,900,0,cpu,CPUExecutionProvider,fp32,text_encoders=0.100;denoise=1.700;vae_decoder=0.200,
sdxl,/m/sdxl,512,512,50,3,10.2500,0.0000,10.2500,10.2500,1500,8000,cuda:0,CUDAExecutionProvider,fp16,denoise=10.000,
janus,/m/janus,384,384,0,3,6.0000,0.0000,6.0000,6.0000,3000,0,cpu,CPUExecutionProvider,fp32,tokens=5.000,
`
	if csvOut.String() != wantCSV {
		t.Fatalf("csv:\n%s\nwant:\n%s", csvOut.String(), wantCSV)
	}
	var js strings.Builder
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"model", "width", "height", "steps", "runs", "mean_s", "peak_rss_mb", "device"} {
		if _, ok := back.Rows[1][key]; !ok {
			t.Fatalf("JSON row lacks %q: %v", key, back.Rows[1])
		}
	}
	if back.Rows[1]["mean_s"] != 10.25 || back.Rows[1]["model"] != "sdxl" || back.Rows[2]["width"] != 384.0 {
		t.Fatalf("JSON rows %v", back.Rows)
	}
}

func TestBenchWriteDirOnTheFixtures(t *testing.T) {
	eng := localEngine(t)
	cases := BenchCases([]Model{ModelSDXL, ModelJanus}, Request{ModelDir: sdxlFixture, Prompt: "a fox", Seed: 1},
		Request{ModelDir: janusFixture, Prompt: "a fox", Seed: 1, CFG: 5, Temperature: 1}, []SweepPoint{{64, 64, 1}, {64, 64, 3}, {96, 64, 2}})
	var warmups, runs int
	rep, err := Bench(context.Background(), eng, BenchRequest{Cases: cases, Runs: 2}, func(p BenchProgress) {
		if p.Progress.Stage == "start" {
			if p.Warmup {
				warmups++
			} else {
				runs++
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if warmups != 4 || runs != 8 {
		t.Fatalf("%d warm-ups and %d runs, want 4 and 8", warmups, runs)
	}
	dir := filepath.Join(t.TempDir(), "report")
	paths, err := rep.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("paths %v", paths)
	}
	f, err := os.Open(filepath.Join(dir, "report.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || recs[0][0] != "model" || recs[4][0] != "janus" || recs[2][4] != "3" || recs[1][5] != "2" || recs[1][12] != "cpu" {
		t.Fatalf("csv %v", recs)
	}
	for _, r := range rep.Rows {
		if r.MeanS <= 0 || r.PeakRSSMB <= 0 || len(r.Stages) == 0 || len(r.TimesS) != 2 {
			t.Fatalf("row %+v", r)
		}
	}
	cf, err := os.Open(filepath.Join(dir, "chart.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	cfg, err := png.DecodeConfig(cf)
	if err != nil || cfg.Width != ChartWidth || cfg.Height != ChartHeight {
		t.Fatalf("chart %dx%d %v", cfg.Width, cfg.Height, err)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "| sdxl | 96x64 | 2 | 2 |") || !strings.Contains(string(md), "| janus | 64x64 | - | 2 |") {
		t.Fatalf("report.md:\n%s", md)
	}
}

func TestBenchChartPlotsEachResolution(t *testing.T) {
	rep := fixedReport()
	rep.Rows = append(rep.Rows, BenchRow{Model: "sdxl", Width: 256, Height: 256, Steps: 50, Runs: 3, MeanS: 5})
	img := rep.Chart()
	if b := img.Bounds(); b.Dx() != ChartWidth || b.Dy() != ChartHeight {
		t.Fatalf("chart %v", b)
	}
	// Three series: sdxl 256 (two points, a line), sdxl 512 (one marker),
	// janus (dashed). Each colour appears.
	for i := range 3 {
		c := chartPalette[i]
		found := false
		for p := 0; p < len(img.Pix) && !found; p += 4 {
			found = img.Pix[p] == c.R && img.Pix[p+1] == c.G && img.Pix[p+2] == c.B
		}
		if !found {
			t.Fatalf("series %d (colour %v) is not drawn", i, c)
		}
	}
	if c := chartPalette[3]; anyPixel(img, img.Bounds(), func(p color.RGBA) bool { return p == c }) {
		t.Fatal("a fourth series was drawn")
	}
}

// The engines' own overhead: total SDXL pipeline time against the time
// spent inside ONNX Runtime runs (sdxl.Result.ModelTime).

func loadOverheadPipeline(tb testing.TB) *sdxl.Pipeline {
	tb.Helper()
	p, err := sdxl.Load(sdxlFixture, sdxl.Options{Runtime: orttest.Runtime(tb), Threads: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkSDXLOverhead reports the pipeline's own share of a generation
// (tokenizing, scheduler, tensor copies, image conversion): total time
// against the time inside ONNX Runtime runs. Target: under 3% at sizes where
// ONNX Runtime does real work (512×512).
func BenchmarkSDXLOverhead(b *testing.B) {
	p := loadOverheadPipeline(b)
	for _, size := range []int{64, 256, 512} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			req := sdxl.Request{Prompt: "a red fox in the snow", Width: size, Height: size, Steps: 8, Seed: 1}
			if _, err := p.Generate(context.Background(), req, nil); err != nil {
				b.Fatal(err)
			}
			var total, model time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := p.Generate(context.Background(), req, nil)
				if err != nil {
					b.Fatal(err)
				}
				total += time.Since(t0)
				model += res.ModelTime
			}
			b.ReportMetric(100*float64(total-model)/float64(total), "overhead-%")
			b.ReportMetric(float64(model.Milliseconds())/float64(b.N), "ort-ms/op")
		})
	}
}
