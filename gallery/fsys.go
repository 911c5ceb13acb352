package gallery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// fileSystem is the seam every library write goes through, so tests can
// inject a failure (or a simulated crash) at each step of a save.
type fileSystem interface {
	MkdirAll(dir string, perm fs.FileMode) error
	CreateTemp(dir, pattern string) (file, error)
	Rename(from, to string) error
	Remove(name string) error
	SyncDir(dir string) error
}

// file is the part of *os.File a save needs.
type file interface {
	Write(p []byte) (int, error)
	Sync() error
	Close() error
	Name() string
}

// osFS is the real file system.
type osFS struct{}

func (osFS) MkdirAll(dir string, perm fs.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) CreateTemp(dir, pattern string) (file, error) {
	return os.CreateTemp(dir, pattern)
}
func (osFS) Rename(from, to string) error { return os.Rename(from, to) }
func (osFS) Remove(name string) error     { return os.Remove(name) }

// SyncDir flushes a directory so a rename in it survives a power cut. Windows
// cannot open directories for syncing; NTFS journals renames itself.
func (osFS) SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// tempPrefix starts every temporary file name; such files are hidden (dot
// files), never listed, and removed by fsck.
const tempPrefix = ".tmp-"

// writeFileAtomic writes data to dir/name through a temporary file: create,
// write, fsync, close, rename, fsync the folder. On any error the temporary
// file is removed and dir/name is untouched.
func writeFileAtomic(fsys fileSystem, dir, name string, data []byte) (err error) {
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder %s: %w", dir, err)
	}
	f, err := fsys.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create temporary file in %s: %w", dir, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			fsys.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	final := filepath.Join(dir, name)
	if err = fsys.Rename(tmp, final); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, final, err)
	}
	if err = fsys.SyncDir(dir); err != nil {
		// The file is complete and in place; only its durability is in doubt.
		// Remove it so the caller does not commit a row for it.
		fsys.Remove(final)
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
