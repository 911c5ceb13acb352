package app

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Text on sheets and charts uses the 7×13 bitmap font of golang.org/x/image:
// crisp at any size of picture and needing no font file.
const (
	glyphW   = 7
	glyphH   = 13
	lineH    = glyphH + 3
	sheetPad = 8
	// minCell is the narrowest a panel gets, so its labels stay readable
	// under tiny pictures.
	minCell = 160
	// maxCell is the default cap on a panel's picture size.
	maxCell = 512
)

var (
	sheetBG    = color.RGBA{0xf4, 0xf4, 0xf2, 0xff}
	sheetInk   = color.RGBA{0x20, 0x20, 0x20, 0xff}
	sheetMuted = color.RGBA{0x70, 0x70, 0x70, 0xff}
	sheetFail  = color.RGBA{0xb0, 0x20, 0x20, 0xff}
	sheetEmpty = color.RGBA{0xd8, 0xd8, 0xd4, 0xff}
)

// Panel is one picture of a sheet with the lines printed under it.
type Panel struct {
	Image image.Image // nil draws an empty box (a run that failed)
	Lines []string
	// Failed prints the lines in red.
	Failed bool
}

// SheetOptions shape a contact sheet.
type SheetOptions struct {
	Title string
	// Columns is the number of panels per row (0: all panels in one row).
	Columns int
	// CellSize is the longest side of every picture in pixels; pictures are
	// scaled (Lanczos) to fit it. 0 takes the largest picture's longest side,
	// capped at 512.
	CellSize int
	// RowLabels are printed left of each row, ColLabels above each column.
	RowLabels []string
	ColLabels []string
}

// RenderSheet draws panels in a grid on a light background: an optional
// title, column and row labels, each picture scaled to the cell and its lines
// (wrapped to the cell width) under it.
func RenderSheet(panels []Panel, o SheetOptions) *image.RGBA {
	cols := o.Columns
	if cols <= 0 || cols > len(panels) {
		cols = max(len(panels), 1)
	}
	rows := max((len(panels)+cols-1)/cols, 1)
	cell := o.CellSize
	if cell <= 0 {
		for _, p := range panels {
			if p.Image != nil {
				b := p.Image.Bounds()
				cell = max(cell, b.Dx(), b.Dy())
			}
		}
		cell = min(cell, maxCell)
	}
	cell = max(cell, 16)
	colW := max(cell, minCell)
	chars := (colW - 4) / glyphW

	// Wrap every panel's lines; each row is as tall as its tallest text.
	wrapped := make([][]string, len(panels))
	textH := make([]int, rows)
	for i, p := range panels {
		for _, l := range p.Lines {
			wrapped[i] = append(wrapped[i], wrapText(l, chars)...)
		}
		textH[i/cols] = max(textH[i/cols], len(wrapped[i])*lineH)
	}
	labelW := 0
	for _, l := range o.RowLabels {
		labelW = max(labelW, textWidth(l)+sheetPad)
	}
	top := sheetPad
	if o.Title != "" {
		top += len(wrapText(o.Title, 10000)) * lineH
	}
	if len(o.ColLabels) > 0 {
		top += lineH
	}
	width := sheetPad + labelW + cols*(colW+sheetPad)
	height := top
	for _, h := range textH {
		height += cell + 4 + h + sheetPad
	}
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(sheetBG), image.Point{}, draw.Src)

	y := sheetPad
	if o.Title != "" {
		for _, l := range wrapText(o.Title, (width-2*sheetPad)/glyphW) {
			drawText(dst, sheetPad, y, l, sheetInk)
			y += lineH
		}
	}
	x0 := sheetPad + labelW
	for c, l := range o.ColLabels {
		if c < cols {
			drawText(dst, x0+c*(colW+sheetPad), y, clipText(l, chars), sheetInk)
		}
	}
	y = top
	for r := range rows {
		if r < len(o.RowLabels) {
			drawText(dst, sheetPad, y+cell/2-glyphH/2, o.RowLabels[r], sheetInk)
		}
		for c := range cols {
			i := r*cols + c
			if i >= len(panels) {
				break
			}
			x := x0 + c*(colW+sheetPad)
			drawPicture(dst, image.Rect(x, y, x+colW, y+cell), panels[i].Image)
			ink := sheetInk
			if panels[i].Failed {
				ink = sheetFail
			}
			ty := y + cell + 4
			for k, l := range wrapped[i] {
				if k > 0 && !panels[i].Failed {
					ink = sheetMuted
				}
				drawText(dst, x+2, ty, l, ink)
				ty += lineH
			}
		}
		y += cell + 4 + textH[r] + sheetPad
	}
	return dst
}

