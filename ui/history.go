package ui

import (
	"container/list"
	"fmt"
	"image"
	_ "image/jpeg" // dropped and imported images
	_ "image/png"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/app"
	"diptych/gallery"
)

// thumbCache keeps a bounded number of decoded thumbnails (least recently
// used go first), so memory stays flat however far the grid scrolls.
type thumbCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // of int64, front = newest
	entries map[int64]*list.Element
	imgs    map[int64]image.Image
	loading map[int64]bool
}

type thumbEntry struct{ id int64 }

func newThumbCache(max int) *thumbCache {
	return &thumbCache{max: max, order: list.New(), entries: map[int64]*list.Element{}, imgs: map[int64]image.Image{}, loading: map[int64]bool{}}
}

func (c *thumbCache) get(id int64) (image.Image, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return c.imgs[id], true
}

func (c *thumbCache) put(id int64, img image.Image) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.loading, id)
	if e, ok := c.entries[id]; ok {
		c.order.MoveToFront(e)
		c.imgs[id] = img
		return
	}
	c.entries[id] = c.order.PushFront(thumbEntry{id})
	c.imgs[id] = img
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		oid := old.Value.(thumbEntry).id
		delete(c.entries, oid)
		delete(c.imgs, oid)
	}
}

// claim reports whether the caller should load id (nobody else is).
func (c *thumbCache) claim(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loading[id] {
		return false
	}
	c.loading[id] = true
	return true
}

