package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ManifestName is the file, inside a model folder, that records the SHA-256
// of every file as downloaded or imported.
const ManifestName = "diptych-manifest.json"

// ManifestFile is one file of a manifest.
type ManifestFile struct {
	Path   string `json:"path"` // slash-separated, relative to the folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest records where a model folder came from and the digest of each
// file, so that Verify can re-check it later.
type Manifest struct {
	Version  int            `json:"version"`
	Kind     Kind           `json:"kind,omitempty"`
	Repo     string         `json:"repo,omitempty"`
	Revision string         `json:"revision,omitempty"`
	Source   string         `json:"source,omitempty"` // "hub", "import", "export"
	Created  time.Time      `json:"created"`
	Files    []ManifestFile `json:"files"`
}

// Write saves m as dir/ManifestName, atomically.
func (m *Manifest) Write(dir string) error {
	return m.WriteFile(filepath.Join(dir, ManifestName))
}

// WriteFile saves m at path, atomically.
func (m *Manifest) WriteFile(path string) error {
	if m.Version == 0 {
		m.Version = 1
	}
	if m.Created.IsZero() {
		m.Created = time.Now().UTC().Truncate(time.Second)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// ReadManifest loads a manifest file.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read manifest %s: %w", path, err)
	}
	for _, f := range m.Files {
		if err := CheckPath(f.Path); err != nil {
			return m, fmt.Errorf("read manifest %s: %w", path, err)
		}
	}
	return m, nil
}

// HashFolder computes the manifest entries of the given files of dir (all
// regular files except the manifest and partial downloads when paths is
// nil). progress, if not nil, gets PhaseVerify events.
func HashFolder(ctx context.Context, dir string, paths []string, progress func(Progress)) ([]ManifestFile, error) {
	if paths == nil {
		var err error
		if paths, err = folderFiles(dir); err != nil {
			return nil, err
		}
	}
	var total int64
	for _, p := range paths {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
			total += st.Size()
		}
	}
	tr := newTracker(progress, 0)
	tr.total = total
	var out []ManifestFile
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		tr.emit(Progress{Phase: PhaseVerify, File: p, Message: "hashing " + p})
		sum, _, size, err := hashFile(ctx, full, false)
		if err != nil {
			return nil, fmt.Errorf("hash %s: %w", full, err)
		}
		tr.add(size)
		out = append(out, ManifestFile{Path: p, Size: size, SHA256: sum})
	}
	return out, nil
}

// GraphIOName is the listing of every graph's declared inputs and outputs
// that engine/janus writes beside a model on first load; like the manifest
// it is not part of the model.
const GraphIOName = "graph_io.json"

// folderFiles lists the regular files of dir as slash paths, leaving out
// the manifest, the graph listing and partial downloads.
func folderFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel := relSlash(dir, p)
		if rel == ManifestName || rel == GraphIOName || strings.HasSuffix(rel, partSuffix) || strings.HasSuffix(rel, partStateSuffix) {
			return nil
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Dir      string           `json:"dir"`
	Checked  int              `json:"checked"`
	Bytes    int64            `json:"bytes"`
	Missing  []string         `json:"missing,omitempty"`
	Mismatch []*ChecksumError `json:"mismatch,omitempty"`
	// Resized lists files whose size differs (not hashed).
	Resized []string `json:"resized,omitempty"`
}

// OK reports whether every file matched.
func (r VerifyReport) OK() bool {
	return len(r.Missing) == 0 && len(r.Mismatch) == 0 && len(r.Resized) == 0
}

// Err summarises a failed report as an error (nil when OK).
func (r VerifyReport) Err() error {
	if r.OK() {
		return nil
	}
	var parts []string
	if len(r.Missing) > 0 {
		parts = append(parts, "missing: "+strings.Join(r.Missing, ", "))
	}
	if len(r.Resized) > 0 {
		parts = append(parts, "wrong size: "+strings.Join(r.Resized, ", "))
	}
	for _, m := range r.Mismatch {
		parts = append(parts, fmt.Sprintf("%s: SHA-256 %s, expected %s", m.Path, m.Got, m.Want))
	}
	return fmt.Errorf("verify %s: %s", r.Dir, strings.Join(parts, "; "))
}

// Verify re-hashes the files of dir listed in m. It never deletes anything.
func Verify(ctx context.Context, dir string, m Manifest, progress func(Progress)) (VerifyReport, error) {
	rep := VerifyReport{Dir: dir}
	tr := newTracker(progress, 0)
	for _, f := range m.Files {
		tr.total += f.Size
	}
	for _, f := range m.Files {
		full := filepath.Join(dir, filepath.FromSlash(f.Path))
		st, err := os.Stat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			rep.Missing = append(rep.Missing, f.Path)
			continue
		case err != nil:
			return rep, fmt.Errorf("verify %s: %w", full, err)
		case st.Size() != f.Size:
			rep.Resized = append(rep.Resized, fmt.Sprintf("%s (%d bytes, expected %d)", f.Path, st.Size(), f.Size))
			continue
		}
		tr.setFile(f.Path, f.Size, 0)
		tr.emit(Progress{Phase: PhaseVerify, File: f.Path, Message: "verifying " + f.Path})
		sum, _, size, err := hashFile(ctx, full, false)
		if err != nil {
			return rep, fmt.Errorf("verify %s: %w", full, err)
		}
		tr.add(size)
		rep.Checked++
		rep.Bytes += size
		if !strings.EqualFold(sum, f.SHA256) {
			rep.Mismatch = append(rep.Mismatch, &ChecksumError{Path: f.Path, Algorithm: "SHA-256", Want: f.SHA256, Got: sum})
		}
	}
	tr.emit(Progress{Phase: PhaseDone})
	return rep, nil
}

// writeAtomic writes data to a temporary file next to path, syncs it and
// renames it over path.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