// drawPicture scales img to fit box (keeping its aspect) and centres it; a
// nil image leaves a grey box.
func drawPicture(dst draw.Image, box image.Rectangle, img image.Image) {
	side := box.Dy()
	sq := image.Rect(box.Min.X+(box.Dx()-side)/2, box.Min.Y, box.Min.X+(box.Dx()-side)/2+side, box.Max.Y)
	if img == nil {
		draw.Draw(dst, sq, image.NewUniform(sheetEmpty), image.Point{}, draw.Src)
		return
	}
	w, h := fitSize(img.Bounds().Dx(), img.Bounds().Dy(), side)
	var scaled image.Image = img
	if w != img.Bounds().Dx() || h != img.Bounds().Dy() {
		scaled = imaging.Resize(img, w, h, imaging.Lanczos)
	}
	at := image.Pt(box.Min.X+(box.Dx()-w)/2, box.Min.Y+(side-h)/2)
	draw.Draw(dst, image.Rectangle{Min: at, Max: at.Add(image.Pt(w, h))}, scaled, scaled.Bounds().Min, draw.Src)
}

// fitSize scales w×h so that its longer side is side.
func fitSize(w, h, side int) (int, int) {
	if w <= 0 || h <= 0 {
		return side, side
	}
	if w >= h {
		return side, max(1, int(math.Round(float64(h)*float64(side)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(side)/float64(h)))), side
}

// asciiText replaces the characters the bitmap font lacks with ASCII look-alikes.
func asciiText(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '×':
			b.WriteByte('x')
		case r == '²':
			b.WriteString("^2")
		case r == '…':
			b.WriteString("...")
		case r == '—' || r == '–' || r == '→':
			if r == '→' {
				b.WriteString("->")
			} else {
				b.WriteByte('-')
			}
		case r == '±':
			b.WriteString("+/-")
		case r == 'µ':
			b.WriteByte('u')
		case r == '\t' || r == '\n':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// textWidth is the width of s in pixels.
func textWidth(s string) int { return len(asciiText(s)) * glyphW }

// drawText prints one line with its top at y.
func drawText(dst draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
	d.DrawString(asciiText(s))
}

// wrapText breaks s into lines of at most n characters, at spaces where it can.
func wrapText(s string, n int) []string {
	s = asciiText(s)
	n = max(n, 4)
	var out []string
	for len(s) > n {
		cut := strings.LastIndexByte(s[:n+1], ' ')
		if cut <= 0 {
			cut = n
		}
		out = append(out, strings.TrimRight(s[:cut], " "))
		s = strings.TrimLeft(s[cut:], " ")
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// clipText cuts s to n characters, ending with "..." when cut.
func clipText(s string, n int) string {
	s = asciiText(s)
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return s[:max(n, 0)]
	}
	return s[:n-3] + "..."
}

// Series is one line of a chart.
type Series struct {
	Label string
	X, Y  []float64
	// Flat draws a horizontal dashed reference line at Y[0] across the
	// whole chart (a model that has no step axis, e.g. Janus).
	Flat bool
}

// ChartOptions size and label a chart.
type ChartOptions struct {
	Title          string
	XLabel, YLabel string
	Width, Height  int // default 800×500
}

// chartPalette holds distinguishable line colours (Okabe–Ito).
var chartPalette = []color.RGBA{
	{0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0x00, 0x9e, 0x73, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x00, 0x00, 0xff}, {0xf0, 0xe4, 0x42, 0xff},
}

// RenderLineChart draws series as lines with markers on linear axes that
// start at zero, with ticks, axis labels, a title and a legend.
func RenderLineChart(series []Series, o ChartOptions) *image.RGBA {
	if o.Width <= 0 {
		o.Width = 800
	}
	if o.Height <= 0 {
		o.Height = 500
	}
	dst := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)

	xMax, yMax := 0.0, 0.0
	for _, s := range series {
		for i := range s.Y {
			if !s.Flat && i < len(s.X) {
				xMax = math.Max(xMax, s.X[i])
			}
			yMax = math.Max(yMax, s.Y[i])
		}
	}
	xTicks, xTop := niceTicks(xMax)
	yTicks, yTop := niceTicks(yMax)
	yLabelW := 0
	for _, t := range yTicks {
		yLabelW = max(yLabelW, textWidth(formatTick(t)))
	}
	left := sheetPad + lineH + yLabelW + 6
	right := o.Width - sheetPad*2
	top := sheetPad + 2*lineH
	bottom := o.Height - sheetPad - 2*lineH - 4
	if right-left < 20 || bottom-top < 20 {
		return dst // too small to draw in
	}
	px := func(x float64) int { return left + int(math.Round(x/xTop*float64(right-left))) }
	py := func(y float64) int { return bottom - int(math.Round(y/yTop*float64(bottom-top))) }
	grid := color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	for _, t := range yTicks {
		y := py(t)
		hline(dst, left, right, y, grid)
		s := formatTick(t)
		drawText(dst, left-6-textWidth(s), y-glyphH/2, s, sheetInk)
	}
	for _, t := range xTicks {
		x := px(t)
		vline(dst, x, top, bottom, grid)
		s := formatTick(t)
		drawText(dst, x-textWidth(s)/2, bottom+4, s, sheetInk)
	}
	hline(dst, left, right, bottom, sheetInk)
	vline(dst, left, top, bottom, sheetInk)
	if o.Title != "" {
		drawText(dst, (o.Width-textWidth(o.Title))/2, sheetPad, o.Title, sheetInk)
	}
	if o.XLabel != "" {
		drawText(dst, (left+right-textWidth(o.XLabel))/2, bottom+4+lineH, o.XLabel, sheetInk)
	}
	if o.YLabel != "" {
		drawText(dst, sheetPad, top-lineH-2, o.YLabel, sheetInk)
	}
	legendY := top + 4
	for i, s := range series {
		c := chartPalette[i%len(chartPalette)]
		if s.Flat {
			if len(s.Y) > 0 {
				y := py(s.Y[0])
				for x := left; x < right; x += 12 {
					thickLine(dst, x, y, min(x+6, right), y, c)
				}
			}
		} else {
			for k := range min(len(s.X), len(s.Y)) {
				x, y := px(s.X[k]), py(s.Y[k])
				if k > 0 {
					thickLine(dst, px(s.X[k-1]), py(s.Y[k-1]), x, y, c)
				}
				fillRect(dst, image.Rect(x-3, y-3, x+4, y+4), c)
			}
		}
		fillRect(dst, image.Rect(left+10, legendY+4, left+24, legendY+8), c)
		drawText(dst, left+30, legendY, s.Label, sheetInk)
		legendY += lineH
	}
	return dst
}

// niceTicks returns ticks 0, step, 2·step, ... covering v, with step 1, 2 or
// 5 times a power of ten, and the top of the axis.
func niceTicks(v float64) ([]float64, float64) {
	if !(v > 0) || math.IsInf(v, 0) {
		return []float64{0, 1}, 1
	}
	raw := v / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	n := int(math.Ceil(v/step - 1e-9))
	ticks := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		ticks = append(ticks, float64(i)*step)
	}
	return ticks, float64(n) * step
}

func formatTick(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%d", int64(v))
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func hline(dst *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x <= x1; x++ {
		dst.SetRGBA(x, y, c)
	}
}

func vline(dst *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y <= y1; y++ {
		dst.SetRGBA(x, y, c)
	}
}

func fillRect(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// thickLine draws a 2-pixel line (Bresenham).
func thickLine(dst *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		fillRect(dst, image.Rect(x0, y0, x0+2, y0+2), c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
