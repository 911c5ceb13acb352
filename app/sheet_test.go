package app

import (
	"image"
	"image/color"
	"image/draw"
	"reflect"
	"testing"
)

func solid(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func TestRenderSheetPlacesPicturesAndText(t *testing.T) {
	red, blue := color.RGBA{200, 10, 10, 255}, color.RGBA{10, 10, 200, 255}
	panels := []Panel{
		{Image: solid(64, 64, red), Lines: []string{"SDXL: base", "64x64, 3 steps"}},
		{Image: solid(64, 32, blue), Lines: []string{"Janus-Pro: tiny"}},
		{Lines: []string{"failed: boom"}, Failed: true},
	}
	sheet := RenderSheet(panels, SheetOptions{Title: "a red fox"})
	// Layout: 8 px margins, columns at least 160 px wide, the title line,
	// pictures 64 px high (the largest picture's side), two text lines.
	wantW := 8 + 3*(160+8)
	wantH := 8 + 16 + 64 + 4 + 2*16 + 8
	if b := sheet.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("sheet is %v, want %dx%d", b, wantW, wantH)
	}
	top := 8 + 16
	// First panel: centred in its 160 px column, unscaled.
	x0 := 8 + (160-64)/2
	if got := sheet.RGBAAt(x0+10, top+10); got != red {
		t.Fatalf("first picture pixel %v, want %v", got, red)
	}
	if got := sheet.RGBAAt(x0-1, top+10); got == red {
		t.Fatal("first picture drawn outside its box")
	}
	// Second panel: 64×32 keeps its aspect, centred vertically.
	x1 := 8 + 168 + (160-64)/2
	if got := sheet.RGBAAt(x1+5, top+16+5); got != blue {
		t.Fatalf("second picture pixel %v, want %v", got, blue)
	}
	if got := sheet.RGBAAt(x1+5, top+2); got == blue {
		t.Fatal("64x32 picture was stretched to a square")
	}
	// Third panel: an empty grey box.
	if got := sheet.RGBAAt(8+2*168+80, top+30); got != sheetEmpty {
		t.Fatalf("failed panel box %v, want %v", got, sheetEmpty)
	}
	// Text is drawn under the pictures: some dark pixels in the first
	// text line of panel one, red ink under the failed panel.
	if !anyPixel(sheet, image.Rect(8, top+68, 8+160, top+68+16), func(c color.RGBA) bool { return c == sheetInk }) {
		t.Fatal("no text under the first picture")
	}
	if !anyPixel(sheet, image.Rect(8+2*168, top+68, 8+2*168+160, top+68+16), func(c color.RGBA) bool { return c == sheetFail }) {
		t.Fatal("the failed panel's text is not red")
	}
}

func TestRenderSheetGridLabelsAndScaling(t *testing.T) {
	var panels []Panel
	for range 4 {
		panels = append(panels, Panel{Image: solid(512, 512, color.RGBA{0, 128, 0, 255}), Lines: []string{"x"}})
	}
	sheet := RenderSheet(panels, SheetOptions{Columns: 2, CellSize: 200, RowLabels: []string{"256x256", "512x512"},
		ColLabels: []string{"20 steps", "50 steps"}})
	labelW := 7*7 + 8
	wantW := 8 + labelW + 2*(200+8)
	wantH := 8 + 16 + 2*(200+4+16+8)
	if b := sheet.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("sheet is %v, want %dx%d", b, wantW, wantH)
	}
	// The 512 px pictures were scaled down to the 200 px cell.
	y := 8 + 16
	x := 8 + labelW
	if got := sheet.RGBAAt(x+199, y+199); got.G < 120 {
		t.Fatalf("cell corner %v: picture not scaled to fill the 200 px cell", got)
	}
	if got := sheet.RGBAAt(x+201, y+100); got.G == 128 && got.R == 0 {
		t.Fatal("picture spills past its cell")
	}
}

func anyPixel(img *image.RGBA, r image.Rectangle, ok func(color.RGBA) bool) bool {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ok(img.RGBAAt(x, y)) {
				return true
			}
		}
	}
	return false
}

func TestWrapAndASCII(t *testing.T) {
	got := wrapText("a red fox in the snow at dawn", 10)
	want := []string{"a red fox", "in the", "snow at", "dawn"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wrap = %q, want %q", got, want)
	}
	if got := wrapText("abcdefghijklmnop", 6); !reflect.DeepEqual(got, []string{"abcdef", "ghijkl", "mnop"}) {
		t.Fatalf("hard wrap = %q", got)
	}
	if got := asciiText("512×512 → 1024² — ok…\x1b"); got != "512x512 -> 1024^2 - ok...?" {
		t.Fatalf("ascii = %q", got)
	}
	if got := clipText("abcdefghij", 6); got != "abc..." {
		t.Fatalf("clip = %q", got)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		v     float64
		ticks []float64
	}{
		{100, []float64{0, 20, 40, 60, 80, 100}},
		{7.3, []float64{0, 2, 4, 6, 8}},
		{0.42, []float64{0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5}},
		{0, []float64{0, 1}},
	} {
		got, top := niceTicks(c.v)
		if !reflect.DeepEqual(got, c.ticks) || top != got[len(got)-1] {
			t.Errorf("niceTicks(%g) = %v top %g, want %v", c.v, got, top, c.ticks)
		}
	}
}

func TestRenderLineChartDrawsSeries(t *testing.T) {
	img := RenderLineChart([]Series{
		{Label: "sdxl 512x512", X: []float64{20, 50, 100}, Y: []float64{2, 5, 10}},
		{Label: "janus 384x384", Y: []float64{4}, Flat: true},
	}, ChartOptions{Title: "t", XLabel: "steps", YLabel: "seconds", Width: 640, Height: 400})
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 400 {
		t.Fatalf("chart is %v", b)
	}
	c0, c1 := chartPalette[0], chartPalette[1]
	count := func(c color.RGBA) int {
		n := 0
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i] == c.R && img.Pix[i+1] == c.G && img.Pix[i+2] == c.B {
				n++
			}
		}
		return n
	}
	// A line from (20,2) to (100,10) spans most of the plot: hundreds of
	// pixels, and the dashed Janus line half of the plot width.
	if n := count(c0); n < 400 {
		t.Fatalf("series 0 has %d pixels", n)
	}
	if n := count(c1); n < 200 {
		t.Fatalf("flat series has %d pixels", n)
	}
	// The last point (100 steps, 10 s) is the plot's top-right corner.
	left := 8 + 16 + textWidth("10") + 6
	right, top := 640-16, 8+32
	if !anyPixel(img, image.Rect(right-4, top-4, right+4, top+4), func(c color.RGBA) bool { return c == c0 }) {
		t.Fatal("no marker at (100 steps, 10 s)")
	}
	if anyPixel(img, image.Rect(left-3, top, left+3, top+5), func(c color.RGBA) bool { return c == c0 }) {
		t.Fatal("a marker at (0, 10 s) where there is no data")
	}
}
