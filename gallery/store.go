package gallery

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // driver "sqlite3"; build with -tags sqlite_fts5
)

// DBName is the database file inside the library root.
const DBName = "library.db"

// Folders inside the library root.
const (
	imagesDir = "images"
	thumbsDir = "thumbs"
)

// ThumbSize is the long side of every thumbnail, in pixels.
const ThumbSize = 256

// ErrNotFound is returned when an id names no generation.
var ErrNotFound = errors.New("not found")

// Store is a library: the SQLite index and the image files under Root.
// It is safe for concurrent use.
type Store struct {
	root   string
	dbPath string
	w      *sql.DB // the one writer connection
	r      *sql.DB // read-only pool

	fs           fileSystem
	now          func() time.Time
	beforeCommit func() error  // test seam: called just before a save commits
	tempGrace    time.Duration // fsck leaves younger temp files alone (a save may be running)
	nameMu       sync.Mutex    // picks unique file names
}

// Open opens the library at root, creating the folder and database if they
// do not exist and applying schema migrations. It refuses a database with a
// newer schema, another application's database and a damaged file, naming the
// path and what to do.
func Open(ctx context.Context, root string) (*Store, error) {
	return openWith(ctx, root, osFS{})
}

func openWith(ctx context.Context, root string, fsys fileSystem) (*Store, error) {
	if root == "" {
		return nil, errors.New("open library: empty root folder")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open library %s: %w", root, err)
	}
	s := &Store{
		root:      abs,
		dbPath:    filepath.Join(abs, DBName),
		fs:        fsys,
		now:       time.Now,
		tempGrace: 15 * time.Minute,
	}
	if err := fsys.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create library folder %s: %w", abs, err)
	}
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	if err := checkDBHeader(s.dbPath); err != nil {
		return nil, err
	}
	if s.w, err = sql.Open("sqlite3", dsn(s.dbPath, false)); err != nil {
		return nil, fmt.Errorf("open library database %s: %w", s.dbPath, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, err
	}
	if s.r, err = sql.Open("sqlite3", dsn(s.dbPath, true)); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open library database %s: %w", s.dbPath, err)
	}
	n := runtime.NumCPU()
	s.r.SetMaxOpenConns(max(2, min(n, 8)))
	s.r.SetMaxIdleConns(max(2, min(n, 8)))
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open library database %s for reading: %w", s.dbPath, err)
	}
	return s, nil
}

// dsn builds the go-sqlite3 URI: 10 s busy timeout, foreign keys on,
// BEGIN IMMEDIATE for writers (no lock upgrades, so no SQLITE_BUSY deadlock).
func dsn(path string, readOnly bool) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letter: file:///C:/...
	}
	u := "file://" + (&url.URL{Path: p}).EscapedPath()
	q := "_busy_timeout=10000&_foreign_keys=1&_synchronous=NORMAL"
	if readOnly {
		return u + "?mode=ro&" + q
	}
	return u + "?mode=rwc&_txlock=immediate&" + q
}

// Root is the absolute library folder.
func (s *Store) Root() string { return s.root }

// Path turns a library-relative path (Image.Path, Image.ThumbPath) into a
// file path.
func (s *Store) Path(rel string) string { return filepath.Join(s.root, filepath.FromSlash(rel)) }

// Close closes both connection pools.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

func (s *Store) checkWritable() error {
	f, err := s.fs.CreateTemp(s.root, ".probe-*")
	if err != nil {
		return fmt.Errorf("library folder %s is not writable (%w); choose another folder with --library or fix its permissions", s.root, err)
	}
	name := f.Name()
	f.Close()
	if err := s.fs.Remove(name); err != nil {
		return fmt.Errorf("library folder %s: remove probe file: %w", s.root, err)
	}
	return nil
}

var sqliteHeader = []byte("SQLite format 3\x00")

// checkDBHeader refuses a database file that is not SQLite before the driver
// sees it, so a damaged file is never silently replaced.
func checkDBHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open library database %s: %w", path, err)
	}
	defer f.Close()
	var hdr [16]byte
	n, err := io.ReadFull(f, hdr[:])
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // empty file: SQLite treats it as a new database
	}
	if err != nil || !bytes.Equal(hdr[:], sqliteHeader) {
		return fmt.Errorf("library database %s is damaged or not a SQLite file (bad header %q); %s",
			path, hdr[:n], recoveryHint(path))
	}
	return nil
}

func recoveryHint(path string) string {
	return fmt.Sprintf("move it aside (e.g. to %s.broken) and run 'diptych history fsck --repair' to rebuild the index from the images", path)
}

// migrate checks who owns the database and brings its schema up to date.
func (s *Store) migrate(ctx context.Context) error {
	var appID, version, tables int
	err := s.w.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&appID)
	if err == nil {
		err = s.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version)
	}
	if err == nil {
		err = s.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master`).Scan(&tables)
	}
	if err != nil {
		return fmt.Errorf("read library database %s: %w; %s", s.dbPath, err, recoveryHint(s.dbPath))
	}
	if appID != applicationID && !(appID == 0 && version == 0 && tables == 0) {
		return fmt.Errorf("%s is not a Diptych library (application_id %#x, %d tables); choose another --library folder", s.dbPath, appID, tables)
	}
	if version > SchemaVersion {
		return fmt.Errorf("library database %s has schema version %d, newer than version %d that this build of Diptych knows; update Diptych (the file was left unchanged)", s.dbPath, version, SchemaVersion)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode of %s: %w", s.dbPath, err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("library database %s: journal mode is %q, expected wal (is the folder on a network drive?)", s.dbPath, mode)
	}
	for v := version; v < len(migrations); v++ {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate %s to schema %d: %w", s.dbPath, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			if strings.Contains(err.Error(), "no such module: fts5") {
				return fmt.Errorf("migrate %s to schema %d: %w (build Diptych with -tags sqlite_fts5)", s.dbPath, v+1, err)
			}
			return fmt.Errorf("migrate %s to schema %d: %w", s.dbPath, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d; PRAGMA user_version = %d`, applicationID, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate %s to schema %d: %w", s.dbPath, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate %s to schema %d: commit: %w", s.dbPath, v+1, err)
		}
	}
	return nil
}

func (s *Store) nowMS() int64 { return s.now().UnixMilli() }

func fromMS(ms int64) time.Time { return time.UnixMilli(ms) }
