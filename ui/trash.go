package ui

import (
	"fmt"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// trashUndo moves images to the trash and brings the last ones back: the
// one "Undo delete" of the History view and of the viewer.
type trashUndo struct {
	u      *UI
	Button *widget.Button
	ids    []int64
}

func newTrashUndo(u *UI, after func()) *trashUndo {
	t := &trashUndo{u: u}
	t.Button = widget.NewButtonWithIcon("Undo delete", theme.ContentUndoIcon(), func() { t.undo(after) })
	t.Button.Hide()
	return t
}

// trash moves ids to the trash; keep adds them to the ones Undo restores
// instead of replacing them. after runs on the UI goroutine once done.
func (t *trashUndo) trash(ids []int64, keep bool, after func()) {
	if len(ids) == 0 {
		return
	}
	t.u.work(func() error { return t.u.b.Delete(t.u.ctx, ids...) }, func() {
		if keep {
			t.ids = append(t.ids, ids...)
		} else {
			t.ids = append([]int64(nil), ids...)
		}
		t.Button.Show()
		if len(ids) == 1 {
			t.u.setStatus("Moved to the trash — Undo to restore")
		} else {
			t.u.setStatus(fmt.Sprintf("Moved %d images to the trash — Undo to restore", len(ids)))
		}
		after()
	})
}

func (t *trashUndo) undo(after func()) {
	ids := t.ids
	if len(ids) == 0 {
		return
	}
	t.u.work(func() error { return t.u.b.Restore(t.u.ctx, ids...) }, func() {
		t.forget()
		t.u.setStatus("Restored")
		after()
	})
}

// forget drops what Undo would restore (the trash was emptied, or another
// list is shown).
func (t *trashUndo) forget() {
	t.ids = nil
	t.Button.Hide()
}
