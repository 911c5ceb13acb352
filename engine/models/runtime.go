package models

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// ORTVersion is the one ONNX Runtime release Diptych pins: the CPU build
// that tools/fetch_ort.sh (make setup, the tests, the .deb) and
// tools/build_windows.sh bundle, and the GPU build the runtime installer
// fetches unless told otherwise. A test checks the scripts against it.
// onnxruntime_go v1.27.0 needs 1.24 or newer (ort.MinVersion).
const ORTVersion = "1.30.0"

// RuntimeRelease is an ONNX Runtime release archive.
type RuntimeRelease struct {
	Version string `json:"version"`
	URL     string `json:"url"`
	// SHA256 of the archive. It must be filled in (and checked against the
	// release on a networked machine) before the installer will run.
	SHA256 string `json:"sha256"`
}

// GPURuntimeRelease returns the official linux-x64 GPU (CUDA 12) build of an
// ONNX Runtime version from its GitHub release. Its SHA-256 is not pinned
// here: this tree was written without network access to GitHub, so the
// checksum has to be taken from the release on a networked machine and
// given to the installer (diptych models runtime --gpu --sha256 ...).
func GPURuntimeRelease(version string) RuntimeRelease {
	if version == "" {
		version = ORTVersion
	}
	return RuntimeRelease{
		Version: version,
		URL: fmt.Sprintf("https://github.com/microsoft/onnxruntime/releases/download/v%s/onnxruntime-linux-x64-gpu-%s.tgz",
			version, version),
	}
}

// RuntimeInstall is an installed ONNX Runtime in the library folder.
type RuntimeInstall struct {
	Version string `json:"version"`
	Dir     string `json:"dir"`
	// Library is the path to give to onnxruntime_go (libonnxruntime.so.*).
	Library string `json:"library"`
	// Providers lists the execution-provider libraries found (cuda,
	// tensorrt, shared).
	Providers []string `json:"providers"`
	URL       string   `json:"url"`
	SHA256    string   `json:"sha256"`
	Files     []string `json:"files"`
}

const runtimeInfoName = "runtime.json"

// RuntimeDir is where a GPU runtime version is installed under libDir.
func RuntimeDir(libDir, version string) string {
	return filepath.Join(libDir, "onnxruntime-gpu-"+version)
}

