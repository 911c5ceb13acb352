package gallery

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportOtherTools imports the Pillow-written samples and checks the
// settings against the values make_samples.py put in them.
func TestImportOtherTools(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	rep, err := s.Import(ctx, filepath.Join("testdata", "import"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 9 || rep.Imported != 9 || len(rep.Failed) != 0 {
		t.Fatalf("report %+v", rep)
	}
	byFile := map[string]Generation{}
	for _, it := range rep.Items {
		g, err := s.Get(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		byFile[filepath.Base(it.Path)] = g
	}
	type want struct {
		source, prompt, negative, model, scheduler string
		seed                                       uint64
		steps, w, h                                int
		cfg                                        float64
	}
	cases := map[string]want{
		"a1111.png": {SourceA1111, "masterpiece, a cozy cabin in the woods, (snow:1.2)", "lowres, blurry",
			"sd_xl_base_1.0", "dpmpp_2m_karras", 1234567890, 30, 1024, 1024, 7},
		"a1111_old_utf8.png": {SourceA1111, "café ☕ au lait,\nlatte art", "text,\nwatermark",
			"juggernautXL_v9", "euler_a", 42, 20, 832, 1216, 5.5},
		"a1111_ztxt.png":     {SourceA1111, "a lighthouse at dusk", "", "dreamshaper_8", "dpmpp_2m_karras", 7, 25, 512, 768, 6},
		"a1111_itxt_zip.png": {SourceA1111, "日本の庭園, 桜", "", "animagine", "unipc", 99, 12, 640, 640, 3},
		"comfyui.png": {SourceComfyUI, "beautiful scenery nature glass bottle landscape, purple galaxy bottle,",
			"text, watermark", "sd_xl_base_1.0.safetensors", "euler_a", 156680208700286, 20, 1024, 1024, 8},
		"invokeai.png": {SourceInvoke, "a portrait of an astronaut, studio lighting", "deformed",
			"Juggernaut XL v9", "dpmpp_2m_karras", 3141592653, 28, 896, 1152, 6.5},
		"fooocus.png": {SourceFooocus, "a bowl of ramen", "", "juggernautXL_v8Rundiffusion",
			"dpmpp_2m_sde_karras", 987654321, 30, 1152, 896, 4},
		"fooocus_a1111.png": {SourceFooocus, "a bowl of ramen", "unrealistic", "juggernautXL_v8Rundiffusion",
			"dpmpp_2m_sde_karras", 987654321, 30, 1152, 896, 4},
		// No settings, but the image is kept (its real size comes from the file).
		"unknown.png": {SourceUnknown, "", "", "", "", 0, 0, 24, 16, 0},
	}
	for file, w := range cases {
		g, ok := byFile[file]
		if !ok {
			t.Errorf("%s not imported", file)
			continue
		}
		got := want{g.Source, g.Prompt, g.NegativePrompt, g.Model, g.Scheduler, g.Seed, g.Steps, g.Width, g.Height, g.Guidance}
		if got != w {
			t.Errorf("%s:\n got %+v\nwant %+v", file, got, w)
		}
		// The file was copied byte for byte: its own metadata stays.
		orig, _ := os.ReadFile(filepath.Join("testdata", "import", file))
		copied, err := os.ReadFile(s.Path(g.Image.Path))
		if err != nil || !bytes.Equal(orig, copied) {
			t.Errorf("%s: library copy differs from the original (%v)", file, err)
		}
	}
	// Imported prompts are searchable.
	if p, err := s.List(ctx, Query{Text: "galaxy bottle"}); err != nil || len(p.Items) != 1 || p.Items[0].Source != SourceComfyUI {
		t.Errorf("search imported ComfyUI prompt: %v %v", p.Items, err)
	}
	// Importing again adds nothing.
	rep, err = s.Import(ctx, filepath.Join("testdata", "import"))
	if err != nil || rep.Imported != 0 || rep.Skipped != 9 {
		t.Errorf("second import: %+v %v", rep, err)
	}
}

// TestImportDiptychRoundTrip saves in one library and imports the file into
// another: every setting comes back from the diptych chunk.
func TestImportDiptychRoundTrip(t *testing.T) {
	ctx := context.Background()
	a, _ := openTest(t)
	grp, _ := a.NewGroup(ctx, GroupSweep, "", nil)
	g := fakeGeneration("a koi pond, morning mist", 77)
	g.GroupID, g.GroupIndex = grp.ID, 3
	g.Params = map[string]any{"refiner": "sdxl-refiner"}
	saved, err := a.Save(ctx, SaveRequest{Generation: g, Image: testImage(64, 48, 77)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, _ := os.ReadFile(a.Path(saved.Image.Path))
	os.WriteFile(filepath.Join(dir, "koi.png"), data, 0o644)

	b, _ := openTest(t)
	rep, err := b.Import(ctx, dir)
	if err != nil || rep.Imported != 1 || rep.Formats[SourceDiptych] != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	got, err := b.Get(ctx, rep.Items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Prompt != g.Prompt || got.Seed != 77 || got.Scheduler != g.Scheduler || got.Precision != "fp16" ||
		got.ExecutionProvider != "CUDA" || got.Device != g.Device || got.PeakMemoryBytes != g.PeakMemoryBytes ||
		len(got.Timings) != 3 || got.GroupIndex != 3 || got.Params["refiner"] != "sdxl-refiner" ||
		!got.CreatedAt.Equal(saved.CreatedAt) || got.Source != SourceDiptych {
		t.Errorf("round trip lost settings:\n got %+v\nsaved %+v", got, saved)
	}
}

func TestImportBadFiles(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notreally.png"), []byte("this is text"), 0o644)
	good, _ := os.ReadFile(filepath.Join("testdata", "import", "a1111.png"))
	os.WriteFile(filepath.Join(dir, "truncated.png"), good[:len(good)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "readme.txt"), []byte("ignored"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "ok.PNG"), good, 0o644)
	rep, err := s.Import(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 3 || rep.Imported != 1 || len(rep.Failed) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, f := range rep.Failed {
		if !strings.Contains(f.Error, f.Path) && !strings.Contains(f.Error, "PNG") {
			t.Errorf("failure does not say what failed: %+v", f)
		}
	}
	if _, err := s.Import(ctx, filepath.Join(dir, "missing")); err == nil {
		t.Error("import of a missing folder succeeded")
	}
	// Nothing half-imported: only the good file has a row and a file.
	rep2, err := s.Fsck(ctx, false)
	if err != nil || !rep2.Clean() || rep2.Rows != 1 {
		t.Errorf("fsck after bad import: %+v %v", rep2, err)
	}
}

func TestParseMetadataUnknownAndJunk(t *testing.T) {
	for _, chunks := range [][]TextChunk{
		nil,
		{{Keyword: "parameters", Text: ""}},
		{{Keyword: "prompt", Text: "{not json"}},
		{{Keyword: "prompt", Text: `{"1": {"inputs": {}}}`}}, // no class_type
		{{Keyword: "invokeai_metadata", Text: "[1,2"}},
		{{Keyword: "diptych", Text: `{"schema": 1, "app": "other"}`}},
	} {
		g, src := ParseMetadata(chunks)
		if src != SourceUnknown || g.Prompt != "" {
			t.Errorf("%v: source %q prompt %q, want unknown", chunks, src, g.Prompt)
		}
	}
	// ComfyUI graph whose prompt comes through a link chain and a cycle.
	js := `{"1": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "positive": ["3", 0], "negative": ["4", 0], "steps": 5}},
		"2": {"class_type": "PrimitiveNode", "inputs": {"value": 123}},
		"3": {"class_type": "CLIPTextEncode", "inputs": {"text": ["5", 0]}},
		"5": {"class_type": "StringPrimitive", "inputs": {"string": "linked prompt"}},
		"4": {"class_type": "Loop", "inputs": {"text": ["4", 0]}}}`
	g, src := ParseMetadata([]TextChunk{{Keyword: "prompt", Text: js}})
	if src != SourceComfyUI || g.Prompt != "linked prompt" || g.Seed != 123 || g.Steps != 5 || g.NegativePrompt != "" {
		t.Errorf("linked ComfyUI graph: %q %+v", src, g)
	}
}
