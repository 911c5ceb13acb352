package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func testFiles() map[string][]byte {
	return map[string][]byte{
		"config.json":           []byte(`{"model_type":"test"}`),
		"tokenizer/vocab.json":  []byte(`{"a":0}`),
		"unet/model.onnx":       testBytes(3000, 1),
		"unet/model.onnx_data":  testBytes(100_000, 2),
		"vae_decoder/model.onx": testBytes(20_000, 3),
	}
}

func testDownloader(h *fakeHub) *Downloader {
	hub := h.hub()
	d := hub.Downloader()
	d.SplitSize = 16 << 10
	d.Connections = 4
	d.StallTimeout = 300 * time.Millisecond
	d.Backoff = func(int) time.Duration { return time.Millisecond }
	d.FreeSpace = func(string) (uint64, error) { return 1 << 40, nil }
	return d
}

func listSpecs(t *testing.T, h *fakeHub) []FileSpec {
	t.Helper()
	hub := h.hub()
	files, err := hub.List(context.Background(), h.repo, "main")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return hub.FileSpecs(h.repo, h.commit, files)
}

// checkTree asserts that dir holds exactly the files (plus the manifest).
func checkTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	got, err := folderFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p, b := range files {
		want = append(want, p)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(data, b) {
			t.Errorf("%s: content differs (err %v, %d bytes, want %d)", p, err, len(data), len(b))
		}
	}
	if len(got) != len(want) {
		t.Errorf("files = %v, want %d files", got, len(want))
	}
}

