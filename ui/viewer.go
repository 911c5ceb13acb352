package ui

import (
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/gallery"
)

// viewerSource is what the viewer steps through with the arrow keys.
type viewerSource interface {
	Len() int
	// At returns item i, or false while it is not loaded yet (the source
	// then fetches it).
	At(i int) (*gallery.Generation, bool)
}

// oneItem is a source of a single generation.
type oneItem struct{ g gallery.Generation }

func (o oneItem) Len() int                             { return 1 }
func (o oneItem) At(i int) (*gallery.Generation, bool) { return &o.g, i == 0 }

// Viewer shows one image large over the window: fit, 100 % or any zoom
// (scroll), pan by dragging, arrow keys step through the history; and
// everything one does with a single image.
type Viewer struct {
	u *UI

	Image     *ZoomImage
	Title     *widget.Label
	ZoomLabel *widget.Label
	Boards    *widget.Label

	Fit, Actual, ZoomIn, ZoomOut *widget.Button
	Prev, Next, Close            *widget.Button

	CopyImage, SaveAs, ShowInFolder *widget.Button
	ReuseSettings, ReuseSeed        *widget.Button
	SendToImg2Img                   *widget.Button
	Delete, Undo                    *widget.Button
	AddToBoard, RemoveFromBoard     *widget.Button

	// Current is the generation shown (with its boards, from Get).
	Current *gallery.Generation
	Index   int

	src       viewerSource
	undoTrash *trashUndo
	popup     *widget.PopUp
	content   fyne.CanvasObject
	shown     bool
	loadSeq   int
}

func newViewer(u *UI) *Viewer {
	v := &Viewer{u: u}
	h := u.Hints
	v.Image = NewZoomImage()
	v.Image.OnChanged = v.updateZoomLabel
	v.Title = widget.NewLabel("")
	v.Title.Truncation = fyne.TextTruncateEllipsis
	v.ZoomLabel = widget.NewLabel("Fit")
	v.Boards = widget.NewLabel("")
	v.Boards.Truncation = fyne.TextTruncateEllipsis
	v.Fit = widget.NewButton("Fit", v.Image.Fit)
	v.Actual = widget.NewButton("100 %", func() { v.Image.SetScale(1) })
	v.ZoomIn = widget.NewButtonWithIcon("", theme.ZoomInIcon(), func() { v.Image.SetScale(v.Image.EffectiveScale() * 1.25) })
	v.ZoomOut = widget.NewButtonWithIcon("", theme.ZoomOutIcon(), func() { v.Image.SetScale(v.Image.EffectiveScale() / 1.25) })
	v.Prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { v.Step(-1) })
	v.Next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { v.Step(1) })
	v.Close = widget.NewButtonWithIcon("Close", theme.CancelIcon(), v.Hide)

	v.CopyImage = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), v.copyImage)
	v.SaveAs = widget.NewButtonWithIcon("Save as…", theme.DocumentSaveIcon(), v.saveAs)
	v.ShowInFolder = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), v.showInFolder)
	v.ReuseSettings = widget.NewButtonWithIcon("Reuse settings", theme.MediaReplayIcon(), v.reuseSettings)
	v.ReuseSeed = widget.NewButtonWithIcon("Reuse seed", theme.ContentRedoIcon(), v.reuseSeed)
	v.SendToImg2Img = widget.NewButtonWithIcon("Send to img2img", theme.NavigateNextIcon(), v.sendToImg2Img)
	v.Delete = widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), v.delete)
	v.undoTrash = newTrashUndo(u, func() {
		v.u.History.afterViewerChange(func(src viewerSource) {
			v.src = src
			v.show(min(v.Index, max(v.src.Len()-1, 0)))
		})
	})
	v.Undo = v.undoTrash.Button
	v.AddToBoard = widget.NewButtonWithIcon("Add to board…", theme.ContentAddIcon(), v.showBoardMenu)
	v.RemoveFromBoard = widget.NewButtonWithIcon("Remove from board…", theme.ContentRemoveIcon(), v.showRemoveMenu)

	top := container.NewBorder(nil, nil,
		container.NewHBox(h.With(v.Prev, "Previous image (Left arrow)"), h.With(v.Next, "Next image (Right arrow)")),
		container.NewHBox(h.With(v.ZoomOut, "Zoom out (−, or scroll)"), h.With(v.ZoomLabel, "Current zoom"),
			h.With(v.ZoomIn, "Zoom in (+, or scroll)"), h.With(v.Fit, "Fit the image to the window (0)"),
			h.With(v.Actual, "Show at 100 %: one image pixel per screen pixel (1)"),
			h.With(v.Close, "Close the viewer (Esc)")),
		v.Title)
	actions := container.NewHBox(
		h.With(v.CopyImage, "Copy the image to the clipboard"),
		h.With(v.SaveAs, "Save a copy of the PNG (with its settings inside) somewhere else"),
		h.With(v.ShowInFolder, "Open the folder holding the image in the file manager"),
		widget.NewSeparator(),
		h.With(v.ReuseSettings, "Load every setting of this image into the Studio"),
		h.With(v.ReuseSeed, "Use this image's seed in the Studio (locked)"),
		h.With(v.SendToImg2Img, "Use this image as the SDXL init image (image to image)"),
		widget.NewSeparator(),
		h.With(v.AddToBoard, "Put this image on a board (or a new one)"),
		h.With(v.RemoveFromBoard, "Take this image off one of its boards"),
		widget.NewSeparator(),
		h.With(v.Delete, "Move to the trash (Undo brings it back)"), v.Undo)
	bottom := container.NewVBox(container.NewHScroll(actions), v.Boards)
	v.content = container.NewBorder(top, bottom, nil, nil, v.Image)
	return v
}

