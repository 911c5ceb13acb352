package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSaveGetRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	want := fakeGeneration("a red fox in the snow", 42)
	want.Params = map[string]any{"denoising_strength": 0.5}
	got, err := s.Save(ctx, SaveRequest{Generation: want, Image: testImage(64, 48, 42)})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID == 0 || got.PromptID == 0 || got.Image == nil {
		t.Fatalf("Save returned %+v, want ids and an image", got)
	}
	back, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Fields a caller set must come back unchanged.
	for name, pair := range map[string][2]any{
		"prompt":    {back.Prompt, want.Prompt},
		"negative":  {back.NegativePrompt, want.NegativePrompt},
		"seed":      {back.Seed, want.Seed},
		"steps":     {back.Steps, want.Steps},
		"scheduler": {back.Scheduler, want.Scheduler},
		"size":      {[2]int{back.Width, back.Height}, [2]int{64, 48}},
		"guidance":  {back.Guidance, want.Guidance},
		"device":    {back.Device, want.Device},
		"provider":  {back.ExecutionProvider, want.ExecutionProvider},
		"precision": {back.Precision, want.Precision},
		"timings":   {back.Timings, want.Timings},
		"peak":      {back.PeakMemoryBytes, want.PeakMemoryBytes},
		"status":    {back.Status, StatusOK},
		"source":    {back.Source, SourceDiptych},
		"params":    {back.Params, want.Params},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			t.Errorf("%s: got %v, want %v", name, pair[0], pair[1])
		}
	}
	// The file is where the row says, hashes to the recorded SHA-256, lives
	// in a date folder and carries our metadata.
	data, err := os.ReadFile(s.Path(back.Image.Path))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != back.Image.SHA256 || int64(len(data)) != back.Image.Bytes {
		t.Errorf("file %s: sha/size differ from the row", back.Image.Path)
	}
	day := back.CreatedAt.Local().Format("2006-01-02")
	if !strings.HasPrefix(back.Image.Path, "images/"+day+"/") {
		t.Errorf("image path %q is not in date folder %s", back.Image.Path, day)
	}
	chunks, err := ReadPNGText(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	m := textMap(chunks)
	wantParams := "a red fox in the snow\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 42, Size: 64x48, Model hash: 31e35c80fc, Model: sdxl-base-1.0, Denoising strength: 0.5, RNG: CPU, ONNX EP: CUDA, Precision: fp16, Version: diptych/0.1.0"
	if m["parameters"] != wantParams {
		t.Errorf("parameters chunk:\n got %q\nwant %q", m["parameters"], wantParams)
	}
	if !strings.Contains(m[MetaKeyword], `"schema":1`) || !strings.Contains(m[MetaKeyword], `"execution_provider":"CUDA"`) {
		t.Errorf("diptych chunk lacks schema/EP: %s", m[MetaKeyword])
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Errorf("stored image width %d", img.Bounds().Dx())
	}
	// Thumbnail: a JPEG no larger than ThumbSize (small images are not upscaled).
	th, err := os.ReadFile(s.Path(back.Image.ThumbPath))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	if err != nil || cfg.Width != 64 || cfg.Height != 48 {
		t.Errorf("thumbnail %v %dx%d, want 64x48 JPEG", err, cfg.Width, cfg.Height)
	}
}

func TestThumbnailLongSide(t *testing.T) {
	s, _ := openTest(t)
	g := fakeGeneration("wide", 1)
	g.Width, g.Height = 1024, 512
	out, err := s.Save(context.Background(), SaveRequest{Generation: g, Image: testImage(1024, 512, 1)})
	if err != nil {
		t.Fatal(err)
	}
	th, _ := os.ReadFile(s.Path(out.Image.ThumbPath))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	if err != nil || cfg.Width != ThumbSize || cfg.Height != ThumbSize/2 {
		t.Errorf("thumbnail %v %dx%d, want %dx%d", err, cfg.Width, cfg.Height, ThumbSize, ThumbSize/2)
	}
}

