//go:build cgo

package desktop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"diptych/app"
	"diptych/engine/models"
	"diptych/ui"
)

// tinyHub poses as the Hugging Face Hub for one repository holding the tiny
// Janus demo model: the revision and tree endpoints of its API and resolve
// URLs with Range support. Files listed in missing answer 404.
type tinyHub struct {
	srv     *httptest.Server
	repo    string
	commit  string
	files   map[string][]byte
	missing map[string]bool
	mu      sync.Mutex
	served  int
}

func newTinyHub(t *testing.T) *tinyHub {
	t.Helper()
	root := filepath.Join("..", "..", "testdata", "janus", "tiny")
	h := &tinyHub{repo: "test/tiny-janus", commit: strings.Repeat("c0", 20), files: map[string][]byte{}, missing: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		h.files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil || len(h.files) == 0 {
		t.Fatalf("read the tiny Janus model in %s: %v", root, err)
	}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *tinyHub) serve(w http.ResponseWriter, r *http.Request) {
	api := "/api/models/" + h.repo
	switch {
	case strings.HasPrefix(r.URL.Path, api+"/revision/"):
		json.NewEncoder(w).Encode(map[string]string{"sha": h.commit})
	case strings.HasPrefix(r.URL.Path, api+"/tree/"):
		var list []map[string]any
		for p, b := range h.files {
			sum := sha256.Sum256(b)
			list = append(list, map[string]any{"type": "file", "path": p, "size": len(b), "oid": strings.Repeat("0", 40),
				"lfs": map[string]any{"oid": hex.EncodeToString(sum[:]), "size": len(b)}})
		}
		json.NewEncoder(w).Encode(list)
	case strings.HasPrefix(r.URL.Path, "/"+h.repo+"/resolve/"+h.commit+"/"):
		p := strings.TrimPrefix(r.URL.Path, "/"+h.repo+"/resolve/"+h.commit+"/")
		b, ok := h.files[p]
		if !ok || h.missing[p] {
			http.Error(w, "Entry not found", http.StatusNotFound)
			return
		}
		h.mu.Lock()
		h.served++
		h.mu.Unlock()
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(b))
	default:
		http.Error(w, "not found: "+r.URL.Path, http.StatusNotFound)
	}
}

// entry is a catalog entry for the fake repository, laid out as the real
// Janus entries are: support files plus the graphs of the default variant.
func (h *tinyHub) entry() models.CatalogEntry {
	e := models.CatalogEntry{Name: "tiny-janus", Title: "Tiny Janus (test)", Kind: models.KindJanus, Source: models.SourceHub,
		Repo: h.repo, Revision: h.commit, License: "MIT", Hardware: "any CPU", Variants: map[string][]models.CatalogFile{}}
	var graphs []models.CatalogFile
	for p, b := range h.files {
		f := models.CatalogFile{Path: p, Size: int64(len(b))}
		if strings.HasPrefix(p, "onnx/") {
			graphs = append(graphs, f)
		} else {
			e.Files = append(e.Files, f)
		}
	}
	e.Variants[models.JanusCombos()[0].Name] = graphs
	return e
}

func (h *tinyHub) size() int64 {
	var n int64
	for _, b := range h.files {
		n += int64(len(b))
	}
	return n
}

func downloadBackend(t *testing.T, h *tinyHub) *Backend {
	t.Helper()
	t.Setenv("HF_ENDPOINT", h.srv.URL)
	t.Setenv("HF_TOKEN", "")
	dir := t.TempDir()
	b, err := NewBackend(context.Background(), BackendOptions{Settings: app.DefaultSettings(), Engine: flatEngine{},
		ModelStore: models.NewStore(filepath.Join(dir, "data")), Library: filepath.Join(dir, "lib"),
		Catalog: []models.CatalogEntry{h.entry()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestDownloadFromTheHub(t *testing.T) {
	h := newTinyHub(t)
	b := downloadBackend(t, h)
	ctx := context.Background()
	cat, err := b.Catalog(ctx)
	if err != nil || len(cat) != 1 {
		t.Fatalf("catalog %+v, %v", cat, err)
	}
	if c := cat[0]; c.Name != "tiny-janus" || !c.Downloadable || c.Installed || c.Size != h.size() || c.License != "MIT" || c.Kind != ui.KindJanus {
		t.Fatalf("catalog entry %+v (want size %d)", c, h.size())
	}
	var events []ui.DownloadProgress
	if err := b.Download(ctx, "tiny-janus", func(p ui.DownloadProgress) { events = append(events, p) }); err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 {
		t.Fatal("no progress reported")
	}
	last := events[len(events)-1]
	if last.Total != h.size() || last.Done != h.size() {
		t.Fatalf("last progress %+v, want %d of %d bytes", last, h.size(), h.size())
	}
	ms, err := b.Models(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *ui.ModelInfo
	for i := range ms {
		if ms[i].Name == "tiny-janus" {
			found = &ms[i]
		}
	}
	if found == nil || found.Kind != ui.KindJanus || found.Problem != "" {
		t.Fatalf("downloaded model not listed: %+v", ms)
	}
	// Every file arrived intact.
	for p, want := range h.files {
		got, err := os.ReadFile(filepath.Join(found.Dir, filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, want %d (%v)", p, len(got), len(want), err)
		}
	}
	if cat, _ := b.Catalog(ctx); !cat[0].Installed {
		t.Fatal("catalog does not mark the download installed")
	}
}

func TestDownloadFailureNamesTheFile(t *testing.T) {
	h := newTinyHub(t)
	h.missing["onnx/lm_head.onnx"] = true
	b := downloadBackend(t, h)
	err := b.Download(context.Background(), "tiny-janus", nil)
	if err == nil || !strings.Contains(err.Error(), "lm_head.onnx") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("error %v, want one naming onnx/lm_head.onnx and the 404", err)
	}
	if ms, _ := b.Models(context.Background()); len(ms) != 0 {
		t.Fatalf("a failed download was registered: %+v", ms)
	}
	err = b.Download(context.Background(), "sdxl-turbo", nil)
	if err == nil || !strings.Contains(err.Error(), `"sdxl-turbo" is not in the model catalog (known: tiny-janus)`) {
		t.Fatalf("unknown name: %v", err)
	}
}

func TestDownloadCancel(t *testing.T) {
	h := newTinyHub(t)
	b := downloadBackend(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.Download(ctx, "tiny-janus", nil)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("cancelled download: %v", err)
	}
	if ms, _ := b.Models(context.Background()); len(ms) != 0 {
		t.Fatalf("a cancelled download was registered: %+v", ms)
	}
}