// InstallRuntime downloads an ONNX Runtime release archive (resumably, with
// its SHA-256 checked), extracts its lib/ folder and licence files into
// RuntimeDir(libDir, version) and returns what was installed. The folder
// appears only when complete. An already installed version is returned as is.
func InstallRuntime(ctx context.Context, d *Downloader, rel RuntimeRelease, libDir string) (RuntimeInstall, error) {
	if rel.Version == "" || strings.ContainsAny(rel.Version, `/\`) || strings.Contains(rel.Version, "..") {
		return RuntimeInstall{}, fmt.Errorf("install runtime: bad version %q", rel.Version)
	}
	if rel.SHA256 == "" {
		return RuntimeInstall{}, fmt.Errorf("install runtime %s: no SHA-256 pinned for %s: take it from the release page on a networked machine "+
			"(sha256sum of the .tgz) and pass it with --sha256 or DIPTYCH_ORT_GPU_SHA256", rel.Version, rel.URL)
	}
	dest := RuntimeDir(libDir, rel.Version)
	if inst, err := ReadRuntime(dest); err == nil {
		return inst, nil
	}
	u, err := url.Parse(rel.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return RuntimeInstall{}, fmt.Errorf("install runtime: bad URL %q", rel.URL)
	}
	archive := path.Base(u.Path)
	if CheckPath(archive) != nil || !strings.HasSuffix(archive, ".tgz") && !strings.HasSuffix(archive, ".tar.gz") {
		return RuntimeInstall{}, fmt.Errorf("install runtime: %s does not name a .tgz archive", rel.URL)
	}
	dlDir := filepath.Join(libDir, "downloads", "onnxruntime-"+rel.Version)
	if err := os.MkdirAll(filepath.Dir(dlDir), 0o755); err != nil {
		return RuntimeInstall{}, fmt.Errorf("install runtime: %w", err)
	}
	if !isFile(filepath.Join(dlDir, archive)) {
		spec := FileSpec{Path: archive, URL: rel.URL, Size: -1, SHA256: strings.ToLower(rel.SHA256)}
		if err := d.Download(ctx, dlDir, []FileSpec{spec}, nil); err != nil {
			return RuntimeInstall{}, fmt.Errorf("install runtime %s: %w", rel.Version, err)
		}
	}
	staging := StagingDir(dest)
	if err := os.RemoveAll(staging); err != nil {
		return RuntimeInstall{}, fmt.Errorf("install runtime: %w", err)
	}
	files, err := extractRuntime(filepath.Join(dlDir, archive), staging)
	if err != nil {
		os.RemoveAll(staging)
		return RuntimeInstall{}, fmt.Errorf("install runtime %s: %s: %w", rel.Version, archive, err)
	}
	inst := RuntimeInstall{Version: rel.Version, Dir: dest, URL: rel.URL, SHA256: strings.ToLower(rel.SHA256), Files: files}
	if err := inst.fill(staging); err != nil {
		os.RemoveAll(staging)
		return RuntimeInstall{}, fmt.Errorf("install runtime %s: %s: %w", rel.Version, archive, err)
	}
	b, _ := json.MarshalIndent(inst, "", "  ")
	if err := writeAtomic(filepath.Join(staging, runtimeInfoName), append(b, '\n')); err != nil {
		return RuntimeInstall{}, fmt.Errorf("install runtime: %w", err)
	}
	if err := os.Rename(staging, dest); err != nil {
		return RuntimeInstall{}, fmt.Errorf("install runtime: move into place: %w", err)
	}
	os.RemoveAll(dlDir)
	return ReadRuntime(dest)
}

// fill finds the main library and the provider libraries in dir.
func (r *RuntimeInstall) fill(dir string) error {
	r.Library, r.Providers = "", nil
	var libs []string
	for _, f := range r.Files {
		base := path.Base(f)
		switch {
		case strings.HasPrefix(base, "libonnxruntime.so"):
			libs = append(libs, base)
		case strings.HasPrefix(base, "libonnxruntime_providers_") && strings.HasSuffix(base, ".so"):
			r.Providers = append(r.Providers, strings.TrimSuffix(strings.TrimPrefix(base, "libonnxruntime_providers_"), ".so"))
		}
	}
	sort.Strings(r.Providers)
	if len(libs) == 0 {
		return errors.New("the archive has no lib/libonnxruntime.so*")
	}
	// Prefer the fully versioned name, then the SONAME, then the dev link.
	sort.Slice(libs, func(i, j int) bool { return len(libs[i]) > len(libs[j]) })
	r.Library = filepath.Join(r.Dir, libs[0])
	for _, p := range r.Providers {
		if p == "cuda" {
			return nil
		}
	}
	return fmt.Errorf("the archive has no lib/libonnxruntime_providers_cuda.so (providers found: %s): not a GPU build", orNone(r.Providers))
}

// ReadRuntime loads the record of a runtime installed in dir.
func ReadRuntime(dir string) (RuntimeInstall, error) {
	var r RuntimeInstall
	b, err := os.ReadFile(filepath.Join(dir, runtimeInfoName))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("read %s: %w", filepath.Join(dir, runtimeInfoName), err)
	}
	r.Dir = dir
	if err := r.fill(dir); err != nil {
		return r, err
	}
	if !isFile(r.Library) {
		return r, fmt.Errorf("runtime in %s: %s is missing", dir, r.Library)
	}
	return r, nil
}

// InstalledRuntimes lists the runtimes installed under libDir, newest
// version first.
func InstalledRuntimes(libDir string) []RuntimeInstall {
	matches, _ := filepath.Glob(filepath.Join(libDir, "onnxruntime-gpu-*", runtimeInfoName))
	var out []RuntimeInstall
	for _, m := range matches {
		if r, err := ReadRuntime(filepath.Dir(m)); err == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[j].Version, out[i].Version) })
	return out
}

func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		var x, y int
		fmt.Sscan(pa[i], &x)
		fmt.Sscan(pb[i], &y)
		if x != y {
			return x < y
		}
	}
	return len(pa) < len(pb)
}

// extractRuntime copies lib/* (files and same-folder symlinks) and the
// top-level licence files of an ONNX Runtime archive into dir, flat.
func extractRuntime(archive, dir string) ([]string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("not a gzip archive: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var files []string
	const maxFile = 4 << 30
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if strings.HasPrefix(name, "/") || strings.Contains("/"+name+"/", "/../") {
			return nil, fmt.Errorf("archive entry %q escapes the archive", h.Name)
		}
		parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
		var base string
		switch {
		case len(parts) == 3 && parts[1] == "lib":
			base = parts[2]
		case len(parts) == 2 && (strings.HasPrefix(parts[1], "LICENSE") || strings.HasPrefix(parts[1], "ThirdPartyNotices") ||
			strings.HasPrefix(parts[1], "Privacy") || parts[1] == "VERSION_NUMBER"):
			base = parts[1]
		default:
			continue
		}
		if CheckPath(base) != nil {
			return nil, fmt.Errorf("archive entry %q has a bad name", h.Name)
		}
		target := filepath.Join(dir, base)
		switch h.Typeflag {
		case tar.TypeReg:
			if h.Size > maxFile {
				return nil, fmt.Errorf("archive entry %q is too large (%d bytes)", h.Name, h.Size)
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755&os.FileMode(h.Mode)|0o644)
			if err != nil {
				return nil, err
			}
			_, cerr := io.Copy(out, io.LimitReader(tr, maxFile))
			if err := errors.Join(cerr, out.Close()); err != nil {
				return nil, diskErr(err)
			}
		case tar.TypeSymlink:
			if strings.ContainsAny(h.Linkname, `/\`) || CheckPath(h.Linkname) != nil {
				return nil, fmt.Errorf("archive entry %q links outside its folder (%s)", h.Name, h.Linkname)
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return nil, err
			}
		default:
			continue
		}
		files = append(files, base)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, errors.New("no lib/ folder in the archive")
	}
	return files, nil
}