func TestFailedRunHasNoImage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	g := fakeGeneration("out of memory please", 3)
	g.Status, g.Error = StatusFailed, "CUDA out of memory allocating 2 GiB"
	out, err := s.Save(ctx, SaveRequest{Generation: g})
	if err != nil {
		t.Fatal(err)
	}
	back, err := s.Get(ctx, out.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Image != nil || back.Status != StatusFailed || back.Error != g.Error {
		t.Errorf("failed run came back as %+v", back)
	}
	if _, err := s.Save(ctx, SaveRequest{Generation: Generation{Prompt: "x", Status: "exploded"}}); err == nil || !strings.Contains(err.Error(), `"exploded"`) {
		t.Errorf("bad status: err = %v", err)
	}
}

func TestListKeysetFiltersAndSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	var all []Generation
	for i := 0; i < 25; i++ {
		g := fakeGeneration([]string{"a castle on a hill", "portrait of an astronaut", "bowl of ramen"}[i%3], uint64(i%5))
		if i%2 == 1 {
			g.Model, g.Scheduler = "janus-pro-7b", "janus"
			g.Width, g.Height = 32, 32
		}
		out, err := s.Save(ctx, SaveRequest{Generation: g, Image: testImage(g.Width, g.Height, uint64(i))})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out)
	}
	// Paging: newest first, no duplicates, nothing missed.
	var seen []int64
	q := Query{Limit: 7}
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.Items {
			seen = append(seen, g.ID)
		}
		if p.Next == "" {
			if pages != 3 {
				t.Errorf("got %d pages of 7 for 25 rows, want 4", pages+1)
			}
			break
		}
		q.After = p.Next
	}
	if len(seen) != 25 {
		t.Fatalf("paged %d rows, want 25", len(seen))
	}
	for i, id := range seen {
		if id != all[24-i].ID {
			t.Fatalf("row %d: id %d, want %d (newest first)", i, id, all[24-i].ID)
		}
	}
	count := func(q Query) int {
		t.Helper()
		q.Limit = MaxPageSize
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Items)
	}
	seed := uint64(2)
	cases := []struct {
		name string
		q    Query
		want int
	}{
		{"model", Query{Model: "janus-pro-7b"}, 12},
		{"scheduler", Query{Scheduler: "dpmpp_2m_karras"}, 13},
		{"size", Query{Width: 32, Height: 32}, 12},
		{"seed", Query{Seed: &seed}, 5},
		{"prompt", Query{PromptID: all[0].PromptID}, 9},
		{"search word", Query{Text: "castle"}, 9},
		{"search prefix", Query{Text: "astro"}, 8},
		{"search two words", Query{Text: "bowl ramen"}, 8},
		{"search negative", Query{Text: "blurry"}, 25},
		{"search nothing", Query{Text: "dragon"}, 0},
		{"search hostile", Query{Text: `"castle (hill -*`}, 9},
		{"search operators are words", Query{Text: `castle OR ramen`}, 0},
		{"search only punctuation", Query{Text: `"" * ( ) :`}, 0},
		{"date range", Query{Since: all[5].CreatedAt, Until: all[10].CreatedAt}, 5},
		{"model+search", Query{Model: "janus-pro-7b", Text: "ramen"}, 4},
	}
	for _, c := range cases {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d rows, want %d", c.name, got, c.want)
		}
	}
	if _, err := s.List(ctx, Query{After: "garbage"}); err == nil || !strings.Contains(err.Error(), "garbage") {
		t.Errorf("bad cursor: err = %v", err)
	}
}