func TestHubListing(t *testing.T) {
	h := newFakeHub(t, testFiles())
	files, err := h.hub().List(context.Background(), h.repo, "main")
	if err != nil {
		t.Fatal(err)
	}
	if h.listCalls < 3 {
		t.Errorf("listing used %d pages, want pagination through several", h.listCalls)
	}
	byPath := map[string]RemoteFile{}
	for _, f := range files {
		byPath[f.Path] = f
	}
	if len(byPath) != 5 {
		t.Fatalf("listed %d files: %v", len(byPath), files)
	}
	big := byPath["unet/model.onnx_data"]
	if big.Size != 100_000 || big.SHA256 != sha256hex(testBytes(100_000, 2)) {
		t.Errorf("LFS entry = %+v", big)
	}
	small := byPath["config.json"]
	if small.SHA256 != "" || small.GitSHA1 != gitSHA1([]byte(`{"model_type":"test"}`)) {
		t.Errorf("git entry = %+v", small)
	}
	commit, err := h.hub().Commit(context.Background(), h.repo, "main")
	if err != nil || commit != h.commit {
		t.Errorf("Commit = %q, %v", commit, err)
	}
	inc, err := FilterFiles(files, []string{"unet/*", "*.json"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range inc {
		names = append(names, f.Path)
	}
	if want := []string{"config.json", "tokenizer/vocab.json", "unet/model.onnx", "unet/model.onnx_data"}; !reflect.DeepEqual(names, want) {
		t.Errorf("FilterFiles = %v, want %v", names, want)
	}
}

func TestHubErrors(t *testing.T) {
	h := newFakeHub(t, testFiles())
	ctx := context.Background()

	// Unknown repository: 404 with the Hub's message, not retried.
	_, err := h.hub().List(ctx, "acme/nothing", "main")
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(err.Error(), "Repository not found") {
		t.Errorf("404 listing: %v", err)
	}
	// Unknown revision.
	if _, err := h.hub().List(ctx, h.repo, "v9"); !errors.As(err, &he) || he.Status != 404 {
		t.Errorf("bad revision: %v", err)
	}

	// Gated repository: 401 without a token, fine with it.
	h.gated, h.token = true, "hf_secret"
	anon := h.hub()
	anon.Token = ""
	_, err = anon.List(ctx, h.repo, "main")
	if !errors.As(err, &he) || he.Status != 401 || !strings.Contains(err.Error(), "HF_TOKEN") || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("401 listing: %v", err)
	}
	if _, err := h.hub().List(ctx, h.repo, "main"); err != nil {
		t.Errorf("listing with token: %v", err)
	}

	// 429 and 5xx are retried.
	h.listFail = []int{429, 503, 500}
	if _, err := h.hub().List(ctx, h.repo, "main"); err != nil {
		t.Errorf("listing after 429/5xx: %v", err)
	}
	h.listFail = []int{502, 502, 502, 502, 502, 502}
	if _, err := h.hub().List(ctx, h.repo, "main"); !errors.As(err, &he) || he.Status != 502 {
		t.Errorf("listing with persistent 502: %v", err)
	}
}

func TestHubEnv(t *testing.T) {
	t.Setenv("HF_ENDPOINT", "https://mirror.example/")
	t.Setenv("HF_TOKEN", "hf_x")
	h := NewHub()
	if h.Endpoint != "https://mirror.example" || h.Token != "hf_x" || h.Host() != "mirror.example" {
		t.Errorf("NewHub = %+v", h)
	}
	if got := h.ResolveURL("a/b", "refs/pr/1", "unet/model 1.onnx"); got != "https://mirror.example/a/b/resolve/refs%2Fpr%2F1/unet/model%201.onnx" {
		t.Errorf("ResolveURL = %s", got)
	}
}

func TestDownloadComplete(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.gated, h.token = true, "hf_secret"
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	var mu sync.Mutex
	var events []Progress
	d.Progress = func(p Progress) { mu.Lock(); events = append(events, p); mu.Unlock() }
	d.ProgressInterval = time.Millisecond
	m := &Manifest{Repo: h.repo, Revision: h.commit, Source: "hub"}
	if err := d.Download(context.Background(), dest, listSpecs(t, h), m); err != nil {
		t.Fatalf("Download: %v", err)
	}
	checkTree(t, dest, files)
	if _, err := os.Stat(StagingDir(dest)); !os.IsNotExist(err) {
		t.Errorf("staging folder left behind: %v", err)
	}
	// The big file went over several ranged connections.
	reqs := h.fileRequests("unet/model.onnx_data")
	if len(reqs) != 4 {
		t.Errorf("requests for the big file = %v, want 4 ranges", reqs)
	}
	// The token went to the Hub but never to the CDN.
	for _, a := range h.cdnAuth {
		if a != "" {
			t.Errorf("CDN received Authorization %q", a)
		}
	}
	got, err := ReadManifest(filepath.Join(dest, ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != len(files) || got.Revision != h.commit {
		t.Errorf("manifest = %+v", got)
	}
	for _, f := range got.Files {
		if f.SHA256 != sha256hex(files[f.Path]) || f.Size != int64(len(files[f.Path])) {
			t.Errorf("manifest entry %+v wrong", f)
		}
	}
	last := events[len(events)-1]
	if last.Phase != PhaseDone || last.Done != last.Total || last.Total != 123_000+int64(len(files["config.json"])+len(files["tokenizer/vocab.json"])) {
		t.Errorf("last event = %+v", last)
	}
	var verified int
	for _, e := range events {
		if e.Phase == PhaseVerify {
			verified++
		}
		if e.Done > e.Total {
			t.Fatalf("event with done > total: %+v", e)
		}
	}
	if verified != len(files) {
		t.Errorf("%d verify events, want %d", verified, len(files))
	}
	// A second download to the same place refuses.
	if err := d.Download(context.Background(), dest, listSpecs(t, h), nil); !errors.Is(err, ErrExists) {
		t.Errorf("second Download = %v, want ErrExists", err)
	}
}

func TestDownloadResumesAfterDroppedConnection(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	f := h.fault("unet/model.onnx_data")
	f.dropAfter = []int64{5000, 100, 7000}
	h.fault("config.json").dropAfter = []int64{3}
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	if err := d.Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("Download: %v", err)
	}
	checkTree(t, dest, files)
	reqs := h.fileRequests("unet/model.onnx_data")
	if len(reqs) != 7 {
		t.Errorf("requests = %v, want 4 ranges + 3 resumptions", reqs)
	}
	// Each resumption asked only for the bytes still missing.
	if served := h.servedBytes("unet/model.onnx_data"); served != 100_000 {
		t.Errorf("server sent %d bytes for a 100000-byte file, want no byte twice", served)
	}
	resumed := 0
	for _, r := range reqs {
		var s, e int64
		fmt.Sscanf(strings.Fields(r)[2], "bytes=%d-%d", &s, &e)
		if s%25_000 != 0 {
			resumed++
		}
	}
	if resumed != 3 {
		t.Errorf("%d requests resumed mid-range, want 3: %v", resumed, reqs)
	}
}

func TestDownloadResumesAfterRestart(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	// The big file stalls after 30000 bytes of its first range; the first
	// process is cancelled (killed) meanwhile.
	h.fault("unet/model.onnx_data").stall = []int64{30_000}
	dest := filepath.Join(t.TempDir(), "model")
	ctx, cancel := context.WithCancel(context.Background())
	d := testDownloader(h)
	d.Connections = 1
	d.StallTimeout = time.Minute
	d.ProgressInterval = time.Millisecond
	d.Progress = func(p Progress) {
		if p.File == "unet/model.onnx_data" && p.FileDone >= 30_000 {
			cancel()
		}
	}
	err := d.Download(ctx, dest, listSpecs(t, h), nil)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("first Download = %v, want cancelled", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("destination exists after an interrupted download")
	}
	part := filepath.Join(StagingDir(dest), "unet", "model.onnx_data")
	st, err := loadPartState(part+partStateSuffix, FileSpec{Size: 100_000, SHA256: sha256hex(files["unet/model.onnx_data"])})
	if err != nil || st.done() != 30_000 {
		t.Fatalf("saved state: %+v, %v (want 30000 bytes done)", st, err)
	}

	// A new process (new Downloader) resumes from the saved state.
	d2 := testDownloader(h)
	d2.Connections = 1
	if err := d2.Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("second Download: %v", err)
	}
	checkTree(t, dest, files)
	reqs := h.fileRequests("unet/model.onnx_data")
	if last := reqs[len(reqs)-1]; !strings.HasSuffix(last, "bytes=30000-99999") {
		t.Errorf("resumed request = %q, want bytes=30000-99999 (all: %v)", last, reqs)
	}
	if served := h.servedBytes("unet/model.onnx_data"); served != 100_000 {
		t.Errorf("server sent %d bytes in all, want 100000", served)
	}
}

func TestDownloadStallRetried(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("vae_decoder/model.onx").stall = []int64{1000}
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	d.StallTimeout = 100 * time.Millisecond
	var retries []string
	var mu sync.Mutex
	d.Progress = func(p Progress) {
		if p.Phase == PhaseRetry {
			mu.Lock()
			retries = append(retries, p.Message)
			mu.Unlock()
		}
	}
	start := time.Now()
	if err := d.Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("Download: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("stall was not detected quickly")
	}
	checkTree(t, dest, files)
	if len(retries) != 1 || !strings.Contains(retries[0], "no data received") {
		t.Errorf("retry events = %v", retries)
	}
}

func TestDownloadHTTPStatusRetries(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("unet/model.onnx").statuses = []int{503, 429, 500}
	dest := filepath.Join(t.TempDir(), "model")
	if err := testDownloader(h).Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("Download: %v", err)
	}
	checkTree(t, dest, files)
	if n := len(h.fileRequests("unet/model.onnx")); n != 4 {
		t.Errorf("%d requests, want 3 failures + 1", n)
	}
}

