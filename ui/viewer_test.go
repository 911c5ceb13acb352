package ui

import (
	"context"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"diptych/gallery"
)

// seedImages puts n generations with real PNG files (w×h) into the fake
// library, oldest first.
func seedImages(t testing.TB, f *fakeBackend, n, w, h int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	t0 := time.Now().Add(-time.Hour)
	for i := 0; i < n; i++ {
		f.nextID++
		id := f.nextID
		rel := fmt.Sprintf("images/%d.png", id)
		p := filepath.Join(f.dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		fh, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(fh, flat(w, h, color.RGBA{uint8(id * 20), 90, 160, 255}))
		fh.Close()
		engine, model := EngineSDXL, "sdxl-base"
		if id%3 == 0 {
			engine, model = EngineJanus, "janus-pro-1b"
		}
		f.gens = append(f.gens, gallery.Generation{ID: id, CreatedAt: t0.Add(time.Duration(i) * time.Second), Engine: engine,
			Model: model, Prompt: fmt.Sprintf("storyboard shot %d, a harbour at dusk", id), Seed: uint64(5000 + id),
			Width: w, Height: h, Steps: 30, Scheduler: "euler_a", Guidance: 5, Status: gallery.StatusOK,
			Params: map[string]any{"model_dir": "/models/" + model},
			Image:  &gallery.Image{ID: id, Path: rel, ThumbPath: rel, Width: w, Height: h}})
	}
}

func TestBoardsInHistory(t *testing.T) {
	f := newFake(t)
	seedImages(t, f, 6, 32, 32)
	h := newHarness(t, f)
	hv := h.u.History
	h.u.Tabs.SelectIndex(2)
	h.waitFor(t, "six rows", func() bool { return len(hv.Items()) == 6 })

	// Bad names are refused with the reason, before anything is stored.
	for _, c := range []struct{ name, reason string }{
		{"  ", "empty"}, {strings.Repeat("b", gallery.MaxBoardName+1), "too long"},
	} {
		if err := h.u.checkBoardName(c.name, ""); err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("board name %q: %v, want %q", c.name, err, c.reason)
		}
	}
	h.u.CreateBoard("Storyboard", nil)
	h.waitFor(t, "board listed", func() bool { return len(hv.Boards()) == 1 })
	if !slices.Contains(hv.BoardF.Options, "Storyboard") {
		t.Fatalf("Board filter options %v", hv.BoardF.Options)
	}
	if err := h.u.checkBoardName("storyboard", ""); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("duplicate (other case): %v", err)
	}
	h.u.NoDialogsErr(t, func() { h.u.CreateBoard("STORYBOARD", nil) }, "exists already")

	// Multi-select three images and add them to the board.
	hv.SelectMode.SetChecked(true)
	for _, i := range []int{0, 2, 4} {
		hv.Grid.Select(i)
	}
	want := []int64{6, 4, 2}
	if got := hv.SelectedIDs(); !slices.Equal(got, want) {
		t.Fatalf("selected %v, want %v", got, want)
	}
	if !strings.Contains(hv.SelCount.Text, "3 selected") {
		t.Errorf("selection bar says %q", hv.SelCount.Text)
	}
	hv.Grid.Select(2) // toggles 4 off again
	hv.Grid.Select(2) // and on
	hv.AddSelectedTo("Storyboard")
	h.waitFor(t, "count 3", func() bool { return len(hv.Boards()) == 1 && hv.Boards()[0].Count == 3 })

	// The Board filter shows exactly those.
	hv.SetBoardFilter("Storyboard")
	h.waitFor(t, "filtered", func() bool { return len(hv.Items()) == 3 })
	var ids []int64
	for _, g := range hv.Items() {
		ids = append(ids, g.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("board filter rows %v, want %v", ids, want)
	}
	// Remove one from the board: the filtered grid follows.
	hv.ClearSelection()
	hv.Toggle(4)
	hv.RemoveSelectedFrom("Storyboard")
	h.waitFor(t, "two left", func() bool { return len(hv.Items()) == 2 })

	// Rename: the filter follows the new name.
	h.u.RenameBoard("Storyboard", "Shot list")
	h.waitFor(t, "renamed", func() bool { return hv.BoardF.Selected == "Shot list" && len(hv.Items()) == 2 })
	// Delete: the filter falls back to All, the images stay.
	h.u.DeleteBoard("Shot list")
	h.waitFor(t, "deleted", func() bool { return hv.BoardF.Selected == allFilter && len(hv.Items()) == 6 && len(hv.Boards()) == 0 })
}

