package ui

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"diptych/gallery"
)

// bigLibrary fills the fake with n image-less generations, ids 1..n; the
// grid shows them newest first, so row i is id n-i.
func bigLibrary(f *fakeBackend, n int) {
	f.gens = make([]gallery.Generation, n)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range f.gens {
		id := int64(i + 1)
		f.gens[i] = gallery.Generation{ID: id, CreatedAt: t0.Add(time.Duration(i) * time.Second), Engine: EngineSDXL,
			Model: "sdxl-base", Prompt: fmt.Sprintf("prompt number %d", id), Status: gallery.StatusOK}
	}
	f.nextID = int64(n)
}

func cellBadge(o fyne.CanvasObject) string {
	return o.(*historyCell).body.Objects[1].(*fyne.Container).Objects[0].(*widget.Label).Text
}

// showRows plays the grid drawing rows [from, from+n): it updates one cell
// per row, then pumps UI work until every row is resident, checking each
// row's id. It returns the most rows ever resident on the way.
func showRows(tb testing.TB, h *harness, cells []fyne.CanvasObject, from, total int) int {
	hv := h.u.History
	most := 0
	for k, c := range cells {
		if from+k < total {
			hv.updateCell(from+k, c)
		}
	}
	h.waitFor(tb, fmt.Sprintf("rows %d.. resident", from), func() bool {
		most = max(most, hv.ResidentRows())
		for k := range cells {
			if i := from + k; i < total {
				if _, ok := hv.pages.get(i); !ok {
					hv.updateCell(i, cells[k]) // as the grid's refresh would
					return false
				}
			}
		}
		return true
	})
	for k, c := range cells {
		i := from + k
		if i >= total {
			break
		}
		hv.updateCell(i, c)
		g, _ := hv.pages.get(i)
		if want := int64(total - i); g.ID != want {
			tb.Fatalf("row %d shows id %d, want %d", i, g.ID, want)
		}
		if cellBadge(c) == "…" {
			tb.Fatalf("row %d still shows the placeholder", i)
		}
	}
	return max(most, hv.ResidentRows())
}

// scrollAll scrolls the whole library a screenful (24 cells) at a time and
// returns the most rows resident at any point.
func scrollAll(tb testing.TB, h *harness, total int) int {
	hv := h.u.History
	cells := make([]fyne.CanvasObject, 24)
	for i := range cells {
		cells[i] = hv.newCell()
	}
	most := 0
	for from := 0; from < total; from += len(cells) {
		most = max(most, showRows(tb, h, cells, from, total))
		if r := hv.ResidentRows(); r > historyPageSize*historyResidentPages {
			tb.Fatalf("at row %d, %d rows resident (bound %d)", from, r, historyPageSize*historyResidentPages)
		}
		if from%(10*historyPageSize) == 0 {
			hv.Grid.ScrollTo(from)
		}
	}
	return most
}

