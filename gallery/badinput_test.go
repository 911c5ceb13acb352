package gallery

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenCorruptDatabase(t *testing.T) {
	ctx := context.Background()
	for name, content := range map[string][]byte{
		"garbage":        bytes.Repeat([]byte("not a database "), 300),
		"truncated page": append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xff}, 200)...),
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			db := filepath.Join(root, DBName)
			os.WriteFile(db, content, 0o644)
			_, err := Open(ctx, root)
			if err == nil {
				t.Fatal("Open accepted a corrupt database")
			}
			if !strings.Contains(err.Error(), db) || !strings.Contains(err.Error(), "fsck --repair") {
				t.Errorf("error lacks the path or the recovery hint: %v", err)
			}
			// Never silently recreated: the file is untouched.
			if after, _ := os.ReadFile(db); !bytes.Equal(after, content) {
				t.Error("the corrupt file was modified")
			}
		})
	}
}

func TestOpenUnreadableDatabase(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	root := t.TempDir()
	s, err := Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db := filepath.Join(root, DBName)
	os.Chmod(db, 0)
	defer os.Chmod(db, 0o644)
	if _, err := Open(context.Background(), root); err == nil || !strings.Contains(err.Error(), db) {
		t.Errorf("unreadable database: err = %v", err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(ctx, root)
	if err == nil || !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), "update Diptych") {
		t.Fatalf("newer schema: err = %v", err)
	}
	// The refusal changed nothing.
	db, _ := sql.Open("sqlite3", dsn(filepath.Join(root, DBName), true))
	defer db.Close()
	var v int
	db.QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != 99 {
		t.Errorf("user_version now %d", v)
	}
}

func TestOpenOtherAppDatabase(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, DBName)
	db, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE images (id INTEGER PRIMARY KEY, metadata TEXT); INSERT INTO images VALUES (1, 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), root)
	if err == nil || !strings.Contains(err.Error(), "not a Diptych library") || !strings.Contains(err.Error(), path) {
		t.Fatalf("other app's database: err = %v", err)
	}
	// Its journal mode and content were left alone.
	db, _ = sql.Open("sqlite3", dsn(path, true))
	defer db.Close()
	var mode string
	var n int
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	db.QueryRow(`SELECT count(*) FROM sqlite_master`).Scan(&n)
	if mode == "wal" || n != 1 {
		t.Errorf("other database altered: journal %q, %d objects", mode, n)
	}
}

func TestOpenReadOnlyFolder(t *testing.T) {
	// Simulated through the seam so it also runs as root; a real chmod
	// check follows for ordinary users.
	fsys := &faultFS{step: "create", n: 1, err: syscall.EROFS}
	_, err := openWith(context.Background(), t.TempDir(), fsys)
	if err == nil || !errors.Is(err, syscall.EROFS) || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("read-only folder: err = %v", err)
	}
	if os.Geteuid() == 0 {
		return
	}
	root := t.TempDir()
	os.Chmod(root, 0o555)
	defer os.Chmod(root, 0o755)
	if _, err := Open(context.Background(), root); err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("chmod 555 folder: err = %v", err)
	}
}

func TestSaveDiskFull(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.fs = &faultFS{step: "write", n: 1, err: syscall.ENOSPC}
	_, err := s.Save(ctx, SaveRequest{Generation: fakeGeneration("big", 1), Image: testImage(32, 32, 1)})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("disk full: err = %v", err)
	}
	if len(visibleFiles(t, s.Root())) != 0 || len(hiddenTemps(t, s.Root())) != 0 {
		t.Error("disk-full save left files behind")
	}
}

func TestSaveHostileInput(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	good := encodePNG(t)
	badCRC := append([]byte{}, good...)
	badCRC[len(badCRC)-5] ^= 1 // IEND CRC
	// A header that claims 100000 x 100000 pixels.
	huge := append([]byte{}, good...)
	copy(huge[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	for name, c := range map[string]struct {
		req  SaveRequest
		want string
	}{
		"not png":       {SaveRequest{Generation: fakeGeneration("x", 1), PNG: []byte("hello")}, "PNG"},
		"bad crc":       {SaveRequest{Generation: fakeGeneration("x", 1), PNG: badCRC}, "PNG"},
		"huge header":   {SaveRequest{Generation: fakeGeneration("x", 1), PNG: huge}, "PNG"},
		"nul in prompt": {SaveRequest{Generation: fakeGeneration("a\x00b", 1), Image: testImage(4, 4, 1)}, "NUL"},
		"negative size": {SaveRequest{Generation: Generation{Prompt: "x", Width: -1}}, "negative"},
	} {
		if _, err := s.Save(ctx, c.req); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if len(visibleFiles(t, s.Root())) != 0 {
		t.Error("hostile input left files")
	}
	// A good PNG given as bytes gets our metadata.
	out, err := s.Save(ctx, SaveRequest{Generation: fakeGeneration("from bytes", 5), PNG: good})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.Path(out.Image.Path))
	chunks, err := ReadPNGText(bytes.NewReader(data))
	if err != nil || !strings.HasPrefix(textMap(chunks)["parameters"], "from bytes\n") {
		t.Errorf("metadata of PNG-bytes save: %v %v", chunks, err)
	}
}

func TestCancelledContext(t *testing.T) {
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Save(ctx, SaveRequest{Generation: fakeGeneration("x", 1), Image: testImage(4, 4, 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with cancelled context: %v", err)
	}
	if _, err := s.List(ctx, Query{}); err == nil {
		t.Error("List with cancelled context succeeded")
	}
}
