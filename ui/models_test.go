package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

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

// catalogRow renders catalog card i as the list would and returns it and
// its action button.
func catalogRow(m *ModelsView, i int) (*modelCard, *widget.Button) {
	o := m.CatalogList.CreateItem()
	m.CatalogList.UpdateItem(i, o)
	c := o.(*modelCard)
	return c, c.Action
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

	c, b := catalogRow(m, 0)
	if c.Title.Text != "Stable Diffusion XL base 1.0 (sdxl-base)" || !strings.HasPrefix(c.Summary.Text, "SDXL base · about 6.9 GB") ||
		!strings.Contains(c.Details.Text, "Licence: CreativeML Open RAIL++-M\nNeeds: GPU with 8 GB") || c.Details.Visible() {
		t.Fatalf("card 0: %q / %q / %q (details shown %v)", c.Title.Text, c.Summary.Text, c.Details.Text, c.Details.Visible())
	}
	if b.Text != "Installed" || !b.Disabled() {
		t.Fatalf("installed model offers %q (disabled %v)", b.Text, b.Disabled())
	}
	if c, b := catalogRow(m, 2); b.Text != "Needs an export" || !b.Disabled() || !strings.Contains(c.Details.Text, "diptych models pull sdxl-refiner-export") {
		t.Fatalf("export-only row: %q / %q", c.Details.Text, b.Text)
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
	// The progress shows in the model's own card.
	if c, b := catalogRow(m, 1); b.Text != "Downloading…" || !b.Disabled() || !c.progress.Visible() || c.Bar.Value != 0.25 ||
		!strings.Contains(c.BarText.Text, "1.5 GB of 6.0 GB") {
		t.Fatalf("card during download: %q progress %v %v %q", b.Text, c.progress.Visible(), c.Bar.Value, c.BarText.Text)
	}
	if c, _ := catalogRow(m, 0); c.progress.Visible() {
		t.Fatal("progress shown in another card")
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

func TestJanusDtypePickerRemoveAndVerify(t *testing.T) {
	f := newFake(t)
	f.catalog = []CatalogModel{{Name: "janus-pro-1b", Title: "Janus-Pro 1B", Kind: KindJanus, Params: "1B", Size: 2_300_000_000,
		Downloadable: true, LicenseURL: "https://github.com/deepseek-ai/Janus/blob/main/LICENSE-MODEL",
		Variants: []CatalogVariant{
			{Name: "fp32", Note: "least risky", Size: 2_300_000_000, MemoryMB: 4300},
			{Name: "fp16", Note: "WebGPU demo", Size: 1_600_000_000, MemoryMB: 3300},
			{Name: "q4f16", Note: "smallest", Size: 900_000_000, MemoryMB: 2300}}}}
	f.diag = Diagnosis{OnCPU: true, Verdicts: []Verdict{{Model: "Janus-Pro-1B", Runs: "cpu", Text: "will run on the CPU"}}}
	var asked []string
	f.download = func(ctx context.Context, name string, p func(DownloadProgress)) error {
		asked = append(asked, name)
		return nil
	}
	f.models = f.models[:2] // SDXL only
	h := newHarness(t, f)
	m := h.u.Models
	h.waitFor(t, "catalog", func() bool { return len(m.CatalogModels()) == 1 })
	h.waitFor(t, "diagnosis", func() bool { return len(h.u.diag.Verdicts) == 1 })
	c, _ := catalogRow(m, 0)
	if !c.Variant.Visible() || len(c.Variant.Options) != 3 || c.Variant.Options[1] != "fp16 · 1.6 GB · ~3.5 GB memory" {
		t.Fatalf("dtype picker %v %q", c.Variant.Visible(), c.Variant.Options)
	}
	if !strings.Contains(c.Summary.Text, "runs here on the CPU") || !c.License.Visible() {
		t.Errorf("summary %q licence link %v", c.Summary.Text, c.License.Visible())
	}
	if !strings.Contains(c.Details.Text, "q4f16: smallest (900.0 MB download, ~2.4 GB memory)") {
		t.Errorf("details %q", c.Details.Text)
	}
	test.Tap(c.More)
	if c, _ := catalogRow(m, 0); !c.Details.Visible() || c.More.Text != "Less" {
		t.Error("More did not show the details")
	}
	c.Variant.SetSelectedIndex(1) // fp16
	test.Tap(c.Action)
	h.waitFor(t, "downloaded", func() bool { return m.Downloading() == "" && len(asked) == 1 })
	if asked[0] != "janus-pro-1b:fp16" {
		t.Fatalf("downloaded %q, want janus-pro-1b:fp16", asked[0])
	}

	// Verify and Remove on an installed card.
	o := m.List.CreateItem()
	m.List.UpdateItem(0, o)
	ic := o.(*modelCard)
	if ic.Title.Text != "sdxl-base" || !strings.HasPrefix(ic.Summary.Text, "SDXL base · 7.2 GB") || !ic.Verify.Visible() || !ic.Remove.Visible() {
		t.Fatalf("installed card %q %q", ic.Title.Text, ic.Summary.Text)
	}
	test.Tap(ic.Verify)
	h.waitFor(t, "verified", func() bool { return strings.Contains(m.LastVerify, "all match") })
	h.u.opts.NoDialogs = true
	f.verifyErr = errors.New("unet/model.onnx: checksum mismatch")
	m.VerifyModel("sdxl-base")
	h.waitFor(t, "verify error", func() bool {
		return strings.Contains(h.u.LastError, "verify sdxl-base: unet/model.onnx: checksum mismatch")
	})
	m.RemoveModel("sdxl-base")
	h.waitFor(t, "removed", func() bool {
		return !slices.ContainsFunc(m.models, func(x ModelInfo) bool { return x.Name == "sdxl-base" })
	})
	if f.removed[0] != "sdxl-base" {
		t.Errorf("removed %v", f.removed)
	}
}
