package ui

import (
	"container/list"

	"diptych/gallery"
)

// History paging: a grid over the whole library keeps only a few pages of
// rows in memory.
const (
	historyPageSize      = 120
	historyResidentPages = 8
)

// histPage is one page of a keyset-paged query. Its cursor (after) is kept
// for as long as the query stands, so the page can be fetched again once
// its rows were evicted.
type histPage struct {
	after   string               // cursor that fetches this page ("" for the first)
	next    string               // the page's Next, once loaded
	n       int                  // rows, -1 until first loaded
	items   []gallery.Generation // nil while not resident
	loading bool
	lru     *list.Element // in pageWindow.lru while resident
}

// pageWindow maps grid rows to pages: every page but the last holds size
// rows, so row i is row i%size of page i/size. At most max pages are
// resident; the least recently used is evicted first.
type pageWindow struct {
	size, max int
	pages     []*histPage
	rows      int        // rows of the pages loaded at least once
	lru       *list.List // of *histPage, front = most recent
}

func newPageWindow(size, max int) *pageWindow {
	w := &pageWindow{size: size, max: max}
	w.reset()
	return w
}

// reset forgets everything: one unknown first page.
func (w *pageWindow) reset() {
	w.pages = []*histPage{{n: -1}}
	w.rows = 0
	w.lru = list.New()
}

func (w *pageWindow) page(p int) *histPage {
	if p < 0 || p >= len(w.pages) {
		return nil
	}
	return w.pages[p]
}

// more reports whether a page beyond the known rows exists (or may).
func (w *pageWindow) more() bool { return w.pages[len(w.pages)-1].n < 0 }

// get returns row i if its page is resident.
func (w *pageWindow) get(i int) (*gallery.Generation, bool) {
	if i < 0 {
		return nil, false
	}
	pg := w.page(i / w.size)
	if pg == nil || pg.items == nil || i%w.size >= len(pg.items) {
		return nil, false
	}
	w.lru.MoveToFront(pg.lru)
	return &pg.items[i%w.size], true
}

// loaded stores a fetched page. The first load of the last page appends the
// next page's slot; a re-fetch that finds the page changed (rows deleted or
// added since) drops the pages after it, which are then re-discovered.
func (w *pageWindow) loaded(p int, page gallery.Page) {
	pg := w.page(p)
	if pg == nil {
		return
	}
	items := page.Items
	if items == nil {
		items = []gallery.Generation{}
	}
	if pg.n >= 0 && (pg.n != len(items) || pg.next != page.Next) {
		for _, later := range w.pages[p+1:] {
			w.evict(later)
		}
		w.pages = w.pages[:p+1]
		pg.n = -1 // recount below
		w.recount()
	}
	if pg.n < 0 {
		pg.n, pg.next = len(items), page.Next
		w.rows += pg.n
		if page.Next != "" && p == len(w.pages)-1 {
			w.pages = append(w.pages, &histPage{after: page.Next, n: -1})
		}
	}
	pg.items = items
	if pg.lru == nil {
		pg.lru = w.lru.PushFront(pg)
	} else {
		w.lru.MoveToFront(pg.lru)
	}
	for w.lru.Len() > w.max {
		w.evict(w.lru.Back().Value.(*histPage))
	}
}

func (w *pageWindow) recount() {
	w.rows = 0
	for _, pg := range w.pages {
		if pg.n > 0 {
			w.rows += pg.n
		}
	}
}

func (w *pageWindow) evict(pg *histPage) {
	if pg.lru != nil {
		w.lru.Remove(pg.lru)
		pg.lru = nil
	}
	pg.items = nil
}

// resident counts the rows held in memory.
func (w *pageWindow) resident() int {
	n := 0
	for e := w.lru.Front(); e != nil; e = e.Next() {
		n += len(e.Value.(*histPage).items)
	}
	return n
}

// setFavourite updates a resident row; it returns the row's index.
func (w *pageWindow) setFavourite(id int64, on bool) (int, bool) {
	for p, pg := range w.pages {
		for j := range pg.items {
			if pg.items[j].ID == id {
				pg.items[j].Favourite = on
				return p*w.size + j, true
			}
		}
	}
	return 0, false
}