func TestDownloadGivesUp(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("unet/model.onnx").statuses = []int{500, 500, 500, 500}
	h.fault("config.json").statuses = []int{404}
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	d.MaxRetries = 3
	err := d.Download(context.Background(), dest, listSpecs(t, h), nil)
	if err == nil {
		t.Fatal("Download succeeded")
	}
	for _, s := range []string{"2 of 5 files failed", "unet/model.onnx: giving up after 4 attempts", "HTTP 500", "config.json", "HTTP 404"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if n := len(h.fileRequests("config.json")); n != 1 {
		t.Errorf("404 was retried: %d requests", n)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("destination exists after a failed download")
	}
	// The finished files stay in staging and are not fetched again.
	before := len(h.fileRequests("unet/model.onnx_data"))
	if err := d.Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("second Download: %v", err)
	}
	checkTree(t, dest, files)
	if after := len(h.fileRequests("unet/model.onnx_data")); after != before {
		t.Errorf("a finished file was downloaded again")
	}
}

func TestDownloadChecksumMismatch(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("unet/model.onnx_data").corrupt = true
	h.fault("config.json").corrupt = true
	dest := filepath.Join(t.TempDir(), "model")
	err := testDownloader(h).Download(context.Background(), dest, listSpecs(t, h), nil)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("Download = %v, want a ChecksumError", err)
	}
	if ce.Path != "config.json" || ce.Algorithm != "git blob SHA-1" {
		t.Errorf("first mismatch = %+v", ce)
	}
	for _, s := range []string{"unet/model.onnx_data: SHA-256 mismatch", "expected " + sha256hex(files["unet/model.onnx_data"]), "deleted"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	staging := StagingDir(dest)
	for _, p := range []string{"unet/model.onnx_data", "unet/model.onnx_data.part", "config.json"} {
		if _, err := os.Stat(filepath.Join(staging, p)); !os.IsNotExist(err) {
			t.Errorf("%s kept after a mismatch", p)
		}
	}
	if _, err := os.Stat(filepath.Join(staging, "unet", "model.onnx")); err != nil {
		t.Errorf("good file not kept: %v", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("destination exists")
	}
}

func TestDownloadServerIgnoresRange(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("unet/model.onnx_data").noRange = true
	h.fault("unet/model.onnx_data").dropAfter = []int64{60_000, 60_000, 60_000, 60_000, 60_000}
	dest := filepath.Join(t.TempDir(), "model")
	if err := testDownloader(h).Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("Download: %v", err)
	}
	checkTree(t, dest, files)
}

