package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// ZoomImage shows one image fitted to its area, at 100 % or at any zoom:
// the scroll wheel zooms around the pointer, dragging pans, a double click
// toggles fit and 100 %.
type ZoomImage struct {
	widget.BaseWidget

	img    image.Image
	raster *canvas.Image
	bg     *canvas.Rectangle
	clip   *container.Clip
	// Scale is the displayed size over the image size; 0 means fit.
	Scale float32
	// Offset pans the image from the centre of the area.
	Offset fyne.Position
	// OnChanged is told when the zoom changes (for a "100 %" label).
	OnChanged func()
	// OnTapped, when set, is called on a single click.
	OnTapped func()
}

// Zoom limits.
const (
	minZoom = 0.05
	maxZoom = 16
)

// NewZoomImage makes an empty viewer area.
func NewZoomImage() *ZoomImage {
	z := &ZoomImage{}
	z.raster = canvas.NewImageFromImage(nil)
	z.raster.FillMode = canvas.ImageFillStretch
	z.bg = canvas.NewRectangle(color.NRGBA{0x16, 0x17, 0x1a, 0xff})
	z.ExtendBaseWidget(z)
	return z
}

// SetImage shows img fitted to the area.
func (z *ZoomImage) SetImage(img image.Image) {
	z.img = img
	z.raster.Image = img
	z.Scale, z.Offset = 0, fyne.Position{}
	z.raster.Refresh()
	z.Refresh()
	z.changed()
}

// Image is the image shown.
func (z *ZoomImage) Image() image.Image { return z.img }

func (z *ZoomImage) imgSize() fyne.Size {
	if z.img == nil {
		return fyne.NewSize(1, 1)
	}
	b := z.img.Bounds()
	return fyne.NewSize(float32(b.Dx()), float32(b.Dy()))
}

// fitScale is the scale that fits the whole image in the area.
func (z *ZoomImage) fitScale() float32 {
	s, is := z.Size(), z.imgSize()
	if s.Width <= 0 || s.Height <= 0 {
		return 1
	}
	return float32(math.Min(float64(s.Width/is.Width), float64(s.Height/is.Height)))
}

// EffectiveScale is the scale in use (the fit scale when fitting).
func (z *ZoomImage) EffectiveScale() float32 {
	if z.Scale == 0 {
		return z.fitScale()
	}
	return z.Scale
}

// Fit fits the image to the area.
func (z *ZoomImage) Fit() {
	z.Scale, z.Offset = 0, fyne.Position{}
	z.Refresh()
	z.changed()
}

// SetScale zooms to s (1 = 100 %) around the centre.
func (z *ZoomImage) SetScale(s float32) {
	z.zoomAt(s, fyne.NewPos(z.Size().Width/2, z.Size().Height/2))
}

// zoomAt zooms to s keeping the image point under p where it is.
func (z *ZoomImage) zoomAt(s float32, p fyne.Position) {
	s = float32(math.Max(minZoom, math.Min(maxZoom, float64(s))))
	old := z.EffectiveScale()
	c := fyne.NewPos(z.Size().Width/2, z.Size().Height/2)
	// The image point under p: (p - c - offset) / old. Keep it under p.
	ix, iy := (p.X-c.X-z.Offset.X)/old, (p.Y-c.Y-z.Offset.Y)/old
	z.Scale = s
	z.Offset = fyne.NewPos(p.X-c.X-ix*s, p.Y-c.Y-iy*s)
	z.clamp()
	z.Refresh()
	z.changed()
}

// clamp keeps at least part of the image in view and centres an image
// smaller than the area.
func (z *ZoomImage) clamp() {
	s, d := z.Size(), z.displaySize()
	lim := func(off, area, img float32) float32 {
		if img <= area {
			return 0
		}
		m := (img - area) / 2
		return float32(math.Max(float64(-m), math.Min(float64(m), float64(off))))
	}
	z.Offset = fyne.NewPos(lim(z.Offset.X, s.Width, d.Width), lim(z.Offset.Y, s.Height, d.Height))
}

func (z *ZoomImage) displaySize() fyne.Size {
	is, sc := z.imgSize(), z.EffectiveScale()
	return fyne.NewSize(is.Width*sc, is.Height*sc)
}

// ImageRect is where the image is drawn, relative to the area.
func (z *ZoomImage) ImageRect() (fyne.Position, fyne.Size) {
	s, d := z.Size(), z.displaySize()
	return fyne.NewPos((s.Width-d.Width)/2+z.Offset.X, (s.Height-d.Height)/2+z.Offset.Y), d
}

func (z *ZoomImage) changed() {
	if z.OnChanged != nil {
		z.OnChanged()
	}
}

// Scrolled zooms around the pointer.
func (z *ZoomImage) Scrolled(e *fyne.ScrollEvent) {
	if z.img == nil {
		return
	}
	dy := e.Scrolled.DY
	if dy == 0 {
		return
	}
	f := float32(math.Pow(1.2, float64(dy)/10))
	if dy > 0 && f < 1.05 {
		f = 1.1
	} else if dy < 0 && f > 0.95 {
		f = 1 / 1.1
	}
	z.zoomAt(z.EffectiveScale()*f, e.Position)
}

// Dragged pans.
func (z *ZoomImage) Dragged(e *fyne.DragEvent) {
	z.Offset = z.Offset.Add(e.Dragged)
	z.clamp()
	z.Refresh()
}

// DragEnd ends a pan.
func (z *ZoomImage) DragEnd() {}

// Tapped passes a click on.
func (z *ZoomImage) Tapped(*fyne.PointEvent) {
	if z.OnTapped != nil {
		z.OnTapped()
	}
}

// DoubleTapped toggles fit and 100 % around the pointer.
func (z *ZoomImage) DoubleTapped(e *fyne.PointEvent) {
	if z.Scale == 0 {
		z.zoomAt(1, e.Position)
	} else {
		z.Fit()
	}
}

// MinSize is small: the viewer takes whatever room it gets.
func (z *ZoomImage) MinSize() fyne.Size { return fyne.NewSize(64, 64) }

func (z *ZoomImage) CreateRenderer() fyne.WidgetRenderer {
	z.clip = container.NewClip(container.NewWithoutLayout(z.raster))
	return &zoomRenderer{z: z, objects: []fyne.CanvasObject{z.bg, z.clip}}
}

type zoomRenderer struct {
	z       *ZoomImage
	objects []fyne.CanvasObject
}

func (r *zoomRenderer) Layout(s fyne.Size) {
	z := r.z
	z.bg.Resize(s)
	z.clip.Resize(s)
	z.clamp()
	pos, d := z.ImageRect()
	z.raster.Move(pos)
	z.raster.Resize(d)
	if z.EffectiveScale() >= 2 {
		z.raster.ScaleMode = canvas.ImageScalePixels
	} else {
		z.raster.ScaleMode = canvas.ImageScaleSmooth
	}
}

func (r *zoomRenderer) MinSize() fyne.Size           { return r.z.MinSize() }
func (r *zoomRenderer) Refresh()                     { r.Layout(r.z.Size()); canvas.Refresh(r.z.raster) }
func (r *zoomRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *zoomRenderer) Destroy()                     {}
