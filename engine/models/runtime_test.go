package models

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

type tarEntry struct {
	name, link string
	data       []byte
}

func makeTgz(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Size: int64(len(e.data)), Typeflag: tar.TypeReg}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

func ortArchive(t *testing.T, extra ...tarEntry) []byte {
	top := "onnxruntime-linux-x64-gpu-1.24.1/"
	entries := []tarEntry{
		{name: top},
		{name: top + "LICENSE", data: []byte("MIT License")},
		{name: top + "ThirdPartyNotices.txt", data: []byte("notices")},
		{name: top + "include/onnxruntime_c_api.h", data: []byte("/* api */")},
		{name: top + "lib/"},
		{name: top + "lib/libonnxruntime.so.1.24.1", data: []byte("\x7fELF main library")},
		{name: top + "lib/libonnxruntime.so.1", link: "libonnxruntime.so.1.24.1"},
		{name: top + "lib/libonnxruntime.so", link: "libonnxruntime.so.1"},
		{name: top + "lib/libonnxruntime_providers_cuda.so", data: []byte("\x7fELF cuda provider")},
		{name: top + "lib/libonnxruntime_providers_shared.so", data: []byte("\x7fELF shared")},
		{name: top + "lib/libonnxruntime_providers_tensorrt.so", data: []byte("\x7fELF trt")},
		{name: top + "lib/cmake/onnxruntime/onnxruntimeConfig.cmake", data: []byte("cmake")},
	}
	return makeTgz(t, append(entries, extra...))
}

// releaseServer serves an archive the way GitHub releases do: a redirect
// from the release URL to an object store.
func releaseServer(t *testing.T, archive []byte) (string, *int) {
	var downloads int
	mux := http.NewServeMux()
	mux.HandleFunc("/microsoft/onnxruntime/releases/download/v1.24.1/onnxruntime-linux-x64-gpu-1.24.1.tgz", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/objects/ort.tgz?sig=1", http.StatusFound)
	})
	mux.HandleFunc("/objects/ort.tgz", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			downloads++
		}
		http.ServeContent(w, r, "ort.tgz", time.Time{}, bytes.NewReader(archive))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/microsoft/onnxruntime/releases/download/v1.24.1/onnxruntime-linux-x64-gpu-1.24.1.tgz", &downloads
}

func TestInstallRuntime(t *testing.T) {
	archive := ortArchive(t)
	url, downloads := releaseServer(t, archive)
	lib := t.TempDir()
	rel := RuntimeRelease{Version: "1.24.1", URL: url, SHA256: sha256hex(archive)}
	inst, err := InstallRuntime(context.Background(), &Downloader{}, rel, lib)
	if err != nil {
		t.Fatalf("InstallRuntime: %v", err)
	}
	dir := RuntimeDir(lib, "1.24.1")
	if inst.Dir != dir || inst.Library != filepath.Join(dir, "libonnxruntime.so.1.24.1") ||
		!reflect.DeepEqual(inst.Providers, []string{"cuda", "shared", "tensorrt"}) {
		t.Errorf("install = %+v", inst)
	}
	wantFiles := []string{"LICENSE", "ThirdPartyNotices.txt", "libonnxruntime.so", "libonnxruntime.so.1", "libonnxruntime.so.1.24.1",
		"libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so", "libonnxruntime_providers_tensorrt.so"}
	if !reflect.DeepEqual(inst.Files, wantFiles) {
		t.Errorf("files = %v", inst.Files)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "libonnxruntime.so.1")); err != nil || string(b) != "\x7fELF main library" {
		t.Errorf("symlink libonnxruntime.so.1: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(lib, "downloads")); err == nil {
		if e, _ := os.ReadDir(filepath.Join(lib, "downloads")); len(e) != 0 {
			t.Errorf("download folder left: %v", e)
		}
	}
	if got := InstalledRuntimes(lib); len(got) != 1 || got[0].Library != inst.Library {
		t.Errorf("InstalledRuntimes = %+v", got)
	}
	// Installing again does nothing.
	if _, err := InstallRuntime(context.Background(), &Downloader{}, rel, lib); err != nil || *downloads != 1 {
		t.Errorf("second install: %v, %d downloads", err, *downloads)
	}
}

