package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

var testCatalog = []CatalogModel{
	{Name: "sdxl-base", Title: "Stable Diffusion XL base 1.0", Kind: KindSDXLBase, Size: 6_900_000_000,
		License: "CreativeML Open RAIL++-M", Hardware: "GPU with 8 GB", Downloadable: true},
	{Name: "janus-pro-7b", Title: "Janus-Pro 7B", Kind: KindJanus, Params: "7B", Size: 6_000_000_000,
		License: "DeepSeek Model License", Hardware: "GPU with 16 GB", Downloadable: true},
	{Name: "sdxl-refiner-export", Title: "SDXL refiner 1.0", Kind: KindSDXLRefiner, License: "CreativeML Open RAIL++-M",
		Hardware: "GPU with 8 GB", Notes: "made from the PyTorch weights with tools/export_sdxl.py"},
}

// catalogRow renders catalog row i as the list would and returns its label
// and button.
func catalogRow(m *ModelsView, i int) (*widget.Label, *widget.Button) {
	o := m.CatalogList.CreateItem()
	m.CatalogList.UpdateItem(i, o)
	var l *widget.Label
	var b *widget.Button
	for _, ch := range o.(*fyne.Container).Objects {
		switch x := ch.(type) {
		case *widget.Label:
			l = x
		case *fyne.Container:
			b = x.Objects[0].(*widget.Button)
		}
	}
	return l, b
}

// gatedDownload reports 1.5 of 6 GB and waits for gate (or cancellation),
// then fails with fail if set.
func gatedDownload(gate chan struct{}, fail error) func(context.Context, string, func(DownloadProgress)) error {
	return func(ctx context.Context, name string, progress func(DownloadProgress)) error {
		progress(DownloadProgress{Phase: "download", File: "onnx/language_model.onnx_data", Done: 1_500_000_000, Total: 6_000_000_000,
			Speed: 25_000_000, ETA: 3 * time.Minute})
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return fail
	}
}

func TestModelDownloadShowsProgressAndAddsTheModel(t *testing.T) {
	f := newFake(t)
	f.catalog = testCatalog
	gate := make(chan struct{})
	f.download = gatedDownload(gate, nil)
	h := newHarness(t, f)
	m := h.u.Models
	h.waitFor(t, "catalog", func() bool { return len(m.CatalogModels()) == 3 })

	l, b := catalogRow(m, 0)
	if !strings.Contains(l.Text, "Stable Diffusion XL base 1.0 (sdxl-base) — SDXL base, about 6.9 GB") ||
		!strings.Contains(l.Text, "Licence: CreativeML Open RAIL++-M · Needs: GPU with 8 GB") {
		t.Fatalf("row 0: %q", l.Text)
	}
	if b.Text != "Installed" || !b.Disabled() {
		t.Fatalf("installed model offers %q (disabled %v)", b.Text, b.Disabled())
	}
	if l, b := catalogRow(m, 2); b.Text != "Needs an export" || !b.Disabled() || !strings.Contains(l.Text, "diptych models pull sdxl-refiner-export") {
		t.Fatalf("export-only row: %q / %q", l.Text, b.Text)
	}
	_, b = catalogRow(m, 1)
	if b.Disabled() || b.Text != "Download" {
		t.Fatalf("janus-pro-7b button %q disabled %v", b.Text, b.Disabled())
	}
	test.Tap(b)
	h.waitFor(t, "progress", func() bool { return strings.Contains(m.DownloadText.Text, "1.5 GB of 6.0 GB") })
	if got := m.DownloadText.Text; got != "Downloading janus-pro-7b: 1.5 GB of 6.0 GB · 25.0 MB/s · ETA 3:00 · onnx/language_model.onnx_data" {
		t.Fatalf("progress text %q", got)
	}
	if m.DownloadBar.Value != 0.25 || !m.dlBox.Visible() {
		t.Fatalf("bar %v visible %v", m.DownloadBar.Value, m.dlBox.Visible())
	}
	if _, b := catalogRow(m, 1); b.Text != "Downloading…" || !b.Disabled() {
		t.Fatalf("row during download: %q", b.Text)
	}
	close(gate)
	h.waitFor(t, "model installed", func() bool { return m.List.Length() == 4 && m.Downloading() == "" })
	if m.models[3].Name != "janus-pro-7b" || m.dlBox.Visible() || m.DownloadStatus.Visible() {
		t.Fatalf("after download: %+v, progress shown %v", m.models, m.dlBox.Visible())
	}
	h.waitFor(t, "catalog refreshed", func() bool { return m.CatalogModels()[1].Installed })
	if _, b := catalogRow(m, 1); b.Text != "Installed" {
		t.Fatalf("row after download: %q", b.Text)
	}
	h.waitFor(t, "studio picker", func() bool { return slices.Contains(h.u.Studio.Model.Options, "janus-pro-7b — Janus-Pro 7B") })
}