func (c *thumbCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// HistoryView is the library: search, filters, a virtualised thumbnail grid
// and a detail panel.
type HistoryView struct {
	u *UI

	Search     *keyEntry
	ModelF     *widget.Select
	DateF      *widget.Select
	BoardF     *widget.Select
	Favourites *widget.Check
	Trash      *widget.Check
	Grid       *widget.GridWrap
	Count      *widget.Label

	DetailImage *canvas.Image
	Detail      *widget.Label
	UseSettings *widget.Button
	CopyPrompt  *widget.Button
	Favourite   *widget.Button
	Export      *widget.Button
	Delete      *widget.Button
	Undo        *widget.Button
	// EmptyTrash deletes the trash for good (shown while viewing it).
	EmptyTrash *widget.Button
	// ShowGroup filters the grid to the selected image's compare pair or
	// sweep; ClearGroup (shown while filtered) lifts that filter.
	ShowGroup  *widget.Button
	ClearGroup *widget.Button
	// Open shows the selected image in the viewer (so does a double
	// click on a cell or a click on the detail image).
	Open *widget.Button
	// ManageBoards opens the boards dialog (create, rename, delete).
	ManageBoards *widget.Button
	// DetailAddBoard puts the selected image on a board.
	DetailAddBoard *widget.Button

	// Multi-select: SelectMode makes taps toggle images in and out of
	// the selection; the bar acts on all of them.
	SelectMode     *widget.Check
	SelCount       *widget.Label
	SelAddBoard    *widget.Button
	SelRemoveBoard *widget.Button
	SelDelete      *widget.Button
	SelClear       *widget.Button
	selBar         *fyne.Container
	selected       map[int64]bool

	boards    []gallery.Board
	wantBoard string // select this board once the list reloads
	onBoards  func() // the boards dialog's refresh, while open
	onLoaded  func() // called once after the first page of a reload

	pages     *pageWindow
	query     gallery.Query // the query the pages belong to
	group     int64         // group filter (0: none)
	gen       int           // bumps on every new query, so stale pages are dropped
	thumbs    *thumbCache
	Selected  *gallery.Generation
	undoTrash *trashUndo
	debounce  *time.Timer

	content fyne.CanvasObject
}

const allFilter = "All"

var dateFilters = []string{allFilter, "Today", "Last 7 days", "Last 30 days"}

func newHistoryView(u *UI) *HistoryView {
	v := &HistoryView{u: u, thumbs: newThumbCache(400), pages: newPageWindow(historyPageSize, historyResidentPages),
		selected: map[int64]bool{}}
	h := u.Hints
	v.Search = newKeyEntry(false)
	v.Search.SetPlaceHolder("Search prompts, captions, boards…")
	v.Search.OnChanged = func(string) { v.reloadSoon() }
	v.Search.OnSubmitted = func(string) { v.Reload() }
	v.ModelF = widget.NewSelect([]string{allFilter}, func(string) { v.Reload() })
	v.ModelF.SetSelected(allFilter)
	v.DateF = widget.NewSelect(dateFilters, func(string) { v.Reload() })
	v.DateF.SetSelected(allFilter)
	v.BoardF = widget.NewSelect([]string{allFilter}, func(string) {
		if v.wantBoard == "" {
			v.Reload()
		}
	})
	v.BoardF.SetSelected(allFilter)
	v.Favourites = widget.NewCheck("Favourites", func(bool) { v.Reload() })
	v.Trash = widget.NewCheck("Trash", func(bool) { v.Reload() })
	v.Count = widget.NewLabel("")

	v.Grid = widget.NewGridWrap(func() int { return v.pages.rows }, v.newCell, v.updateCell)
	v.Grid.OnSelected = func(id widget.GridWrapItemID) {
		g, ok := v.item(id)
		if !ok {
			return
		}
		if v.SelectMode.Checked {
			v.Toggle(g.ID)
			v.Grid.UnselectAll()
			return
		}
		v.selectItem(*g)
	}
	v.SelectMode = widget.NewCheck("Select several", func(on bool) {
		if !on {
			v.ClearSelection()
		}
		v.updateSelBar()
	})
	v.SelCount = widget.NewLabel("")
	v.SelAddBoard = widget.NewButtonWithIcon("Add to board…", theme.ContentAddIcon(), func() {
		u.boardMenu(v.SelAddBoard, v.AddSelectedTo, func() { u.newBoardDialog(v.AddSelectedTo) }, nil)
	})
	v.SelRemoveBoard = widget.NewButtonWithIcon("Remove from board…", theme.ContentRemoveIcon(), func() {
		u.boardMenu(v.SelRemoveBoard, v.RemoveSelectedFrom, nil, nil)
	})
	v.SelDelete = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.deleteSelected)
	v.SelClear = widget.NewButtonWithIcon("Clear", theme.CancelIcon(), v.ClearSelection)
	v.selBar = container.NewHBox(v.SelCount, h.With(v.SelAddBoard, "Put the selected images on a board"),
		h.With(v.SelRemoveBoard, "Take the selected images off a board"),
		h.With(v.SelDelete, "Move the selected images to the trash (Undo brings them back)"),
		h.With(v.SelClear, "Select none"))
	v.selBar.Hide()
	v.Open = widget.NewButtonWithIcon("Open", theme.ZoomFitIcon(), v.openSelected)
	v.ManageBoards = widget.NewButtonWithIcon("Boards…", theme.ListIcon(), u.showBoardsDialog)
	v.DetailAddBoard = widget.NewButtonWithIcon("Add to board…", theme.ContentAddIcon(), func() {
		if v.Selected == nil {
			return
		}
		id := v.Selected.ID
		add := func(name string) { v.AddTo(name, id) }
		u.boardMenu(v.DetailAddBoard, add, func() { u.newBoardDialog(add) }, nil)
	})

	v.DetailImage = canvas.NewImageFromImage(nil)
	v.DetailImage.FillMode = canvas.ImageFillContain
	v.DetailImage.SetMinSize(fyne.NewSize(280, 280))
	v.Detail = widget.NewLabel("Select an image to see its settings.")
	v.Detail.Wrapping = fyne.TextWrapWord
	v.Detail.Selectable = true
	v.UseSettings = widget.NewButtonWithIcon("Use these settings", theme.MediaReplayIcon(), v.useSettings)
	v.CopyPrompt = widget.NewButtonWithIcon("Copy prompt", theme.ContentCopyIcon(), func() {
		if v.Selected != nil {
			u.clipboard().SetContent(v.Selected.Prompt)
			u.setStatus("Prompt copied")
		}
	})
	v.Favourite = widget.NewButtonWithIcon("Favourite", theme.ConfirmIcon(), v.toggleFavourite)
	v.Export = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), v.export)
	v.Delete = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.delete)
	v.undoTrash = newTrashUndo(u, v.Reload)
	v.Undo = v.undoTrash.Button
	v.EmptyTrash = widget.NewButtonWithIcon("Empty trash…", theme.DeleteIcon(), v.confirmEmptyTrash)
	v.EmptyTrash.Hide()
	v.ShowGroup = widget.NewButtonWithIcon("Show group", theme.ViewRestoreIcon(), v.showGroup)
	v.ClearGroup = widget.NewButtonWithIcon("", theme.CancelIcon(), func() { v.SetGroup(0) })
	v.ClearGroup.Hide()
	v.setDetailEnabled(false)

	filters := container.NewHBox(
		widget.NewLabel("Model"), h.With(v.ModelF, "Only this model"),
		widget.NewLabel("Date"), h.With(v.DateF, "Only recent images"),
		widget.NewLabel("Board"), h.With(v.BoardF, "Only this board"),
		h.With(v.ManageBoards, "Create, rename and delete boards"),
		h.With(v.Favourites, "Only favourites"), h.With(v.Trash, "Show deleted images (restore with Undo)"),
		h.With(v.EmptyTrash, "Delete every image in the trash for good (asks first)"),
		h.With(v.ClearGroup, "Show the whole library again"),
		v.Count)
	top := container.NewVBox(h.With(v.Search, "Full-text search over prompts, negative prompts, captions and boards (Ctrl+F)"),
		container.NewHScroll(filters),
		container.NewHBox(h.With(v.SelectMode, "Tap images to select several, then act on all of them"), v.selBar))
	actions := container.NewGridWithColumns(2,
		h.With(v.UseSettings, "Load this image's settings into the Studio"),
		h.With(v.CopyPrompt, "Copy the prompt to the clipboard"),
		h.With(v.Favourite, "Mark or unmark as favourite"),
		h.With(v.Export, "Copy the image (with its metadata) and its settings to a folder"),
		h.With(v.Delete, "Move to the trash (can be undone)"),
		h.With(v.ShowGroup, "Show only the images of this compare pair or sweep"),
		h.With(v.Open, "Open the image large: zoom, pan, step with the arrow keys"),
		h.With(v.DetailAddBoard, "Put this image on a board"), v.Undo)
	detail := container.NewBorder(nil, actions, nil, nil,
		container.NewVSplit(newTapArea(v.DetailImage, v.openSelected), container.NewVScroll(v.Detail)))
	split := container.NewHSplit(v.Grid, detail)
	split.Offset = 0.65
	v.content = container.NewBorder(top, nil, nil, nil, split)
	return v
}