func TestHistoryGridMemoryStaysFlat(t *testing.T) {
	const total = 100_000
	f := newFake(t)
	bigLibrary(f, total)
	h := newHarness(t, f)
	hv := h.u.History
	h.u.Tabs.SelectIndex(2)
	h.waitFor(t, "first page", func() bool { return hv.Rows() > 0 })

	most := scrollAll(t, h, total)
	if hv.Rows() != total || hv.pages.more() {
		t.Fatalf("after scrolling to the end: %d rows known (more: %v), want %d", hv.Rows(), hv.pages.more(), total)
	}
	bound := historyPageSize * historyResidentPages
	if most > bound || most < historyPageSize {
		t.Fatalf("most rows resident %d, want between one page and %d", most, bound)
	}
	if !strings.HasPrefix(hv.Count.Text, "100000 images") {
		t.Fatalf("count %q", hv.Count.Text)
	}

	// Back to the top: page 0 was evicted long ago, so its cells show a
	// placeholder and the page is fetched again with its own cursor.
	if _, ok := hv.pages.get(0); ok {
		t.Fatal("the first page is still resident after scrolling 100,000 rows")
	}
	c := hv.newCell()
	before := f.listCalls()
	hv.updateCell(0, c)
	if cellBadge(c) != "…" || c.(*historyCell).body.Objects[0].(*canvas.Image).Image != nil {
		t.Fatalf("evicted row shows %q, want the placeholder", cellBadge(c))
	}
	cells := []fyne.CanvasObject{c, hv.newCell(), hv.newCell()}
	showRows(t, h, cells, 0, total)
	// And a page in the middle (cursor of a page boundary seen long ago).
	showRows(t, h, cells, 50_000, total)
	if f.listCalls()-before != 2 {
		t.Fatalf("scrolling back fetched %d pages, want 2", f.listCalls()-before)
	}

	// Selection and favourite work on a re-fetched page.
	hv.Grid.Select(50_001)
	h.waitFor(t, "selection", func() bool { return hv.Selected != nil && hv.Selected.ID == total-50_001 })
	test.Tap(hv.Favourite)
	h.waitFor(t, "favourite", func() bool {
		g, _ := hv.pages.get(50_001)
		return g.Favourite
	})
	if g, _ := f.Get(h.u.ctx, total-50_001); !g.Favourite {
		t.Fatal("favourite not saved")
	}
	if r := hv.ResidentRows(); r > bound {
		t.Fatalf("%d rows resident", r)
	}

	// A search restarts from one page.
	hv.Search.SetText("prompt number 99999")
	hv.Reload()
	h.waitFor(t, "search", func() bool { return hv.Rows() == 1 })
	if g, ok := hv.pages.get(0); !ok || g.ID != 99999 {
		t.Fatalf("search found %+v", g)
	}
}

func TestHistoryPageChangedUnderneath(t *testing.T) {
	w := newPageWindow(2, 2)
	gens := func(ids ...int64) []gallery.Generation {
		var out []gallery.Generation
		for _, id := range ids {
			out = append(out, gallery.Generation{ID: id})
		}
		return out
	}
	w.loaded(0, gallery.Page{Items: gens(9, 8), Next: "8"})
	w.loaded(1, gallery.Page{Items: gens(7, 6), Next: "6"})
	w.loaded(2, gallery.Page{Items: gens(5, 4), Next: "4"})
	if w.rows != 6 || w.resident() != 4 || len(w.pages) != 4 {
		t.Fatalf("rows %d resident %d pages %d", w.rows, w.resident(), len(w.pages))
	}
	if _, ok := w.get(0); ok {
		t.Fatal("least recently used page kept")
	}
	// Page 0 comes back different (8 was deleted): what followed it is
	// forgotten and re-discovered from the new cursor.
	w.loaded(0, gallery.Page{Items: gens(9, 7), Next: "7"})
	if w.rows != 2 || len(w.pages) != 2 || w.pages[1].after != "7" || !w.more() {
		t.Fatalf("after a change: rows %d pages %d", w.rows, len(w.pages))
	}
}

// BenchmarkHistoryScroll100k scrolls a 100,000-row library end to end and
// reports the most rows resident and the heap growth of the view.
func BenchmarkHistoryScroll100k(b *testing.B) {
	const total = 100_000
	for b.Loop() {
		f := newFake(b)
		bigLibrary(f, total)
		h := newHarness(b, f)
		h.waitFor(b, "first page", func() bool { return h.u.History.Rows() > 0 })
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		most := scrollAll(b, h, total)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(most), "resident-rows")
		b.ReportMetric(float64(int64(m1.HeapAlloc)-int64(m0.HeapAlloc))/1024, "heap-growth-KiB")
	}
}