// diskBudget is a file system that fills up after limit bytes.
type diskBudget struct {
	mu      sync.Mutex
	written int64
	limit   int64
}

// fullDisk is a partFile on a diskBudget: writes fail with ENOSPC once the
// budget is spent.
type fullDisk struct {
	*os.File
	disk *diskBudget
}

func (f *fullDisk) WriteAt(b []byte, off int64) (int, error) {
	f.disk.mu.Lock()
	defer f.disk.mu.Unlock()
	if f.disk.written+int64(len(b)) > f.disk.limit {
		return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	f.disk.written += int64(len(b))
	return f.File.WriteAt(b, off)
}

func TestDownloadDiskFull(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	disk := &diskBudget{limit: 40_000}
	d.openPart = func(p string) (partFile, error) {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		return &fullDisk{File: f, disk: disk}, err
	}
	err := d.Download(context.Background(), dest, listSpecs(t, h), nil)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Download = %v, want ErrDiskFull", err)
	}
	// It stopped at once: the file after the big one was never requested.
	if n := len(h.fileRequests("vae_decoder/model.onx")); n != 0 {
		t.Errorf("download went on after the disk filled up (%d requests)", n)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("destination exists")
	}
}

func TestDownloadFreeSpaceCheck(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	dest := filepath.Join(t.TempDir(), "model")
	d := testDownloader(h)
	d.FreeSpace = func(string) (uint64, error) { return 10 << 20, nil }
	err := d.Download(context.Background(), dest, listSpecs(t, h), nil)
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "10.5 MB free") {
		t.Fatalf("Download = %v, want ErrDiskFull before starting", err)
	}
	if len(h.requests) != 0 {
		t.Errorf("requests made despite too little space: %v", h.requests)
	}
}