func (v *HistoryView) setDetailEnabled(on bool) {
	for _, b := range []*widget.Button{v.UseSettings, v.CopyPrompt, v.Favourite, v.Export, v.Delete, v.Open, v.DetailAddBoard} {
		if on {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if !on || v.Selected == nil || v.Selected.GroupID == 0 {
		v.ShowGroup.Disable()
	} else {
		v.ShowGroup.Enable()
	}
}

// SetModelNames fills the model filter.
func (v *HistoryView) SetModelNames(names []string) {
	v.ModelF.SetOptions(append([]string{allFilter}, names...))
}

// Query is the gallery query the search box and filters describe.
func (v *HistoryView) Query() gallery.Query {
	q := gallery.Query{Text: strings.TrimSpace(v.Search.Text), Favourite: v.Favourites.Checked, Trash: v.Trash.Checked, GroupID: v.group}
	if v.ModelF.Selected != allFilter {
		q.Model = v.ModelF.Selected
	}
	if v.BoardF.Selected != allFilter {
		q.Board = v.BoardF.Selected
	}
	now := time.Now()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch v.DateF.Selected {
	case "Today":
		q.Since = day
	case "Last 7 days":
		q.Since = day.AddDate(0, 0, -6)
	case "Last 30 days":
		q.Since = day.AddDate(0, 0, -29)
	}
	return q
}

func (v *HistoryView) reloadSoon() {
	if v.debounce != nil {
		v.debounce.Stop()
	}
	v.debounce = time.AfterFunc(250*time.Millisecond, func() { v.u.do(v.Reload) })
}

// Reload runs the query from the first page (off the UI goroutine).
func (v *HistoryView) Reload() {
	if v.Search == nil || v.Trash == nil || v.Favourites == nil || v.EmptyTrash == nil {
		return // still being built
	}
	v.gen++
	v.query = v.Query()
	v.pages.reset()
	if v.Trash.Checked {
		v.EmptyTrash.Show()
	} else {
		v.EmptyTrash.Hide()
	}
	v.Grid.UnselectAll()
	v.Grid.Refresh()
	v.fetch(0)
	v.loadBoards()
}

func (v *HistoryView) loadBoards() {
	go func() {
		bs, err := v.u.b.BoardList(v.u.ctx)
		if err != nil {
			v.u.do(func() { v.u.setStatus("boards: " + err.Error()) })
			return
		}
		v.u.do(func() { v.setBoards(bs) })
	}()
}

// setBoards fills the Board filter, keeping (or moving to) the wanted
// selection.
func (v *HistoryView) setBoards(bs []gallery.Board) {
	v.boards = bs
	names := []string{allFilter}
	for _, b := range bs {
		names = append(names, b.Name)
	}
	want := v.wantBoard
	if want == "" {
		want = v.BoardF.Selected
	}
	found := allFilter
	for _, n := range names {
		if strings.EqualFold(n, want) {
			found = n
		}
	}
	changed := found != v.BoardF.Selected
	v.wantBoard = "-" // hold the filter's callback while the options change
	v.BoardF.SetOptions(names)
	v.BoardF.SetSelected(found)
	v.wantBoard = ""
	if changed {
		v.Reload()
	}
	if v.onBoards != nil {
		v.onBoards()
	}
}

// Boards are the boards last listed.
func (v *HistoryView) Boards() []gallery.Board { return v.boards }

// SetBoardFilter shows only board (allFilter: everything).
func (v *HistoryView) SetBoardFilter(board string) { v.BoardF.SetSelected(board) }

// fetch loads page p of the current query off the UI goroutine: the first
// load of a page discovers the next page's cursor; a later one brings back
// a page that was evicted.
func (v *HistoryView) fetch(p int) {
	pg := v.pages.page(p)
	if pg == nil || pg.loading {
		return
	}
	pg.loading = true
	gen := v.gen
	q := v.query
	q.After = pg.after
	q.Limit = v.pages.size
	go func() {
		page, err := v.u.b.List(v.u.ctx, q)
		v.u.do(func() {
			if gen != v.gen {
				return
			}
			pg.loading = false
			if err != nil {
				v.u.showError(fmt.Errorf("history: load page %d: %w", p+1, err))
				return
			}
			v.pages.loaded(p, page)
			more := ""
			if v.pages.more() {
				more = "+"
			}
			v.Count.SetText(fmt.Sprintf("%d%s images", v.pages.rows, more))
			v.Grid.Refresh()
			if p == 0 && v.onLoaded != nil {
				fn := v.onLoaded
				v.onLoaded = nil
				fn()
			}
			v.u.Viewer.pageArrived(v)
		})
	}()
}

// loadMoreIfNear fetches the next, not yet seen page when row i is close
// to the end of what is known.
func (v *HistoryView) loadMoreIfNear(i int) {
	if v.pages.more() && i >= v.pages.rows-40 {
		v.fetch(len(v.pages.pages) - 1)
	}
}

// item returns row i when its page is resident; otherwise it starts
// fetching the page and reports false (the cell shows a placeholder).
func (v *HistoryView) item(i int) (*gallery.Generation, bool) {
	p := i / v.pages.size
	g, ok := v.pages.get(i)
	if !ok {
		v.fetch(p)
	}
	return g, ok
}

// Items returns the resident generations in grid order (all of them for a
// library smaller than the resident window).
func (v *HistoryView) Items() []gallery.Generation {
	var out []gallery.Generation
	for _, pg := range v.pages.pages {
		out = append(out, pg.items...)
	}
	return out
}

// Rows is the number of grid rows known so far (resident or not).
func (v *HistoryView) Rows() int { return v.pages.rows }

// ResidentRows is how many generations are held in memory.
func (v *HistoryView) ResidentRows() int { return v.pages.resident() }

func (v *HistoryView) newCell() fyne.CanvasObject {
	img := canvas.NewImageFromImage(nil)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleFastest
	img.SetMinSize(fyne.NewSize(150, 150))
	badge := widget.NewLabel("")
	c := &historyCell{v: v, body: container.NewStack(img, container.NewVBox(badge))}
	c.ExtendBaseWidget(c)
	return c
}

// historyCell is one grid cell: a tap selects (or toggles, in select
// mode), a double tap opens the viewer.
type historyCell struct {
	widget.BaseWidget
	v     *HistoryView
	body  *fyne.Container
	index int
}

func (c *historyCell) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.body) }
func (c *historyCell) Tapped(*fyne.PointEvent)             { c.v.Grid.Select(c.index) }
func (c *historyCell) DoubleTapped(*fyne.PointEvent)       { c.v.OpenAt(c.index) }