// NoDialogsErr runs fn and waits for an error containing want.
func (u *UI) NoDialogsErr(t *testing.T, fn func(), want string) {
	t.Helper()
	u.LastError = ""
	fn()
	if !strings.Contains(u.LastError, want) {
		t.Errorf("error %q, want one containing %q", u.LastError, want)
	}
}

func TestViewerZoomPanStepAndActions(t *testing.T) {
	f := newFake(t)
	seedImages(t, f, 5, 256, 128)
	h := newHarness(t, f)
	hv, vw := h.u.History, h.u.Viewer
	h.u.Tabs.SelectIndex(2)
	h.waitFor(t, "rows", func() bool { return len(hv.Items()) == 5 })
	h.w.Resize(fyne.NewSize(1280, 800))

	hv.OpenAt(1)
	h.waitFor(t, "image 2 in the viewer", func() bool { return vw.Visible() && vw.Image.Image() != nil && vw.Current.ID == 4 })
	if !strings.HasPrefix(vw.Title.Text, "2 / 5") {
		t.Errorf("title %q", vw.Title.Text)
	}
	// Fit: the whole image inside the area, aspect kept.
	z := vw.Image
	if z.Size().Width < 400 {
		t.Fatalf("viewer area is only %v", z.Size())
	}
	pos, size := z.ImageRect()
	if size.Width > z.Size().Width+0.5 || size.Height > z.Size().Height+0.5 || pos.X < -0.5 || pos.Y < -0.5 {
		t.Errorf("fit: image at %v size %v in area %v", pos, size, z.Size())
	}
	if r := size.Width / size.Height; r < 1.99 || r > 2.01 {
		t.Errorf("fit changed the aspect: %v", size)
	}
	// 100 %: one image pixel per unit.
	test.Tap(vw.Actual)
	if _, s := z.ImageRect(); s.Width != 256 || s.Height != 128 {
		t.Errorf("100 %%: %v", s)
	}
	if vw.ZoomLabel.Text != "100 %" {
		t.Errorf("zoom label %q", vw.ZoomLabel.Text)
	}
	// Scroll zooms in around the pointer: the point under it stays (once
	// the image is larger than the area; a smaller one stays centred).
	z.SetScale(8)
	centre := fyne.NewPos(z.Size().Width/2+40, z.Size().Height/2+20)
	p0, _ := z.ImageRect()
	z.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: centre}, Scrolled: fyne.Delta{DY: 10}})
	p1, s1 := z.ImageRect()
	if z.Scale <= 8 {
		t.Fatalf("scroll up did not zoom in: %v", z.Scale)
	}
	ix0 := (centre.X - p0.X) / 8
	ix1 := (centre.X - p1.X) / z.Scale
	if d := ix0 - ix1; d > 0.5 || d < -0.5 {
		t.Errorf("the image point under the pointer moved: %v -> %v", ix0, ix1)
	}
	// Zoom far in, then drag pans (within limits).
	z.SetScale(8)
	before, _ := z.ImageRect()
	z.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: 100, DY: -50}})
	after, _ := z.ImageRect()
	if after.X-before.X != 100 || after.Y-before.Y != -50 {
		t.Errorf("drag moved the image by %v,%v", after.X-before.X, after.Y-before.Y)
	}
	_ = s1
	z.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: 1e6}})
	if p, s := z.ImageRect(); p.X > 0.5 || p.X+s.Width < z.Size().Width-0.5 {
		t.Errorf("panned past the edge: x %v width %v area %v", p.X, s.Width, z.Size().Width)
	}
	test.Tap(vw.Fit)
	if z.Scale != 0 || !strings.HasPrefix(vw.ZoomLabel.Text, "Fit") {
		t.Errorf("fit: scale %v label %q", z.Scale, vw.ZoomLabel.Text)
	}

	// Arrow keys step through the history.
	h.u.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	h.waitFor(t, "image 3", func() bool { return vw.Current.ID == 3 && strings.HasPrefix(vw.Title.Text, "3 / 5") })
	h.u.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	h.u.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft})
	h.waitFor(t, "image 1", func() bool { return vw.Current.ID == 5 })
	if !vw.Prev.Disabled() {
		t.Error("Previous enabled on the first image")
	}
	h.u.TypedKey(&fyne.KeyEvent{Name: fyne.KeyLeft}) // stays
	if vw.Index != 0 {
		t.Errorf("stepped before the first: %d", vw.Index)
	}

	// Copy, show in folder, save as.
	test.Tap(vw.CopyImage)
	h.waitFor(t, "copied", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.copied) == 1 })
	if !strings.HasSuffix(f.copied[0], "images/5.png") {
		t.Errorf("copied %v", f.copied)
	}
	test.Tap(vw.ShowInFolder)
	h.waitFor(t, "shown", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.shown) == 1 })
	dest := filepath.Join(t.TempDir(), "copy.png")
	wc, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	vw.SaveTo(f.Path("images/5.png"), wc)
	h.waitFor(t, "saved copy", func() bool {
		a, _ := os.ReadFile(dest)
		b, _ := os.ReadFile(f.Path("images/5.png"))
		return len(a) > 0 && string(a) == string(b)
	})

	// Add to a board from the viewer, then remove.
	f.CreateBoard(context.Background(), "Keyframes")
	hv.loadBoards()
	h.waitFor(t, "boards", func() bool { return len(hv.Boards()) == 1 })
	vw.AddTo("Keyframes")
	h.waitFor(t, "on the board", func() bool { return vw.Boards.Text == "On Keyframes" && !vw.RemoveFromBoard.Disabled() })
	vw.RemoveFrom("Keyframes")
	h.waitFor(t, "off the board", func() bool { return vw.Boards.Text == "On no board" })

	// Reuse the seed, then the settings.
	h.u.Studio.SeedLock.SetChecked(false)
	test.Tap(vw.ReuseSeed)
	if h.u.Studio.Seed.Text != "5005" || !h.u.Studio.SeedLock.Checked {
		t.Errorf("reuse seed: %q locked %v", h.u.Studio.Seed.Text, h.u.Studio.SeedLock.Checked)
	}

	// Delete moves to the trash and shows the next image; Undo restores.
	test.Tap(vw.Delete)
	h.waitFor(t, "deleted", func() bool { return vw.Undo.Visible() && vw.Current != nil && vw.Current.ID == 4 })
	if g, _ := f.Get(context.Background(), 5); g.DeletedAt == nil {
		t.Error("image 5 not in the trash")
	}
	test.Tap(vw.Undo)
	h.waitFor(t, "restored", func() bool { g, _ := f.Get(context.Background(), 5); return g.DeletedAt == nil && !vw.Undo.Visible() })

	// Send to img2img: the Studio gets the init image and an SDXL model.
	test.Tap(vw.SendToImg2Img)
	s := h.u.Studio
	if vw.Visible() || h.u.Tabs.SelectedIndex() != 0 || s.initPath == "" {
		t.Fatalf("send to img2img: viewer %v tab %d init %q", vw.Visible(), h.u.Tabs.SelectedIndex(), s.initPath)
	}
	if m, _ := s.selectedModel(); m.Kind != KindSDXLBase {
		t.Errorf("img2img picked %q", m.Kind)
	}
	// Esc closes the viewer.
	h.waitFor(t, "rows back", func() bool { return hv.Rows() == 5 })
	hv.OpenAt(0)
	h.waitFor(t, "open", func() bool { return vw.Visible() })
	h.u.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if vw.Visible() {
		t.Error("Esc did not close the viewer")
	}
}

