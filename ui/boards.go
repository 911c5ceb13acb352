package ui

import (
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/gallery"
)

const newBoardItem = "New board…"

// checkBoardName says why name cannot be a new board ("" = it can): the
// gallery's rules plus a duplicate check against the boards known here.
// except is a board being renamed (its own name, in any case, is fine).
func (u *UI) checkBoardName(name, except string) error {
	n, err := gallery.ValidateBoardName(name)
	if err != nil {
		var ne *gallery.BoardNameError
		if errors.As(err, &ne) {
			return errors.New(ne.Reason)
		}
		return err
	}
	for _, b := range u.History.boards {
		if strings.EqualFold(b.Name, n) && !strings.EqualFold(b.Name, except) {
			return fmt.Errorf("a board called %q exists already", b.Name)
		}
	}
	return nil
}

// boardMenu pops up the boards (or only the names in only) under anchor;
// pick gets the chosen name, newBoard (if set) adds a "New board…" item.
func (u *UI) boardMenu(anchor fyne.CanvasObject, pick func(string), newBoard func(), only []string) {
	names := only
	if names == nil {
		for _, b := range u.History.boards {
			names = append(names, b.Name)
		}
	}
	var items []*fyne.MenuItem
	for _, n := range names {
		items = append(items, fyne.NewMenuItem(n, func() { pick(n) }))
	}
	if newBoard != nil {
		if len(items) > 0 {
			items = append(items, fyne.NewMenuItemSeparator())
		}
		items = append(items, fyne.NewMenuItem(newBoardItem, newBoard))
	}
	if u.win == nil || len(items) == 0 {
		return
	}
	c := u.win.Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(anchor).Add(fyne.NewPos(0, anchor.Size().Height))
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos)
}

// newBoardDialog asks for a board name (refusing bad ones with the reason
// as one types), creates the board and passes its name to done.
func (u *UI) newBoardDialog(done func(name string)) {
	e := widget.NewEntry()
	e.SetPlaceHolder("Storyboard, Keyframes, Client picks…")
	e.Validator = func(s string) error { return u.checkBoardName(s, "") }
	if u.win == nil {
		return
	}
	d := dialog.NewForm("New board", "Create", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Name", e)}, func(ok bool) {
			if ok {
				u.CreateBoard(e.Text, done)
			}
		}, u.win)
	d.Resize(fyne.NewSize(420, 180))
	d.Show()
	u.win.Canvas().Focus(e)
}

// CreateBoard makes a board, then calls done (if set) with its name.
func (u *UI) CreateBoard(name string, done func(name string)) {
	if err := u.checkBoardName(name, ""); err != nil {
		u.showError(fmt.Errorf("new board: %w", err))
		return
	}
	var b gallery.Board
	u.work(func() (err error) {
		b, err = u.b.CreateBoard(u.ctx, name)
		return err
	}, func() {
		u.setStatus("Created the board " + b.Name)
		u.History.loadBoards()
		if done != nil {
			done(b.Name)
		}
	})
}

// RenameBoard renames a board (the Board filter follows it).
func (u *UI) RenameBoard(old, name string) {
	if err := u.checkBoardName(name, old); err != nil {
		u.showError(fmt.Errorf("rename board %q: %w", old, err))
		return
	}
	n := strings.TrimSpace(name)
	u.work(func() error { return u.b.RenameBoard(u.ctx, old, n) }, func() {
		u.setStatus(fmt.Sprintf("Renamed the board %s to %s", old, n))
		if strings.EqualFold(u.History.BoardF.Selected, old) {
			u.History.wantBoard = n
		}
		u.History.loadBoards()
	})
}

// DeleteBoard removes a board; its images stay in the library.
func (u *UI) DeleteBoard(name string) {
	u.work(func() error { return u.b.DeleteBoard(u.ctx, name) }, func() {
		u.setStatus("Deleted the board " + name + " (its images stay in the library)")
		if strings.EqualFold(u.History.BoardF.Selected, name) {
			u.History.wantBoard = allFilter
		}
		u.History.loadBoards()
	})
}

// showBoardsDialog lists the boards with their counts, to create, rename
// and delete them.
func (u *UI) showBoardsDialog() {
	if u.win == nil {
		return
	}
	h := u.History
	var d dialog.Dialog
	list := widget.NewList(func() int { return len(h.boards) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, nil,
				container.NewHBox(widget.NewButtonWithIcon("Rename", theme.DocumentCreateIcon(), nil),
					widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), nil)),
				widget.NewLabel(""))
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(h.boards) {
				return
			}
			b := h.boards[i]
			c := o.(*fyne.Container)
			c.Objects[0].(*widget.Label).SetText(fmt.Sprintf("%s — %d image(s)", b.Name, b.Count))
			btns := c.Objects[1].(*fyne.Container).Objects
			btns[0].(*widget.Button).OnTapped = func() { u.renameBoardDialog(b.Name) }
			btns[1].(*widget.Button).OnTapped = func() {
				dialog.ShowConfirm("Delete the board "+b.Name+"?",
					fmt.Sprintf("The board goes; its %d image(s) stay in the library.", b.Count),
					func(yes bool) {
						if yes {
							u.DeleteBoard(b.Name)
						}
					}, u.win)
			}
		})
	h.onBoards = list.Refresh
	empty := widget.NewLabel("No boards yet. A board collects images: shots for a storyboard, keyframes, picks for a client.")
	empty.Wrapping = fyne.TextWrapWord
	add := widget.NewButtonWithIcon(newBoardItem, theme.ContentAddIcon(), func() { u.newBoardDialog(nil) })
	add.Importance = widget.HighImportance
	content := container.NewBorder(empty, add, nil, nil, list)
	if len(h.boards) > 0 {
		empty.Hide()
	}
	d = dialog.NewCustom("Boards", "Close", content, u.win)
	d.SetOnClosed(func() { h.onBoards = nil })
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
}

func (u *UI) renameBoardDialog(old string) {
	e := widget.NewEntry()
	e.SetText(old)
	e.Validator = func(s string) error { return u.checkBoardName(s, old) }
	d := dialog.NewForm("Rename "+old, "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("New name", e)},
		func(ok bool) {
			if ok {
				u.RenameBoard(old, e.Text)
			}
		}, u.win)
	d.Resize(fyne.NewSize(420, 180))
	d.Show()
}