func TestDownloadCancel(t *testing.T) {
	files := testFiles()
	h := newFakeHub(t, files)
	h.fault("unet/model.onnx_data").stall = []int64{10, 10, 10, 10}
	dest := filepath.Join(t.TempDir(), "model")
	ctx, cancel := context.WithCancel(context.Background())
	d := testDownloader(h)
	d.StallTimeout = time.Minute
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := d.Download(ctx, dest, listSpecs(t, h), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Download = %v, want context.Canceled", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Error("destination exists after cancel")
	}
	// Resume completes.
	if err := testDownloader(h).Download(context.Background(), dest, listSpecs(t, h), nil); err != nil {
		t.Fatalf("resume: %v", err)
	}
	checkTree(t, dest, files)
}

func TestEscapingPathsRejected(t *testing.T) {
	for _, bad := range []string{"../evil.onnx", "/etc/passwd", "unet/../../x", "a/./b", `..\x`, "C:/x", "", "unet/model.onnx.part", ManifestName} {
		if err := CheckPath(bad); err == nil {
			t.Errorf("CheckPath(%q) accepted", bad)
		}
	}
	for _, good := range []string{"unet/model.onnx", "a..b/c", ".gitattributes"} {
		if err := CheckPath(good); err != nil {
			t.Errorf("CheckPath(%q) = %v", good, err)
		}
	}
	for _, bad := range []string{"../outside.txt", "/tmp/abs.txt", "sub/../../up.txt"} {
		h := newFakeHub(t, testFiles())
		h.extra = []map[string]any{{"type": "file", "oid": "1", "size": 3, "path": bad}}
		_, err := h.hub().List(context.Background(), h.repo, "main")
		if err == nil || !strings.Contains(err.Error(), "rejected") {
			t.Errorf("listing with %q: %v", bad, err)
		}
	}
	// Download refuses such specs before touching the disk.
	dir := t.TempDir()
	dest := filepath.Join(dir, "model")
	err := (&Downloader{}).Download(context.Background(), dest, []FileSpec{{Path: "../x", URL: "http://127.0.0.1:1/x", Size: 1}}, nil)
	if err == nil || !strings.Contains(err.Error(), "escapes") {
		t.Errorf("Download(../x) = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Download created %v", entries)
	}
}

func TestDownloadUnknownSizeUsesHEAD(t *testing.T) {
	files := map[string][]byte{"archive.tgz": testBytes(50_000, 9)}
	h := newFakeHub(t, files)
	dest := filepath.Join(t.TempDir(), "dl")
	spec := FileSpec{Path: "archive.tgz", URL: h.hub().ResolveURL(h.repo, "main", "archive.tgz"), Size: -1,
		SHA256: sha256hex(files["archive.tgz"])}
	h.fault("archive.tgz").dropAfter = []int64{20_000}
	d := testDownloader(h)
	d.Connections = 1
	if err := d.Download(context.Background(), dest, []FileSpec{spec}, nil); err != nil {
		t.Fatalf("Download: %v", err)
	}
	checkTree(t, dest, files)
	reqs := h.fileRequests("archive.tgz")
	if len(reqs) < 3 || !strings.HasPrefix(reqs[0], http.MethodHead) || !strings.HasSuffix(reqs[len(reqs)-1], "bytes=20000-49999") {
		t.Errorf("requests = %v, want HEAD then ranged GETs resuming at 20000", reqs)
	}
}

// TestTrackerStopsBeforeDone: once the ticker is stopped no download event
// can follow, so "done" is always the last event a download sends (a ticker
// firing late used to land after it).
func TestTrackerStopsBeforeDone(t *testing.T) {
	for range 20 {
		var mu sync.Mutex
		var last Phase
		tr := newTracker(func(p Progress) { mu.Lock(); last = p.Phase; mu.Unlock() }, time.Microsecond)
		stop := tr.start()
		time.Sleep(200 * time.Microsecond)
		stop()
		tr.emit(Progress{Phase: PhaseDone})
		stop() // a second call (the deferred one) is harmless
		time.Sleep(500 * time.Microsecond)
		mu.Lock()
		got := last
		mu.Unlock()
		if got != PhaseDone {
			t.Fatalf("last event %q after done", got)
		}
	}
}