func TestModelDownloadCancel(t *testing.T) {
	f := newFake(t)
	f.catalog = testCatalog
	f.download = gatedDownload(make(chan struct{}), nil)
	h := newHarness(t, f)
	m := h.u.Models
	h.waitFor(t, "catalog", func() bool { return len(m.CatalogModels()) == 3 })
	m.StartDownload("janus-pro-7b")
	h.waitFor(t, "progress", func() bool { return m.DownloadBar.Value > 0 })
	test.Tap(m.CancelDownload)
	h.waitFor(t, "cancelled", func() bool { return m.Downloading() == "" })
	if !m.DownloadStatus.Visible() || !strings.Contains(m.DownloadStatus.Text, "janus-pro-7b was cancelled") || m.dlBox.Visible() {
		t.Fatalf("status %q", m.DownloadStatus.Text)
	}
	if h.u.LastError != "" || m.List.Length() != 3 {
		t.Fatalf("cancel reported an error %q or installed the model", h.u.LastError)
	}
	// The row can be downloaded again.
	if _, b := catalogRow(m, 1); b.Disabled() {
		t.Fatal("cannot restart the download")
	}
}

func TestModelDownloadErrorNamesWhatFailed(t *testing.T) {
	f := newFake(t)
	f.catalog = testCatalog
	gate := make(chan struct{})
	close(gate)
	f.download = gatedDownload(gate, errors.New("pull onnx-community/Janus-Pro-7B-ONNX@main: GET onnx/language_model.onnx_data: 404 Not Found"))
	h := newHarness(t, f)
	h.u.opts.NoDialogs = true
	m := h.u.Models
	h.waitFor(t, "catalog", func() bool { return len(m.CatalogModels()) == 3 })
	m.StartDownload("janus-pro-7b")
	h.waitFor(t, "failed", func() bool { return m.Downloading() == "" })
	want := "download janus-pro-7b: pull onnx-community/Janus-Pro-7B-ONNX@main: GET onnx/language_model.onnx_data: 404 Not Found"
	if h.u.LastError != want || !strings.Contains(m.DownloadStatus.Text, want) || !m.DownloadStatus.Visible() {
		t.Fatalf("error %q, status %q", h.u.LastError, m.DownloadStatus.Text)
	}
	if m.List.Length() != 3 {
		t.Fatal("a failed download added a model")
	}
}

func TestEmptyStateOpensTheCatalog(t *testing.T) {
	f := newFake(t)
	f.models = nil
	f.catalog = testCatalog
	h := newHarness(t, f)
	m := h.u.Models
	h.waitFor(t, "empty state", func() bool { return m.Empty.Visible() })
	test.Tap(findButton(m.Empty, "Download SDXL or Janus-Pro…"))
	h.waitFor(t, "catalog shown", func() bool { return !m.Empty.Visible() && m.listBox.Visible() && len(m.CatalogModels()) == 3 })
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{999: "999 B", 1000: "1.0 kB", 6_900_000_000: "6.9 GB", 25_000_000: "25.0 MB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