func TestShortcutsSwitchTabsAndSearch(t *testing.T) {
	f := newFake(t)
	h := newHarness(t, f)
	for i := 4; i >= 0; i-- {
		h.u.Shortcut(tabShortcuts[i])
		if h.u.Tabs.SelectedIndex() != i {
			t.Errorf("Ctrl+%d selected tab %d", i+1, h.u.Tabs.SelectedIndex())
		}
	}
	// From inside a focused prompt, Ctrl+3 still switches (the entry
	// passes it on) and Ctrl+F focuses the history search.
	h.w.Canvas().Focus(h.u.Studio.Prompt)
	h.u.Studio.Prompt.TypedShortcut(tabShortcuts[2])
	if h.u.Tabs.SelectedIndex() != 2 {
		t.Errorf("Ctrl+3 in the prompt: tab %d", h.u.Tabs.SelectedIndex())
	}
	h.u.Tabs.SelectIndex(0)
	h.u.Studio.Prompt.TypedShortcut(SearchShortcut)
	if h.u.Tabs.SelectedIndex() != 2 || h.w.Canvas().Focused() != h.u.History.Search {
		t.Errorf("Ctrl+F: tab %d focus %T", h.u.Tabs.SelectedIndex(), h.w.Canvas().Focused())
	}
	// The help lists every shortcut the issue names.
	var keys []string
	for _, s := range Shortcuts {
		keys = append(keys, s.Keys)
	}
	all := strings.Join(keys, " | ")
	for _, k := range []string{"Ctrl+Enter", "Esc", "Ctrl+1", "Ctrl+5", "Ctrl+F", "←"} {
		if !strings.Contains(all, k) {
			t.Errorf("Help → Shortcuts lacks %s: %s", k, all)
		}
	}
}