// Content is the viewer's view tree (shown in an overlay).
func (v *Viewer) Content() fyne.CanvasObject { return v.content }

// Visible reports whether the viewer is open.
func (v *Viewer) Visible() bool { return v.shown }

// Open shows item i of src.
func (v *Viewer) Open(src viewerSource, i int) {
	v.src = src
	v.undoTrash.forget()
	if v.u.win != nil {
		c := v.u.win.Canvas()
		if v.popup == nil {
			v.popup = widget.NewModalPopUp(v.content, c)
		}
		v.popup.Resize(c.Size())
		v.popup.Show()
		c.Unfocus()
	}
	v.shown = true
	v.show(i)
}

// OpenGeneration shows g alone (no stepping).
func (v *Viewer) OpenGeneration(g gallery.Generation) { v.Open(oneItem{g}, 0) }

// Hide closes the viewer.
func (v *Viewer) Hide() {
	if v.popup != nil {
		v.popup.Hide()
	}
	v.shown = false
}

// Step moves by d images (the arrow keys).
func (v *Viewer) Step(d int) {
	if v.src == nil {
		return
	}
	i := v.Index + d
	if i < 0 || i >= v.src.Len() {
		return
	}
	v.show(i)
}

func (v *Viewer) show(i int) {
	v.Index = i
	n := v.src.Len()
	setEnabled(v.Prev, i > 0)
	setEnabled(v.Next, i < n-1)
	g, ok := v.src.At(i)
	if !ok {
		v.Title.SetText(fmt.Sprintf("%d / %d · loading…", i+1, n))
		return
	}
	gg := *g
	v.Current = &gg
	v.Title.SetText(fmt.Sprintf("%d / %d · %s · %s · seed %d · %d×%d", i+1, n, shorten(g.Prompt, 60), g.Model, g.Seed, g.Width, g.Height))
	v.showBoards()
	has := g.Image != nil
	for _, b := range []*widget.Button{v.CopyImage, v.SaveAs, v.ShowInFolder, v.SendToImg2Img} {
		setEnabled(b, has)
	}
	setEnabled(v.Delete, g.DeletedAt == nil)
	v.loadSeq++
	seq, id := v.loadSeq, g.ID
	v.u.loadGeneration(id, func(full gallery.Generation, img image.Image, err error) {
		if seq != v.loadSeq {
			return
		}
		if err != nil {
			v.u.setStatus(err.Error())
			v.Image.SetImage(nil)
			return
		}
		v.Current = &full
		v.showBoards()
		v.Image.SetImage(img)
	})
}

// pageArrived re-shows the current row once its history page is loaded.
func (v *Viewer) pageArrived(h *HistoryView) {
	if !v.shown || v.src == nil {
		return
	}
	if _, ok := v.src.(historySource); !ok {
		return
	}
	if v.Current == nil || strings.HasSuffix(v.Title.Text, "loading…") {
		if _, ok := v.src.At(v.Index); ok {
			v.show(v.Index)
		}
	}
}

func (v *Viewer) showBoards() {
	if v.Current == nil || len(v.Current.Boards) == 0 {
		v.Boards.SetText("On no board")
		v.RemoveFromBoard.Disable()
		return
	}
	v.Boards.SetText("On " + strings.Join(v.Current.Boards, ", "))
	v.RemoveFromBoard.Enable()
}

func (v *Viewer) updateZoomLabel() {
	if v.Image.Scale == 0 {
		v.ZoomLabel.SetText(fmt.Sprintf("Fit (%.0f %%)", v.Image.EffectiveScale()*100))
		return
	}
	v.ZoomLabel.SetText(fmt.Sprintf("%.0f %%", v.Image.Scale*100))
}

// TypedKey handles the viewer's keys; it reports whether it took the key.
func (v *Viewer) TypedKey(k *fyne.KeyEvent) bool {
	if !v.shown {
		return false
	}
	switch k.Name {
	case fyne.KeyLeft, fyne.KeyUp, fyne.KeyPageUp:
		v.Step(-1)
	case fyne.KeyRight, fyne.KeyDown, fyne.KeyPageDown, fyne.KeySpace:
		v.Step(1)
	case fyne.KeyEscape:
		v.Hide()
	case fyne.KeyPlus, fyne.KeyEqual:
		v.ZoomIn.OnTapped()
	case fyne.KeyMinus:
		v.ZoomOut.OnTapped()
	case fyne.Key0:
		v.Image.Fit()
	case fyne.Key1:
		v.Image.SetScale(1)
	case fyne.KeyDelete:
		v.delete()
	default:
		return false
	}
	return true
}

