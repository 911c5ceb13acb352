package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Hints is the status-bar line that shows the tooltip of the control under
// the mouse (Fyne has no floating tooltips; a hint line never covers the
// control or steals its clicks).
type Hints struct {
	Label *widget.Label
	tips  map[fyne.CanvasObject]string
}

func newHints() *Hints {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	return &Hints{Label: l, tips: map[fyne.CanvasObject]string{}}
}

// Tip returns the tooltip registered for obj.
func (h *Hints) Tip(obj fyne.CanvasObject) string { return h.tips[obj] }

// With wraps obj so that hovering it shows tip in the hint line. Taps and
// drags reach obj unchanged; hover events are forwarded to it.
func (h *Hints) With(obj fyne.CanvasObject, tip string) fyne.CanvasObject {
	h.tips[obj] = tip
	t := &tipArea{child: obj, tip: tip, hints: h}
	t.ExtendBaseWidget(t)
	return t
}

type tipArea struct {
	widget.BaseWidget
	child fyne.CanvasObject
	tip   string
	hints *Hints
}

func (t *tipArea) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.child) }

func (t *tipArea) MouseIn(e *desktop.MouseEvent) {
	t.hints.Label.SetText(t.tip)
	if h, ok := t.child.(desktop.Hoverable); ok {
		h.MouseIn(e)
	}
}

func (t *tipArea) MouseMoved(e *desktop.MouseEvent) {
	if h, ok := t.child.(desktop.Hoverable); ok {
		h.MouseMoved(e)
	}
}

func (t *tipArea) MouseOut() {
	if t.hints.Label.Text == t.tip {
		t.hints.Label.SetText("")
	}
	if h, ok := t.child.(desktop.Hoverable); ok {
		h.MouseOut()
	}
}

// Cursor keeps the child's mouse cursor (an I-beam over entries).
func (t *tipArea) Cursor() desktop.Cursor {
	if c, ok := t.child.(desktop.Cursorable); ok {
		return c.Cursor()
	}
	return desktop.DefaultCursor
}

// keyEntry is an Entry that passes Ctrl+Enter and Esc to the window's
// actions (a focused Entry swallows shortcuts otherwise).
type keyEntry struct {
	widget.Entry
	onGenerate func()
	onCancel   func()
	// onShortcut gets the app's shortcuts (Ctrl+1..5, Ctrl+F), which a
	// focused entry would swallow otherwise.
	onShortcut func(fyne.Shortcut) bool
}

func newKeyEntry(multiLine bool) *keyEntry {
	e := &keyEntry{}
	e.MultiLine = multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapWord
	}
	e.ExtendBaseWidget(e)
	return e
}

func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if isGenerateShortcut(s) && e.onGenerate != nil {
		e.onGenerate()
		return
	}
	if _, custom := s.(*desktop.CustomShortcut); custom && !isGenerateShortcut(s) && e.onShortcut != nil && e.onShortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.onCancel != nil {
		e.onCancel()
		return
	}
	e.Entry.TypedKey(k)
}

// GenerateShortcut is Ctrl+Enter.
var GenerateShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}

func isGenerateShortcut(s fyne.Shortcut) bool {
	c, ok := s.(*desktop.CustomShortcut)
	return ok && (c.KeyName == fyne.KeyReturn || c.KeyName == fyne.KeyEnter) &&
		(c.Modifier == fyne.KeyModifierControl || c.Modifier == fyne.KeyModifierShortcutDefault)
}

// newSlider makes a slider with a value label that follows it.
func newSlider(min, max, step, value float64, format func(float64) string) (*widget.Slider, *widget.Label) {
	s := widget.NewSlider(min, max)
	s.Step = step
	l := widget.NewLabel(format(value))
	s.OnChanged = func(v float64) { l.SetText(format(v)) }
	s.SetValue(value)
	return s, l
}

// progressText is "denoise 12/30 · 3.4 it/s · ETA 0:05".
func progressText(p Progress) string {
	parts := []string{fmt.Sprintf("%s %d/%d", p.Stage, p.Step, p.Total)}
	unit := "it/s"
	if p.Stage == "tokens" {
		unit = "tok/s"
	}
	if p.Rate > 0 {
		parts = append(parts, fmt.Sprintf("%.2f %s", p.Rate, unit))
	}
	if p.ETA > 0 {
		parts = append(parts, "ETA "+clock(p.ETA))
	}
	if p.Elapsed > 0 {
		parts = append(parts, "elapsed "+clock(p.Elapsed))
	}
	return strings.Join(parts, " · ")
}

// clock is m:ss (or h:mm:ss).
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// tapArea makes any object clickable (an image that opens the viewer).
type tapArea struct {
	widget.BaseWidget
	child fyne.CanvasObject
	fn    func()
}

func newTapArea(child fyne.CanvasObject, fn func()) *tapArea {
	t := &tapArea{child: child, fn: fn}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tapArea) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(t.child) }

func (t *tapArea) Tapped(*fyne.PointEvent) {
	if t.fn != nil {
		t.fn()
	}
}

// Cursor is the pointing hand: the area opens something.
func (t *tapArea) Cursor() desktop.Cursor { return desktop.PointerCursor }

// fieldLabelWidth is the width of the label column of the control rows.
const fieldLabelWidth = 106

// field is one labelled control row: the label in a fixed column, the
// control, and (if set) its value or buttons on the right.
func field(label string, control, value fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabel(label)
	l.Truncation = fyne.TextTruncateEllipsis
	if vl, ok := value.(*widget.Label); ok {
		vl.Alignment = fyne.TextAlignTrailing
		value = container.New(fixedWidth(64), vl)
	}
	return container.NewBorder(nil, nil, container.New(fixedWidth(fieldLabelWidth), l), value, control)
}

func boldLabel(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}

// fixedWidth lays out its objects stacked at a fixed width.
type fixedWidth float32

func (w fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	shown := false
	for _, o := range objs {
		if o.Visible() {
			shown = true
			h = max(h, o.MinSize().Height)
		}
	}
	if !shown {
		return fyne.Size{}
	}
	return fyne.NewSize(float32(w), h)
}

func (w fixedWidth) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(s)
	}
}
