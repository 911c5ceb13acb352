package gallery

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFsckBothWays(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.tempGrace = time.Minute
	a := saveTest(t, s, "row whose file vanished", 1)
	b := saveTest(t, s, "file whose row vanished", 2)
	c := saveTest(t, s, "thumbnail lost", 3)
	saveTest(t, s, "healthy", 4)

	os.Remove(s.Path(a.Image.Path))
	if _, err := s.w.Exec(`DELETE FROM generations WHERE id = ?`, b.ID); err != nil {
		t.Fatal(err)
	}
	os.Remove(s.Path(c.Image.ThumbPath))
	stray := filepath.Join(s.Root(), thumbsDir, "2020-01-01", "stray.jpg")
	os.MkdirAll(filepath.Dir(stray), 0o755)
	os.WriteFile(stray, []byte("x"), 0o644)
	oldTemp := filepath.Join(s.Root(), imagesDir, tempPrefix+"old")
	newTemp := filepath.Join(s.Root(), imagesDir, tempPrefix+"new")
	os.WriteFile(oldTemp, []byte("half"), 0o644)
	os.WriteFile(newTemp, []byte("in progress"), 0o644)
	past := s.now().Add(-time.Hour)
	os.Chtimes(oldTemp, past, past)
	s.now = func() time.Time { return time.Now() }

	rep, err := s.Fsck(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Clean() || rep.Repaired {
		t.Fatalf("problems not found: %+v", rep)
	}
	if len(rep.MissingImages) != 1 || rep.MissingImages[0].ID != a.ID {
		t.Errorf("missing images %v, want %d", rep.MissingImages, a.ID)
	}
	if !reflect.DeepEqual(rep.OrphanImages, []string{b.Image.Path}) {
		t.Errorf("orphan images %v, want %s", rep.OrphanImages, b.Image.Path)
	}
	if len(rep.MissingThumbs) != 1 || rep.MissingThumbs[0].ID != c.ID {
		t.Errorf("missing thumbs %v", rep.MissingThumbs)
	}
	// b's thumbnail is an orphan too until b is adopted.
	if len(rep.OrphanThumbs) != 2 {
		t.Errorf("orphan thumbs %v", rep.OrphanThumbs)
	}
	if !reflect.DeepEqual(rep.TempFiles, []string{imagesDir + "/" + tempPrefix + "old"}) {
		t.Errorf("temp files %v (the young one must be left alone)", rep.TempFiles)
	}
	if !rep.SearchOutOfSync { // b's search row outlived its generation
		t.Error("search index drift not found")
	}

	rep, err = s.Fsck(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Repaired || len(rep.Actions) == 0 {
		t.Fatalf("nothing repaired: %+v", rep)
	}
	rep, err = s.Fsck(ctx, false)
	if err != nil || !rep.Clean() {
		t.Fatalf("not clean after repair: %+v %v", rep, err)
	}
	if _, err := os.Stat(newTemp); err != nil {
		t.Error("a young temporary file (a save in progress) was removed")
	}
	// b is back, with its settings read from the file's metadata.
	p, _ := s.List(ctx, Query{Text: "vanished"})
	if len(p.Items) != 1 || p.Items[0].Prompt != "file whose row vanished" || p.Items[0].Seed != 2 ||
		p.Items[0].Image.Path != b.Image.Path {
		t.Errorf("adopted: %+v", p.Items)
	}
	if _, err := s.Get(ctx, a.ID); err == nil {
		t.Error("row without image survived repair")
	}
	if _, err := os.Stat(s.Path(c.Image.ThumbPath)); err != nil {
		t.Error("thumbnail not rebuilt")
	}
}

// TestRebuildAfterLosingDatabase: the documented recovery for a damaged
// database is to move it aside and run fsck --repair.
func TestRebuildAfterLosingDatabase(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	for i := 0; i < 5; i++ {
		saveTest(t, s, "remember me", uint64(i))
	}
	root := s.Root()
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Rename(filepath.Join(root, DBName+suffix), filepath.Join(root, DBName+suffix+".broken"))
	}
	s2, err := Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Fsck(ctx, true); err != nil {
		t.Fatal(err)
	}
	p, err := s2.List(ctx, Query{Text: "remember"})
	if err != nil || len(p.Items) != 5 {
		t.Fatalf("rebuilt %d rows, %v", len(p.Items), err)
	}
	seeds := map[uint64]bool{}
	for _, g := range p.Items {
		seeds[g.Seed] = true
	}
	if len(seeds) != 5 {
		t.Errorf("seeds after rebuild: %v", seeds)
	}
}

func TestExportFolderAndZip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := saveTest(t, s, "export me, please", 11)
	b := saveTest(t, s, "and me", 12)
	ids := []int64{a.ID, b.ID}

	dir := filepath.Join(t.TempDir(), "out")
	rep, err := s.Export(ctx, ids, dir)
	if err != nil || rep.Images != 2 {
		t.Fatalf("export: %+v %v", rep, err)
	}
	orig, _ := os.ReadFile(s.Path(a.Image.Path))
	copied, err := os.ReadFile(filepath.Join(dir, filepathBase(a)))
	if err != nil || string(orig) != string(copied) {
		t.Errorf("exported image differs from the library copy: %v", err)
	}
	f, _ := os.Open(filepath.Join(dir, "settings.csv"))
	records, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(records) != 3 || records[1][6] != "export me, please" || records[1][8] != "11" || records[0][6] != "prompt" {
		t.Errorf("settings.csv = %v %v", records, err)
	}
	var gens []Generation
	js, _ := os.ReadFile(filepath.Join(dir, "settings.json"))
	if err := json.Unmarshal(js, &gens); err != nil || len(gens) != 2 || gens[1].Seed != 12 {
		t.Errorf("settings.json: %v %v", gens, err)
	}

	zp := filepath.Join(t.TempDir(), "pick.zip")
	if _, err := s.Export(ctx, ids, zp); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zp)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if len(names) != 4 || !strings.HasSuffix(names[0], ".png") || names[3] != "settings.csv" {
		t.Errorf("zip entries %v", names)
	}
	if _, err := s.Export(ctx, []int64{999}, dir); err == nil {
		t.Error("export of a missing id succeeded")
	}
}

// filepathBase is the name Export gives an image: "<id>-<library file name>".
func filepathBase(g Generation) string {
	return strconv.FormatInt(g.ID, 10) + "-" + filepath.Base(g.Image.Path)
}