func (v *HistoryView) updateCell(i widget.GridWrapItemID, o fyne.CanvasObject) {
	cell := o.(*historyCell)
	cell.index = i
	c := cell.body
	img := c.Objects[0].(*canvas.Image)
	badge := c.Objects[1].(*fyne.Container).Objects[0].(*widget.Label)
	v.loadMoreIfNear(i)
	gp, ok := v.item(i)
	if !ok {
		// Placeholder until the page arrives (Grid.Refresh redraws it).
		badge.SetText("…")
		img.Resource, img.Image = nil, nil
		img.Refresh()
		return
	}
	g := *gp
	var marks []string
	if v.selected[g.ID] {
		marks = append(marks, "✔ selected")
	}
	if g.Favourite {
		marks = append(marks, "★")
	}
	if g.Status == gallery.StatusFailed {
		marks = append(marks, "failed")
	}
	badge.SetText(strings.Join(marks, " "))
	if v.selected[g.ID] {
		badge.Importance = widget.HighImportance
	} else {
		badge.Importance = widget.MediumImportance
	}
	img.Resource = nil
	if g.Image == nil {
		img.Image = nil
		img.Refresh()
		return
	}
	if t, ok := v.thumbs.get(g.ID); ok {
		img.Image = t
		img.Refresh()
		return
	}
	img.Image = nil
	img.Refresh()
	if !v.thumbs.claim(g.ID) {
		return
	}
	path := v.u.b.Path(g.Image.ThumbPath)
	go func() {
		t, err := app.LoadImage(path)
		if err != nil {
			t = image.NewRGBA(image.Rect(0, 0, 1, 1))
		}
		v.thumbs.put(g.ID, t)
		v.u.do(func() { v.Grid.RefreshItem(i) })
	}()
}