func TestHistoryShowGroup(t *testing.T) {
	f := newFake(t)
	bigLibrary(f, 5)
	f.gens[1].GroupID, f.gens[1].GroupIndex = 7, 0 // a compare pair: ids 2 and 4
	f.gens[3].GroupID, f.gens[3].GroupIndex = 7, 1
	h := newHarness(t, f)
	hv := h.u.History
	h.waitFor(t, "library", func() bool { return hv.Rows() == 5 })

	hv.Grid.Select(0) // id 5: in no group
	h.waitFor(t, "selection", func() bool { return hv.Selected != nil && hv.Selected.ID == 5 })
	if !hv.ShowGroup.Disabled() {
		t.Fatal("Show group enabled for an image in no group")
	}
	hv.Grid.Select(1) // id 4
	h.waitFor(t, "selection", func() bool { return hv.Selected != nil && hv.Selected.ID == 4 })
	if hv.ShowGroup.Disabled() {
		t.Fatal("Show group disabled for a compare-pair image")
	}
	test.Tap(hv.ShowGroup)
	h.waitFor(t, "the group", func() bool { return hv.Rows() == 2 })
	if q := hv.Query(); q.GroupID != 7 {
		t.Fatalf("query %+v", q)
	}
	items := hv.Items()
	if items[0].ID != 4 || items[1].ID != 2 || !hv.ClearGroup.Visible() || !strings.Contains(hv.ClearGroup.Text, "7") {
		t.Fatalf("group shows %v (clear button %q visible %v)", []int64{items[0].ID, items[1].ID}, hv.ClearGroup.Text, hv.ClearGroup.Visible())
	}
	test.Tap(hv.ClearGroup)
	h.waitFor(t, "whole library", func() bool { return hv.Rows() == 5 })
	if hv.ClearGroup.Visible() {
		t.Fatal("clear-group button still shown")
	}
}

func TestHistoryEmptyTrash(t *testing.T) {
	f := newFake(t)
	bigLibrary(f, 3)
	h := newHarness(t, f)
	h.u.opts.NoDialogs = true
	hv := h.u.History
	h.waitFor(t, "library", func() bool { return hv.Rows() == 3 })
	if hv.EmptyTrash.Visible() {
		t.Fatal("Empty trash shown outside the trash")
	}
	hv.Grid.Select(2) // id 1
	h.waitFor(t, "selection", func() bool { return hv.Selected != nil && hv.Selected.ID == 1 })
	test.Tap(hv.Delete)
	h.waitFor(t, "deleted", func() bool { return hv.Rows() == 2 })

	hv.Trash.SetChecked(true)
	h.waitFor(t, "trash", func() bool { return hv.Rows() == 1 && hv.pages.more() == false })
	if !hv.EmptyTrash.Visible() {
		t.Fatal("no Empty trash button in the trash")
	}
	test.Tap(hv.EmptyTrash)
	top := h.w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("emptying the trash did not ask")
	}
	test.Tap(findButton(top, "No"))
	time.Sleep(20 * time.Millisecond)
	h.pump()
	if _, err := f.Get(h.u.ctx, 1); err != nil || hv.Rows() != 1 {
		t.Fatalf("No emptied the trash (rows %d, %v)", hv.Rows(), err)
	}
	test.Tap(hv.EmptyTrash)
	test.Tap(findButton(h.w.Canvas().Overlays().Top(), "Yes"))
	h.waitFor(t, "emptied", func() bool { return strings.HasPrefix(h.u.Status.Text, "Emptied the trash: 1 image") })
	h.waitFor(t, "empty trash view", func() bool { return hv.Rows() == 0 && !hv.pages.more() })
	if _, err := f.Get(h.u.ctx, 1); err == nil {
		t.Fatal("the trashed image is still in the library")
	}
	hv.Trash.SetChecked(false)
	h.waitFor(t, "library", func() bool { return hv.Rows() == 2 && !hv.EmptyTrash.Visible() })
	if hv.Undo.Visible() {
		t.Fatal("Undo offered for an image deleted for good")
	}
}
