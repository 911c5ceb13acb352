package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// ShortcutInfo is one line of Help → Shortcuts.
type ShortcutInfo struct{ Keys, What string }

// Shortcuts are the keyboard shortcuts, as the help dialog lists them.
var Shortcuts = []ShortcutInfo{
	{"Ctrl+Enter", "Generate (Studio) or compare (Compare)"},
	{"Esc", "Cancel the running generation; close the viewer"},
	{"Ctrl+1 … Ctrl+5", "Studio, Compare, History, Models, Settings"},
	{"Ctrl+F", "Search the history"},
	{"← → (or ↑ ↓)", "Previous / next image in the viewer"},
	{"+ / − or the scroll wheel", "Zoom in / out in the viewer"},
	{"0 / 1 or a double click", "Fit / 100 % in the viewer"},
	{"Drag", "Pan a zoomed image"},
	{"Delete", "Move the image in the viewer to the trash"},
	{"F1", "This list"},
}

// tabShortcuts are Ctrl+1..Ctrl+5.
var tabShortcuts = []*desktop.CustomShortcut{
	{KeyName: fyne.Key1, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.Key2, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.Key3, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.Key4, Modifier: fyne.KeyModifierShortcutDefault},
	{KeyName: fyne.Key5, Modifier: fyne.KeyModifierShortcutDefault},
}

// SearchShortcut is Ctrl+F.
var SearchShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}

// installShortcuts registers the window's shortcuts on its canvas.
func (u *UI) installShortcuts(c fyne.Canvas) {
	c.AddShortcut(GenerateShortcut, func(fyne.Shortcut) { u.generateHere() })
	for i, s := range tabShortcuts {
		c.AddShortcut(s, func(fyne.Shortcut) { u.SelectTab(i) })
	}
	c.AddShortcut(SearchShortcut, func(fyne.Shortcut) { u.FocusSearch() })
}

// Shortcut runs the app shortcut s; it reports whether s is one (focused
// entries pass theirs on through it).
func (u *UI) Shortcut(s fyne.Shortcut) bool {
	c, ok := s.(*desktop.CustomShortcut)
	if !ok || (c.Modifier != fyne.KeyModifierControl && c.Modifier != fyne.KeyModifierShortcutDefault) {
		return false
	}
	switch c.KeyName {
	case fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5:
		u.SelectTab(int(c.KeyName[0] - '1'))
	case fyne.KeyF:
		u.FocusSearch()
	case fyne.KeyReturn, fyne.KeyEnter:
		u.generateHere()
	default:
		return false
	}
	return true
}

// generateHere is Ctrl+Enter: compare on the Compare tab, else generate.
func (u *UI) generateHere() {
	if u.Tabs.SelectedIndex() == 1 {
		u.Compare.run()
		return
	}
	u.Studio.generate()
}

// SelectTab shows tab i (0 Studio … 4 Settings).
func (u *UI) SelectTab(i int) {
	if i >= 0 && i < len(u.Tabs.Items) {
		u.Viewer.Hide()
		u.Tabs.SelectIndex(i)
	}
}

// FocusSearch shows the History and puts the cursor in its search box.
func (u *UI) FocusSearch() {
	u.SelectTab(2)
	if u.win != nil {
		u.win.Canvas().Focus(u.History.Search)
	}
}

// TypedKey handles keys no focused widget took: the viewer's, Esc, F1.
func (u *UI) TypedKey(k *fyne.KeyEvent) {
	if u.Viewer.TypedKey(k) {
		return
	}
	switch k.Name {
	case fyne.KeyEscape:
		u.Studio.cancel()
	case fyne.KeyF1:
		u.ShowShortcuts()
	}
}

// ShortcutsContent is the body of Help → Shortcuts.
func ShortcutsContent() fyne.CanvasObject {
	var rows []fyne.CanvasObject
	for _, s := range Shortcuts {
		rows = append(rows, widget.NewLabelWithStyle(s.Keys, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}), widget.NewLabel(s.What))
	}
	return container.New(&twoColumns{}, rows...)
}

// ShowShortcuts opens Help → Shortcuts.
func (u *UI) ShowShortcuts() {
	if u.win == nil {
		return
	}
	dialog.ShowCustom("Keyboard shortcuts", "Close", ShortcutsContent(), u.win)
}

// twoColumns lays out key/description pairs with the key column as wide
// as its widest entry.
type twoColumns struct{}

func (twoColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w0, w1, h float32
	for i := 0; i+1 < len(objs); i += 2 {
		a, b := objs[i].MinSize(), objs[i+1].MinSize()
		w0, w1 = max(w0, a.Width), max(w1, b.Width)
		h += max(a.Height, b.Height)
	}
	return fyne.NewSize(w0+w1, h)
}

func (twoColumns) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	var w0 float32
	for i := 0; i+1 < len(objs); i += 2 {
		w0 = max(w0, objs[i].MinSize().Width)
	}
	var y float32
	for i := 0; i+1 < len(objs); i += 2 {
		h := max(objs[i].MinSize().Height, objs[i+1].MinSize().Height)
		objs[i].Move(fyne.NewPos(0, y))
		objs[i].Resize(fyne.NewSize(w0, h))
		objs[i+1].Move(fyne.NewPos(w0, y))
		objs[i+1].Resize(fyne.NewSize(s.Width-w0, h))
		y += h
	}
}