func TestFavouritesBoardsCaptionsTrash(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := saveTest(t, s, "lighthouse at dusk", 1)
	b := saveTest(t, s, "forest path", 2)
	if err := s.SetFavourite(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.AddToBoard(ctx, b.ID, "Moodboard"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddCaption(ctx, b.ID, Caption{Kind: "describe", Answer: "A narrow trail between tall pine trees.", Model: "janus-pro-7b"}); err != nil {
		t.Fatal(err)
	}
	check := func(name string, q Query, want ...int64) {
		t.Helper()
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, g := range p.Items {
			got = append(got, g.ID)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: ids %v, want %v", name, got, want)
		}
	}
	check("favourite", Query{Favourite: true}, a.ID)
	check("board", Query{Board: "moodboard"}, b.ID)
	check("caption search", Query{Text: "pine"}, b.ID)
	check("tag search", Query{Text: "moodboard"}, b.ID)
	g, err := s.Get(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Captions) != 1 || g.Captions[0].Model != "janus-pro-7b" || !reflect.DeepEqual(g.Boards, []string{"Moodboard"}) {
		t.Errorf("Get: captions %v boards %v", g.Captions, g.Boards)
	}
	if err := s.SetFavourite(ctx, 999, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("favourite of missing id: %v", err)
	}

	// Trash: hidden from the library, listed in the trash, restorable.
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	check("live after delete", Query{}, b.ID)
	check("trash", Query{Trash: true}, a.ID)
	if err := s.Restore(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	check("live after restore", Query{}, b.ID, a.ID)
	if err := s.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.EmptyTrash(ctx)
	if err != nil || n != 1 {
		t.Fatalf("EmptyTrash = %d, %v", n, err)
	}
	if _, err := os.Stat(s.Path(a.Image.Path)); !os.IsNotExist(err) {
		t.Errorf("image of emptied item still exists: %v", err)
	}
	if _, err := s.Get(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after EmptyTrash: %v", err)
	}
	check("search after empty", Query{Text: "lighthouse"})
}

func TestGroupsAndPromptHistory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	grp, err := s.NewGroup(ctx, GroupCompare, "fox pair", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, engine := range []string{"sdxl", "janus"} {
		g := fakeGeneration("a fox", 7)
		g.Engine, g.GroupID, g.GroupIndex = engine, grp.ID, i
		out, err := s.Save(ctx, SaveRequest{Generation: g, Image: testImage(64, 48, uint64(i))})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(s.Path(out.Image.Path))
		chunks, _ := ReadPNGText(bytes.NewReader(data))
		if !strings.Contains(textMap(chunks)[MetaKeyword], `"group_kind":"compare"`) {
			t.Errorf("diptych chunk lacks the pair: %s", textMap(chunks)[MetaKeyword])
		}
	}
	p, err := s.List(ctx, Query{GroupID: grp.ID})
	if err != nil || len(p.Items) != 2 {
		t.Fatalf("group list: %d items, %v", len(p.Items), err)
	}
	if _, err := s.NewGroup(ctx, "pile", "", nil); err == nil {
		t.Error("NewGroup accepted kind \"pile\"")
	}
	g := fakeGeneration("x", 1)
	g.GroupID = 12345
	if _, err := s.Save(ctx, SaveRequest{Generation: g}); !errors.Is(err, ErrNotFound) {
		t.Errorf("save into missing group: %v", err)
	}
	prompts, err := s.RecentPrompts(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 1 || prompts[0].Text != "a fox" || prompts[0].UseCount != 2 {
		t.Errorf("prompts = %+v", prompts)
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.now = time.Now
	// A second Store on the same library plays the part of another process.
	s2, err := Open(ctx, s.Root())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			st := s
			if w%2 == 1 {
				st = s2
			}
			for i := 0; i < 10; i++ {
				g := fakeGeneration("queue job", uint64(w*100+i))
				out, err := st.Save(ctx, SaveRequest{Generation: g, Image: testImage(16, 16, uint64(w*100+i))})
				if err == nil {
					err = st.SetFavourite(ctx, out.ID, true)
				}
				if err == nil {
					_, err = st.List(ctx, Query{Text: "queue"})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	p, err := s.List(ctx, Query{Limit: 100, Favourite: true})
	if err != nil || len(p.Items) != 60 {
		t.Errorf("after concurrent saves: %d favourites, %v", len(p.Items), err)
	}
}

func TestOpenCreatesWALAndForeignKeys(t *testing.T) {
	s, _ := openTest(t)
	var mode string
	var fk, ver int
	s.w.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	s.w.QueryRow(`PRAGMA foreign_keys`).Scan(&fk)
	s.w.QueryRow(`PRAGMA user_version`).Scan(&ver)
	if mode != "wal" || fk != 1 || ver != SchemaVersion || ver != len(migrations) {
		t.Errorf("journal %q, foreign_keys %d, user_version %d (want wal, 1, %d)", mode, fk, ver, len(migrations))
	}
	if _, err := os.Stat(filepath.Join(s.Root(), DBName)); err != nil {
		t.Error(err)
	}
}