func TestInstallRuntimeRejects(t *testing.T) {
	ctx := context.Background()
	archive := ortArchive(t)
	url, _ := releaseServer(t, archive)

	lib := t.TempDir()
	_, err := InstallRuntime(ctx, &Downloader{}, RuntimeRelease{Version: "1.24.1", URL: url}, lib)
	if err == nil || !strings.Contains(err.Error(), "no SHA-256 pinned") {
		t.Errorf("no checksum: %v", err)
	}
	_, err = InstallRuntime(ctx, &Downloader{}, RuntimeRelease{Version: "1.24.1", URL: url, SHA256: strings.Repeat("a", 64)}, lib)
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Errorf("wrong checksum: %v", err)
	}
	if _, err := os.Stat(RuntimeDir(lib, "1.24.1")); !os.IsNotExist(err) {
		t.Error("installed despite a wrong checksum")
	}

	for name, extra := range map[string]tarEntry{
		"escaping entry":   {name: "../../evil.so", data: []byte("x")},
		"escaping symlink": {name: "onnxruntime-linux-x64-gpu-1.24.1/lib/libevil.so", link: "../../../etc/passwd"},
		"absolute symlink": {name: "onnxruntime-linux-x64-gpu-1.24.1/lib/libabs.so", link: "/etc/passwd"},
	} {
		bad := ortArchive(t, extra)
		url, _ := releaseServer(t, bad)
		lib := t.TempDir()
		_, err := InstallRuntime(ctx, &Downloader{}, RuntimeRelease{Version: "1.24.1", URL: url, SHA256: sha256hex(bad)}, lib)
		if err == nil || !(strings.Contains(err.Error(), "escapes") || strings.Contains(err.Error(), "links outside")) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(RuntimeDir(lib, "1.24.1")); !os.IsNotExist(err) {
			t.Errorf("%s: installed", name)
		}
	}

	// A CPU build (no CUDA provider) is refused.
	cpu := makeTgz(t, []tarEntry{{name: "onnxruntime-linux-x64-1.24.1/lib/libonnxruntime.so.1.24.1", data: []byte("x")}})
	url, _ = releaseServer(t, cpu)
	_, err = InstallRuntime(ctx, &Downloader{}, RuntimeRelease{Version: "1.24.1", URL: url, SHA256: sha256hex(cpu)}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not a GPU build") {
		t.Errorf("CPU archive: %v", err)
	}
}

func TestGPURuntimeRelease(t *testing.T) {
	r := GPURuntimeRelease("")
	if r.Version != "1.30.0" || r.URL != "https://github.com/microsoft/onnxruntime/releases/download/v1.30.0/onnxruntime-linux-x64-gpu-1.30.0.tgz" {
		t.Errorf("default release = %+v, want ONNX Runtime 1.30.0, the bundled CPU release", r)
	}
	if r := GPURuntimeRelease("1.24.1"); r.URL != "https://github.com/microsoft/onnxruntime/releases/download/v1.24.1/onnxruntime-linux-x64-gpu-1.24.1.tgz" {
		t.Errorf("URL = %s", r.URL)
	}
}

// TestScriptsPinORTVersion: the scripts that bundle the CPU runtime pin the
// same release as the GPU installer (they defaulted to 1.30.0 while the
// installer fetched 1.24.1).
func TestScriptsPinORTVersion(t *testing.T) {
	pin := regexp.MustCompile(`(?m)^ORT_VERSION="\$\{ORT_VERSION:-([^}"]+)\}"$`)
	for _, script := range []string{"fetch_ort.sh", "build_windows.sh"} {
		p := filepath.Join("..", "..", "tools", script)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := pin.FindAllSubmatch(b, -1)
		if len(m) != 1 {
			t.Errorf("%s: %d ORT_VERSION=\"${ORT_VERSION:-X}\" lines, want 1", p, len(m))
			continue
		}
		if v := string(m[0][1]); v != ORTVersion {
			t.Errorf("%s pins ONNX Runtime %s, models.ORTVersion is %s: change both together", p, v, ORTVersion)
		}
	}
}