func (v *Viewer) path() string {
	if v.Current == nil || v.Current.Image == nil {
		return ""
	}
	return v.u.b.Path(v.Current.Image.Path)
}

func (v *Viewer) copyImage() {
	p := v.path()
	if p == "" {
		return
	}
	v.u.work(func() error { return v.u.b.CopyImage(p) }, func() { v.u.setStatus("Image copied to the clipboard") })
}

func (v *Viewer) saveAs() {
	p := v.path()
	if p == "" || v.u.win == nil {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		v.SaveTo(p, w)
	}, v.u.win)
	d.SetFileName(filepath.Base(p))
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png"}))
	d.Show()
}

// SaveTo copies the image file (its metadata included) to w.
func (v *Viewer) SaveTo(src string, w io.WriteCloser) {
	name := ""
	if u, ok := w.(fyne.URIWriteCloser); ok {
		name = u.URI().Path()
	}
	v.u.work(func() error {
		defer w.Close()
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("save as: %w", err)
		}
		defer f.Close()
		if _, err := io.Copy(w, f); err != nil {
			return fmt.Errorf("save as %s: %w", name, err)
		}
		return nil
	}, func() { v.u.setStatus("Saved a copy as " + name) })
}

func (v *Viewer) showInFolder() {
	p := v.path()
	if p == "" {
		return
	}
	v.u.work(func() error { return v.u.b.ShowInFolder(p) }, func() { v.u.setStatus("Opened " + filepath.Dir(p)) })
}

func (v *Viewer) reuseSettings() {
	if v.Current == nil {
		return
	}
	v.u.Studio.Apply(RequestFromGeneration(*v.Current))
	v.Hide()
	v.u.Tabs.SelectIndex(0)
	v.u.setStatus("Settings loaded into the Studio")
}

func (v *Viewer) reuseSeed() {
	if v.Current == nil {
		return
	}
	s := v.u.Studio
	s.Seed.SetText(strconv.FormatUint(v.Current.Seed, 10))
	s.SeedLock.SetChecked(true)
	v.u.setStatus(fmt.Sprintf("Seed %d locked in the Studio", v.Current.Seed))
}

func (v *Viewer) sendToImg2Img() {
	p := v.path()
	if p == "" {
		return
	}
	s := v.u.Studio
	s.SetInitImage(p)
	s.selectKind(KindSDXLBase)
	if strings.TrimSpace(s.Prompt.Text) == "" && v.Current != nil {
		s.Prompt.SetText(v.Current.Prompt)
	}
	v.Hide()
	v.u.Tabs.SelectIndex(0)
	v.u.setStatus("Using " + filepath.Base(p) + " as the init image")
}

func (v *Viewer) delete() {
	if v.Current == nil || v.Current.DeletedAt != nil {
		return
	}
	v.undoTrash.trash([]int64{v.Current.ID}, true, func() {
		v.u.History.afterViewerChange(func(src viewerSource) {
			v.src = src
			if v.src.Len() == 0 {
				v.Hide()
				return
			}
			v.show(min(v.Index, v.src.Len()-1))
		})
	})
}

func (v *Viewer) showBoardMenu() {
	if v.Current == nil {
		return
	}
	v.u.boardMenu(v.AddToBoard, func(name string) { v.AddTo(name) }, func() {
		v.u.newBoardDialog(func(name string) { v.AddTo(name) })
	}, nil)
}

// AddTo puts the shown image on board.
func (v *Viewer) AddTo(board string) {
	if v.Current == nil {
		return
	}
	id := v.Current.ID
	v.u.work(func() error {
		_, err := v.u.b.BoardAdd(v.u.ctx, board, id)
		return err
	}, func() {
		v.u.setStatus("Added to " + board)
		v.refreshCurrent()
		v.u.History.loadBoards()
	})
}

func (v *Viewer) showRemoveMenu() {
	if v.Current == nil || len(v.Current.Boards) == 0 {
		return
	}
	v.u.boardMenu(v.RemoveFromBoard, func(name string) { v.RemoveFrom(name) }, nil, v.Current.Boards)
}

// RemoveFrom takes the shown image off board.
func (v *Viewer) RemoveFrom(board string) {
	if v.Current == nil {
		return
	}
	id := v.Current.ID
	v.u.work(func() error {
		_, err := v.u.b.BoardRemove(v.u.ctx, board, id)
		return err
	}, func() {
		v.u.setStatus("Removed from " + board)
		v.refreshCurrent()
		v.u.History.loadBoards()
	})
}

// refreshCurrent re-reads the shown generation's boards.
func (v *Viewer) refreshCurrent() {
	if v.Current == nil {
		return
	}
	id := v.Current.ID
	go func() {
		g, err := v.u.b.Get(v.u.ctx, id)
		v.u.do(func() {
			if err == nil && v.Current != nil && v.Current.ID == id {
				v.Current.Boards = g.Boards
				v.showBoards()
			}
		})
	}()
}

// setEnabled enables or disables a button, select or other control.
func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