// historySource lets the viewer step through the grid's rows.
type historySource struct{ v *HistoryView }

func (s historySource) Len() int                             { return s.v.pages.rows }
func (s historySource) At(i int) (*gallery.Generation, bool) { return s.v.item(i) }

// OpenAt opens grid row i in the viewer.
func (v *HistoryView) OpenAt(i int) {
	if i < 0 || i >= v.pages.rows {
		return
	}
	v.u.Viewer.Open(historySource{v}, i)
}

// IndexOf is the grid row of generation id among the resident rows.
func (v *HistoryView) IndexOf(id int64) (int, bool) {
	for p, pg := range v.pages.pages {
		for j := range pg.items {
			if pg.items[j].ID == id {
				return p*v.pages.size + j, true
			}
		}
	}
	return 0, false
}

func (v *HistoryView) openSelected() {
	if v.Selected == nil {
		return
	}
	if i, ok := v.IndexOf(v.Selected.ID); ok {
		v.OpenAt(i)
		return
	}
	v.u.Viewer.OpenGeneration(*v.Selected)
}

// afterViewerChange reloads the grid after the viewer changed the
// library, then gives it the fresh rows.
func (v *HistoryView) afterViewerChange(fn func(viewerSource)) {
	v.onLoaded = func() { fn(historySource{v}) }
	v.Reload()
}

