package ui

import (
	"fmt"
	"reflect"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Clipped is a visible control that does not fit in what can be seen of
// it: the window, or the scroll area holding it.
type Clipped struct {
	What     string // "Button \"Generate\""
	Pos      fyne.Position
	Size     fyne.Size
	Viewport string
}

func (c Clipped) String() string {
	return fmt.Sprintf("%s at %.0f,%.0f size %.0f×%.0f outside %s", c.What, c.Pos.X, c.Pos.Y, c.Size.Width, c.Size.Height, c.Viewport)
}

type rect struct{ x0, y0, x1, y1 float32 }

func (r rect) String() string { return fmt.Sprintf("%.0f,%.0f–%.0f,%.0f", r.x0, r.y0, r.x1, r.y1) }

func (r rect) intersect(o rect) rect {
	return rect{max(r.x0, o.x0), max(r.y0, o.y0), min(r.x1, o.x1), min(r.y1, o.y1)}
}

// ClippedControls walks the visible view tree under root (the window
// content of size win) and lists every labelled control — buttons,
// selects, sliders, entries, checks, radio groups, labels with text — whose
// bounds are not inside the window and inside every scroll area above it.
// abs gives an object's absolute position (the driver's
// AbsolutePositionForObject). It descends through containers and the
// widgets the views nest (splits, tabs, scrolls, clips, hint and tap
// wrappers, forms); lists and grids are checked as wholes.
func ClippedControls(root fyne.CanvasObject, win fyne.Size, abs func(fyne.CanvasObject) fyne.Position) []Clipped {
	out, _ := walkControls(root, win, abs)
	return out
}

// CountControls counts the labelled controls ClippedControls looks at.
func CountControls(root fyne.CanvasObject) int {
	_, n := walkControls(root, fyne.NewSize(1e6, 1e6), func(fyne.CanvasObject) fyne.Position { return fyne.Position{} })
	return n
}

func walkControls(root fyne.CanvasObject, win fyne.Size, abs func(fyne.CanvasObject) fyne.Position) ([]Clipped, int) {
	var out []Clipped
	n := 0
	const slack = 1 // rounding
	var walk func(o fyne.CanvasObject, clip rect)
	walk = func(o fyne.CanvasObject, clip rect) {
		if o == nil || !o.Visible() {
			return
		}
		check := func(what string) {
			n++
			p, s := abs(o), o.Size()
			if s.Width <= 0 || s.Height <= 0 {
				return
			}
			if p.X < clip.x0-slack || p.Y < clip.y0-slack || p.X+s.Width > clip.x1+slack || p.Y+s.Height > clip.y1+slack {
				out = append(out, Clipped{What: what, Pos: p, Size: s, Viewport: clip.String()})
			}
		}
		switch x := o.(type) {
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c, clip)
			}
		case *container.Split:
			walk(x.Leading, clip)
			walk(x.Trailing, clip)
		case *container.AppTabs:
			if sel := x.Selected(); sel != nil {
				walk(sel.Content, clip)
			}
		case *container.Scroll:
			p, s := abs(x), x.Size()
			walk(x.Content, clip.intersect(rect{p.X, p.Y, p.X + s.Width, p.Y + s.Height}))
		case *container.Clip:
			walk(x.Content, clip)
		case *tipArea:
			walk(x.child, clip)
		case *tapArea:
			walk(x.child, clip)
		case *widget.Form:
			for _, it := range x.Items {
				walk(it.Widget, clip)
			}
		case *widget.Button:
			check(fmt.Sprintf("Button %q", x.Text))
		case *widget.Select:
			check(fmt.Sprintf("Select %q", x.Selected))
		case *widget.Slider:
			check("Slider")
		case *widget.Entry:
			check(fmt.Sprintf("Entry %q", x.PlaceHolder))
		case *keyEntry:
			check(fmt.Sprintf("Entry %q", x.PlaceHolder))
		case *widget.Check:
			check(fmt.Sprintf("Check %q", x.Text))
		case *widget.RadioGroup:
			check("RadioGroup")
		case *widget.Label:
			if x.Text == "" {
				return
			}
			if x.Wrapping != fyne.TextWrapOff {
				n++
				// Long wrapped text scrolls by design: its start must show.
				p := abs(o)
				if p.Y < clip.y0-slack || p.Y > clip.y1 || p.X < clip.x0-slack || p.X > clip.x1 {
					out = append(out, Clipped{What: fmt.Sprintf("Label %q", shorten(x.Text, 40)), Pos: p, Size: o.Size(), Viewport: clip.String()})
				}
				return
			}
			check(fmt.Sprintf("Label %q", shorten(x.Text, 40)))
		case *widget.List, *widget.GridWrap:
			check(reflect.TypeOf(o).Elem().Name())
		}
	}
	walk(root, rect{0, 0, win.Width, win.Height})
	return out, n
}
