package gallery

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// faultFS wraps the real file system and fails the n-th call of one step.
// In crash mode every call after the fault fails too (the process is gone:
// nothing more reaches the disk, not even cleanup), and so does the commit.
type faultFS struct {
	step  string // "mkdir", "create", "write", "sync", "close", "rename", "syncdir"
	n     int    // fail the n-th call of step (1-based)
	err   error  // error to return
	crash bool

	seen    map[string]int
	tripped bool
}

func (f *faultFS) hit(step string) error {
	if f.tripped && f.crash {
		return fmt.Errorf("%s after crash: %w", step, f.err)
	}
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[step]++
	if step == f.step && f.seen[step] == f.n {
		f.tripped = true
		return f.err
	}
	return nil
}

func (f *faultFS) MkdirAll(dir string, perm fs.FileMode) error {
	if err := f.hit("mkdir"); err != nil {
		return err
	}
	return os.MkdirAll(dir, perm)
}

func (f *faultFS) CreateTemp(dir, pattern string) (file, error) {
	if err := f.hit("create"); err != nil {
		return nil, err
	}
	of, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: of, fs: f}, nil
}

func (f *faultFS) Rename(from, to string) error {
	if err := f.hit("rename"); err != nil {
		return err
	}
	return os.Rename(from, to)
}

func (f *faultFS) Remove(name string) error {
	if f.tripped && f.crash {
		return errors.New("remove after crash")
	}
	return os.Remove(name)
}

func (f *faultFS) SyncDir(dir string) error {
	if err := f.hit("syncdir"); err != nil {
		return err
	}
	return osFS{}.SyncDir(dir)
}

type faultFile struct {
	*os.File
	fs *faultFS
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.hit("write"); err != nil {
		// A full disk writes part of the data first.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	if err := f.fs.hit("sync"); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	if err := f.fs.hit("close"); err != nil {
		f.File.Close()
		return err
	}
	return f.File.Close()
}

// visibleFiles lists library files that are not hidden (dot files) and not
// the database.
func visibleFiles(t *testing.T, root string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), DBName) {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = true
		return nil
	})
	return out
}

// checkInvariant: every row's files exist and are complete; every visible
// image file is complete (it decodes).
func checkInvariant(t *testing.T, s *Store, label string) {
	t.Helper()
	ctx := context.Background()
	p, err := s.List(ctx, Query{Limit: MaxPageSize})
	if err != nil {
		t.Fatalf("%s: %v", label, err)
	}
	for _, g := range p.Items {
		if g.Image == nil {
			continue
		}
		for _, rel := range []string{g.Image.Path, g.Image.ThumbPath} {
			if _, err := os.Stat(s.Path(rel)); err != nil {
				t.Errorf("%s: row %d without file %s", label, g.ID, rel)
			}
		}
	}
	for rel := range visibleFiles(t, s.Root()) {
		if strings.HasSuffix(rel, ".png") {
			if _, err := generationFromPNGFile(s.Path(rel)); err != nil {
				t.Errorf("%s: visible half file %s: %v", label, rel, err)
			}
		}
	}
}

func generationFromPNGFile(p string) (Generation, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return Generation{}, err
	}
	if _, err := ReadPNGText(strings.NewReader(string(data))); err != nil {
		return Generation{}, err
	}
	g, _ := generationFromPNG(data)
	return g, nil
}

var saveSteps = []struct {
	step string
	n    int
}{
	{"mkdir", 1}, {"create", 1}, {"write", 1}, {"sync", 1}, {"close", 1}, {"rename", 1}, {"syncdir", 1}, // image
	{"mkdir", 2}, {"create", 2}, {"write", 2}, {"sync", 2}, {"close", 2}, {"rename", 2}, {"syncdir", 2}, // thumbnail
	{"commit", 1},
}

// TestSaveFailureAtEachStep injects an error at every step of a save: the
// save fails, and neither a row nor any visible file remains.
func TestSaveFailureAtEachStep(t *testing.T) {
	for _, st := range saveSteps {
		t.Run(fmt.Sprintf("%s#%d", st.step, st.n), func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			ffs := &faultFS{step: st.step, n: st.n, err: syscall.ENOSPC}
			s.fs = ffs
			if st.step == "commit" {
				s.beforeCommit = func() error { return syscall.ENOSPC }
			}
			_, err := s.Save(ctx, SaveRequest{Generation: fakeGeneration("doomed", 1), Image: testImage(32, 32, 1)})
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Save error = %v, want ENOSPC wrapped", err)
			}
			if !strings.Contains(err.Error(), s.Root()) {
				t.Errorf("error does not name the library: %v", err)
			}
			p, _ := s.List(ctx, Query{})
			if len(p.Items) != 0 {
				t.Errorf("row left behind: %+v", p.Items)
			}
			if files := visibleFiles(t, s.Root()); len(files) != 0 {
				t.Errorf("files left behind: %v", files)
			}
			if hidden := hiddenTemps(t, s.Root()); len(hidden) != 0 {
				t.Errorf("temporary files left behind: %v", hidden)
			}
			// The store still works afterwards.
			s.fs, s.beforeCommit = osFS{}, nil
			saveTest(t, s, "after the failure", 2)
		})
	}
}

func hiddenTemps(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), tempPrefix) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestCrashAtEachStep simulates the process dying at every step: nothing
// after the crash point reaches the disk. No row may point at a missing
// file, no visible file may be half written, and fsck --repair brings the
// library back to a clean state.
func TestCrashAtEachStep(t *testing.T) {
	for _, st := range saveSteps {
		t.Run(fmt.Sprintf("%s#%d", st.step, st.n), func(t *testing.T) {
			ctx := context.Background()
			s, _ := openTest(t)
			saveTest(t, s, "survivor", 9) // an earlier, complete save
			ffs := &faultFS{step: st.step, n: st.n, err: errors.New("crash"), crash: true}
			s.fs = ffs
			if st.step == "commit" {
				s.beforeCommit = func() error { ffs.tripped = true; return errors.New("crash") }
			}
			if _, err := s.Save(ctx, SaveRequest{Generation: fakeGeneration("crashing", 1), Image: testImage(32, 32, 1)}); err == nil {
				t.Fatal("Save succeeded through a crash")
			}
			checkInvariant(t, s, "after crash")
			// "Restart": real file system, temp files count as stale.
			s.fs, s.beforeCommit, s.tempGrace = osFS{}, nil, 0
			rep, err := s.Fsck(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariant(t, s, "after repair")
			rep2, err := s.Fsck(ctx, false)
			if err != nil || !rep2.Clean() {
				t.Errorf("library not clean after repair: %+v (repair did %v) %v", rep2, rep.Actions, err)
			}
			// A complete image renamed before the crash is adopted with its settings.
			p, _ := s.List(ctx, Query{Text: "crashing"})
			if st.step == "commit" || st.n == 2 || (st.n == 1 && st.step == "syncdir") {
				// The image was complete on disk (for syncdir#1 the rename
				// happened but the cleanup could not run).
				if len(p.Items) != 1 || p.Items[0].Seed != 1 || p.Items[0].Scheduler != "dpmpp_2m_karras" {
					t.Errorf("complete image not adopted with its settings: %+v", p.Items)
				}
			} else if len(p.Items) != 0 {
				t.Errorf("incomplete save became a row: %+v", p.Items)
			}
		})
	}
}