// Toggle adds id to the multi-selection or takes it out.
func (v *HistoryView) Toggle(id int64) {
	if v.selected[id] {
		delete(v.selected, id)
	} else {
		v.selected[id] = true
	}
	v.updateSelBar()
	v.Grid.Refresh()
}

// SelectedIDs is the multi-selection, in grid order.
func (v *HistoryView) SelectedIDs() []int64 {
	var out []int64
	for _, g := range v.Items() {
		if v.selected[g.ID] {
			out = append(out, g.ID)
		}
	}
	return out
}

// ClearSelection selects none.
func (v *HistoryView) ClearSelection() {
	clear(v.selected)
	v.updateSelBar()
	v.Grid.Refresh()
}

func (v *HistoryView) updateSelBar() {
	n := len(v.selected)
	if !v.SelectMode.Checked && n == 0 {
		v.selBar.Hide()
		return
	}
	v.SelCount.SetText(fmt.Sprintf("%d selected", n))
	for _, b := range []*widget.Button{v.SelAddBoard, v.SelRemoveBoard, v.SelDelete, v.SelClear} {
		setEnabled(b, n > 0)
	}
	v.selBar.Show()
}

// AddSelectedTo puts the multi-selection on board.
func (v *HistoryView) AddSelectedTo(board string) {
	ids := v.SelectedIDs()
	v.boardOp(board, ids, true)
}

// RemoveSelectedFrom takes the multi-selection off board.
func (v *HistoryView) RemoveSelectedFrom(board string) {
	v.boardOp(board, v.SelectedIDs(), false)
}

// AddTo puts images on board.
func (v *HistoryView) AddTo(board string, ids ...int64) { v.boardOp(board, ids, true) }

func (v *HistoryView) boardOp(board string, ids []int64, add bool) {
	if len(ids) == 0 {
		return
	}
	var n int
	v.u.work(func() (err error) {
		if add {
			n, err = v.u.b.BoardAdd(v.u.ctx, board, ids...)
		} else {
			n, err = v.u.b.BoardRemove(v.u.ctx, board, ids...)
		}
		return err
	}, func() {
		if add {
			v.u.setStatus(fmt.Sprintf("Added %d image(s) to %s", n, board))
		} else {
			v.u.setStatus(fmt.Sprintf("Removed %d image(s) from %s", n, board))
		}
		v.loadBoards()
		if v.query.Board != "" {
			v.Reload()
		}
		if v.Selected != nil {
			v.selectItem(*v.Selected)
		}
	})
}

func (v *HistoryView) deleteSelected() {
	ids := v.SelectedIDs()
	if len(ids) == 0 {
		return
	}
	v.undoTrash.trash(ids, false, func() {
		clear(v.selected)
		v.updateSelBar()
		v.Reload()
	})
}

