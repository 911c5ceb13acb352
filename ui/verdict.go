package ui

import (
	"fmt"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"diptych/engine/format"
	"diptych/gallery"
)

// engineName is how the views name an engine.
func engineName(g gallery.Generation) string {
	switch g.Engine {
	case EngineJanus:
		return "Janus-Pro"
	case EngineSDXL:
		return "SDXL"
	}
	if g.Model != "" {
		return g.Model
	}
	return g.Engine
}

// CompareVerdict says in words which of a pair was faster, by how much,
// and how much less memory it used: "Janus-Pro was 4.2× faster (5.1 s vs
// 21.4 s) and used 2.1 GB less memory". "" when a time is missing.
func CompareVerdict(a, b gallery.Generation) string {
	ta, tb := totalTime(a), totalTime(b)
	if ta <= 0 || tb <= 0 {
		return ""
	}
	fast, slow, tf, ts := a, b, ta, tb
	if tb < ta {
		fast, slow, tf, ts = b, a, tb, ta
	}
	var s string
	if float64(ts)/float64(tf) < 1.05 {
		s = fmt.Sprintf("%s and %s took about as long (%s vs %s)", engineName(fast), engineName(slow), format.Duration(tf), format.Duration(ts))
	} else {
		s = fmt.Sprintf("%s was %s faster (%s vs %s)", engineName(fast), format.Ratio(float64(ts), float64(tf)),
			format.Duration(tf), format.Duration(ts))
	}
	mf, ms := fast.PeakMemoryBytes, slow.PeakMemoryBytes
	switch {
	case mf <= 0 || ms <= 0:
	case math.Abs(float64(mf-ms)) < 0.05*float64(max(mf, ms)):
		s += " and used about the same memory (" + format.Bytes(mf) + ")"
	case mf < ms:
		s += " and used " + format.Bytes(ms-mf) + " less memory"
	default:
		s += " but used " + format.Bytes(mf-ms) + " more memory"
	}
	return s
}

// VerdictChart is the small bar chart under a compare pair: time and peak
// memory, one bar per engine, scaled to the larger of the two.
type VerdictChart struct {
	Rows    []VerdictBar
	content *fyne.Container
}

// VerdictBar is one bar.
type VerdictBar struct {
	Label string  // "Time · SDXL"
	Value string  // "21.4 s"
	Frac  float32 // of the longest bar
}

func newVerdictChart() *VerdictChart {
	return &VerdictChart{content: container.NewGridWithColumns(2)}
}

// Set draws the bars for a and b.
func (c *VerdictChart) Set(a, b gallery.Generation) {
	c.Rows = nil
	ta, tb := totalTime(a), totalTime(b)
	if ta > 0 && tb > 0 {
		m := float32(max(ta, tb))
		c.Rows = append(c.Rows,
			VerdictBar{engineName(a), format.Duration(ta), float32(ta) / m},
			VerdictBar{engineName(b), format.Duration(tb), float32(tb) / m})
	}
	ma, mb := a.PeakMemoryBytes, b.PeakMemoryBytes
	if ma > 0 && mb > 0 {
		m := float32(max(ma, mb))
		c.Rows = append(c.Rows,
			VerdictBar{engineName(a), format.Bytes(ma), float32(ma) / m},
			VerdictBar{engineName(b), format.Bytes(mb), float32(mb) / m})
	}
	c.content.Objects = nil
	// Two columns: time on the left, memory on the right, one row per
	// engine.
	var order []int
	if len(c.Rows) == 4 {
		c.content.Add(boldLabel("Time"))
		c.content.Add(boldLabel("Peak memory"))
		order = []int{0, 2, 1, 3}
	} else {
		for i := range c.Rows {
			order = append(order, i)
		}
	}
	for _, i := range order {
		r := c.Rows[i]
		col := theme.Color(theme.ColorNamePrimary)
		if i%2 == 1 {
			col = color.NRGBA{0xe0, 0x8a, 0x3c, 0xff}
		}
		bar := canvas.NewRectangle(col)
		bar.CornerRadius = 3
		value := widget.NewLabel(r.Value)
		value.Alignment = fyne.TextAlignTrailing
		c.content.Add(field(r.Label, container.New(barLayout{r.Frac}, bar), value))
	}
	c.content.Refresh()
}

// Clear removes the bars.
func (c *VerdictChart) Clear() {
	c.Rows = nil
	c.content.Objects = nil
	c.content.Refresh()
}

// barLayout draws its object frac of the width, vertically centred.
type barLayout struct{ frac float32 }

func (l barLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(40, 14) }

func (l barLayout) Layout(objs []fyne.CanvasObject, s fyne.Size) {
	h := min(s.Height, 14)
	for _, o := range objs {
		o.Move(fyne.NewPos(0, (s.Height-h)/2))
		o.Resize(fyne.NewSize(max(2, s.Width*l.frac), h))
	}
}