func (v *HistoryView) selectItem(g gallery.Generation) {
	v.Selected = &g
	v.Detail.SetText(describe(g))
	v.setDetailEnabled(true)
	v.Favourite.SetText(map[bool]string{true: "Unfavourite", false: "Favourite"}[g.Favourite])
	if v.Trash.Checked {
		v.Delete.Disable()
	}
	v.DetailImage.Image = nil
	v.DetailImage.Refresh()
	id := g.ID
	v.u.loadGeneration(id, func(full gallery.Generation, img image.Image, err error) {
		if v.Selected == nil || v.Selected.ID != id {
			return
		}
		if err != nil {
			v.u.setStatus(err.Error())
			return
		}
		v.Selected = &full
		v.Detail.SetText(describe(full))
		if img != nil {
			v.DetailImage.Image = img
			v.DetailImage.Refresh()
		}
	})
}

func (v *HistoryView) useSettings() {
	if v.Selected == nil {
		return
	}
	v.u.Studio.Apply(RequestFromGeneration(*v.Selected))
	v.u.Tabs.SelectIndex(0)
	v.u.setStatus("Settings loaded into the Studio")
}

func (v *HistoryView) toggleFavourite() {
	if v.Selected == nil {
		return
	}
	g := *v.Selected
	on := !g.Favourite
	v.u.work(func() error { return v.u.b.SetFavourite(v.u.ctx, g.ID, on) }, func() {
		g.Favourite = on
		v.Selected = &g
		v.Favourite.SetText(map[bool]string{true: "Unfavourite", false: "Favourite"}[on])
		if i, ok := v.pages.setFavourite(g.ID, on); ok {
			v.Grid.RefreshItem(i)
		}
	})
}

func (v *HistoryView) export() {
	if v.Selected == nil {
		return
	}
	id := v.Selected.ID
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		v.ExportTo(id, dir.Path())
	}, v.u.win)
}

// ExportTo copies one generation's image and settings to dir.
func (v *HistoryView) ExportTo(id int64, dir string) {
	var rep gallery.ExportReport
	v.u.work(func() (err error) {
		rep, err = v.u.b.Export(v.u.ctx, []int64{id}, dir)
		return err
	}, func() { v.u.setStatus(fmt.Sprintf("Exported %d image(s) to %s", rep.Images, rep.Dest)) })
}

func (v *HistoryView) delete() {
	if v.Selected == nil {
		return
	}
	v.undoTrash.trash([]int64{v.Selected.ID}, false, func() {
		v.Selected = nil
		v.setDetailEnabled(false)
		v.Detail.SetText("Deleted. Undo brings it back.")
		v.Reload()
	})
}

// onEvent refreshes the grid when a job saved images.
func (v *HistoryView) onEvent(e Event) {
	if e.Kind == app.EventDone && len(e.Generations) > 0 {
		v.Reload()
	}
}

// showGroup filters the grid to the selected image's compare pair or sweep.
func (v *HistoryView) showGroup() {
	if v.Selected == nil || v.Selected.GroupID == 0 {
		return
	}
	v.SetGroup(v.Selected.GroupID)
}

// SetGroup filters the grid to one group (0: the whole library).
func (v *HistoryView) SetGroup(id int64) {
	v.group = id
	if id == 0 {
		v.ClearGroup.Hide()
	} else {
		v.ClearGroup.SetText(fmt.Sprintf("Group %d", id))
		v.ClearGroup.Show()
	}
	v.Reload()
}

// confirmEmptyTrash asks before deleting the trash for good.
func (v *HistoryView) confirmEmptyTrash() {
	dialog.ShowConfirm("Empty the trash?",
		"Every image in the trash is deleted for good, with its files. This cannot be undone.",
		func(yes bool) {
			if yes {
				v.emptyTrash()
			}
		}, v.u.win)
}

func (v *HistoryView) emptyTrash() {
	var n int
	v.u.work(func() (err error) {
		n, err = v.u.b.EmptyTrash(v.u.ctx)
		if err != nil {
			err = fmt.Errorf("empty the trash: %w", err)
		}
		return err
	}, func() {
		v.undoTrash.forget()
		v.Selected = nil
		v.setDetailEnabled(false)
		v.Detail.SetText("Select an image to see its settings.")
		v.u.setStatus(fmt.Sprintf("Emptied the trash: %d image(s) deleted for good", n))
		v.Reload()
	})
}
