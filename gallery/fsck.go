package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// FsckRow names a generation that fsck found a problem with.
type FsckRow struct {
	ID    int64  `json:"id"`
	Path  string `json:"path"`
	thumb string
}

// FsckReport lists what Fsck found and, with repair, what it fixed.
type FsckReport struct {
	Rows            int       `json:"rows"`                     // generations in the database
	Files           int       `json:"files"`                    // image files under images/
	Integrity       string    `json:"integrity"`                // SQLite integrity_check: "ok" or its findings
	MissingImages   []FsckRow `json:"missing_images,omitempty"` // rows whose image file is gone
	MissingThumbs   []FsckRow `json:"missing_thumbs,omitempty"` // rows whose thumbnail is gone
	SizeMismatch    []FsckRow `json:"size_mismatch,omitempty"`  // file size differs from the row (damaged file)
	OrphanImages    []string  `json:"orphan_images,omitempty"`  // image files without a row
	OrphanThumbs    []string  `json:"orphan_thumbs,omitempty"`  // thumbnails without a row
	TempFiles       []string  `json:"temp_files,omitempty"`     // leftovers of interrupted saves
	SearchOutOfSync bool      `json:"search_out_of_sync,omitempty"`
	Repaired        bool      `json:"repaired"`
	Actions         []string  `json:"actions,omitempty"` // what repair did
}

// Clean reports whether nothing needs repair.
func (r FsckReport) Clean() bool {
	return r.Integrity == "ok" && len(r.MissingImages) == 0 && len(r.MissingThumbs) == 0 &&
		len(r.SizeMismatch) == 0 && len(r.OrphanImages) == 0 && len(r.OrphanThumbs) == 0 &&
		len(r.TempFiles) == 0 && !r.SearchOutOfSync
}

// Fsck compares the database with the files. With repair it removes rows
// whose image is gone, adopts image files without rows (settings read from
// their metadata, so a lost database can be rebuilt), regenerates missing
// thumbnails, deletes orphan thumbnails and temporary files older than a few
// minutes, and rebuilds the search index if it is out of step. Files whose
// size differs from their row are only reported.
func (s *Store) Fsck(ctx context.Context, repair bool) (FsckReport, error) {
	var rep FsckReport
	if err := s.w.QueryRowContext(ctx, `PRAGMA integrity_check(20)`).Scan(&rep.Integrity); err != nil {
		return rep, fmt.Errorf("fsck %s: integrity check: %w", s.dbPath, err)
	}
	// What the database knows.
	type row struct {
		id          int64
		path, thumb string
		bytes       int64
	}
	known := map[string]row{}
	knownThumbs := map[string]bool{}
	var rows []row
	q, err := s.w.QueryContext(ctx, `SELECT g.id, i.path, i.thumb_path, i.bytes FROM generations g
		JOIN images i ON i.generation_id = g.id`)
	if err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.dbPath, err)
	}
	for q.Next() {
		var r row
		if err := q.Scan(&r.id, &r.path, &r.thumb, &r.bytes); err != nil {
			q.Close()
			return rep, fmt.Errorf("fsck %s: %w", s.dbPath, err)
		}
		rows = append(rows, r)
		known[r.path] = r
		knownThumbs[r.thumb] = true
	}
	q.Close()
	if err := q.Err(); err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.dbPath, err)
	}
	var searchRows int
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM generations`).Scan(&rep.Rows); err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.dbPath, err)
	}
	if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM search`).Scan(&searchRows); err != nil {
		return rep, fmt.Errorf("fsck %s: %w", s.dbPath, err)
	}
	rep.SearchOutOfSync = searchRows != rep.Rows

	// What is on disk.
	onDisk := map[string]int64{}
	thumbsOnDisk := map[string]bool{}
	cutoff := s.now().Add(-s.tempGrace)
	walk := func(top string, visit func(rel string, size int64)) error {
		err := filepath.WalkDir(s.Path(top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if isNotExist(err) {
					return nil
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(s.root, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			info, err := d.Info()
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), tempPrefix) {
				if info.ModTime().Before(cutoff) {
					rep.TempFiles = append(rep.TempFiles, rel)
				}
				return nil
			}
			visit(rel, info.Size())
			return nil
		})
		if err != nil {
			return fmt.Errorf("fsck: scan %s: %w", s.Path(top), err)
		}
		return nil
	}
	if err := walk(imagesDir, func(rel string, size int64) {
		if strings.EqualFold(path.Ext(rel), ".png") {
			onDisk[rel] = size
		}
	}); err != nil {
		return rep, err
	}
	if err := walk(thumbsDir, func(rel string, size int64) { thumbsOnDisk[rel] = true }); err != nil {
		return rep, err
	}
	rep.Files = len(onDisk)
	for _, r := range rows {
		size, ok := onDisk[r.path]
		switch {
		case !ok:
			rep.MissingImages = append(rep.MissingImages, FsckRow{r.id, r.path, r.thumb})
			continue
		case size != r.bytes:
			rep.SizeMismatch = append(rep.SizeMismatch, FsckRow{ID: r.id, Path: r.path})
		}
		if !thumbsOnDisk[r.thumb] {
			rep.MissingThumbs = append(rep.MissingThumbs, FsckRow{ID: r.id, Path: r.path})
		}
	}
	for rel := range onDisk {
		if _, ok := known[rel]; !ok {
			rep.OrphanImages = append(rep.OrphanImages, rel)
		}
	}
	for rel := range thumbsOnDisk {
		if !knownThumbs[rel] && !(repair && orphanThumbWillBeReused(rel, rep.OrphanImages)) {
			rep.OrphanThumbs = append(rep.OrphanThumbs, rel)
		}
	}
	sort.Strings(rep.OrphanImages)
	sort.Strings(rep.OrphanThumbs)
	sort.Strings(rep.TempFiles)
	if !repair || rep.Clean() {
		return rep, nil
	}
	return rep, s.repair(ctx, &rep)
}

// thumbFor is the thumbnail path for an image path.
func thumbFor(imageRel string) string {
	rel := strings.TrimPrefix(imageRel, imagesDir+"/")
	return path.Join(thumbsDir, strings.TrimSuffix(rel, path.Ext(rel))+".jpg")
}

func orphanThumbWillBeReused(thumb string, orphans []string) bool {
	for _, o := range orphans {
		if thumbFor(o) == thumb {
			return true
		}
	}
	return false
}

func (s *Store) repair(ctx context.Context, rep *FsckReport) error {
	rep.Repaired = true
	act := func(format string, a ...any) { rep.Actions = append(rep.Actions, fmt.Sprintf(format, a...)) }
	for _, rel := range rep.TempFiles {
		if err := s.fs.Remove(s.Path(rel)); err != nil && !isNotExist(err) {
			return fmt.Errorf("fsck: remove %s: %w", rel, err)
		}
		act("removed temporary file %s", rel)
	}
	if len(rep.MissingImages) > 0 {
		err := s.write(ctx, "fsck: remove rows without images", func(tx *sql.Tx) error {
			for _, r := range rep.MissingImages {
				if err := deleteGeneration(ctx, tx, r.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range rep.MissingImages {
			if err := s.fs.Remove(s.Path(r.thumb)); err != nil && !isNotExist(err) {
				return fmt.Errorf("fsck: remove %s: %w", r.thumb, err)
			}
			act("removed generation %d: its image %s is missing", r.ID, r.Path)
		}
	}
	for _, r := range rep.MissingThumbs {
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			return fmt.Errorf("fsck: %w", err)
		}
		if err := s.remakeThumb(g.Image.Path, g.Image.ThumbPath); err != nil {
			act("could not rebuild thumbnail of %d: %v", r.ID, err)
			continue
		}
		act("rebuilt thumbnail %s", g.Image.ThumbPath)
	}
	for _, rel := range rep.OrphanThumbs {
		if err := s.fs.Remove(s.Path(rel)); err != nil && !isNotExist(err) {
			return fmt.Errorf("fsck: remove %s: %w", rel, err)
		}
		act("removed orphan thumbnail %s", rel)
	}
	for _, rel := range rep.OrphanImages {
		id, err := s.adopt(ctx, rel)
		if err != nil {
			act("could not adopt %s: %v", rel, err)
			continue
		}
		act("adopted %s as generation %d", rel, id)
	}
	if rep.SearchOutOfSync {
		err := s.write(ctx, "fsck: rebuild search index", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM search`); err != nil {
				return err
			}
			ids, err := tx.QueryContext(ctx, `SELECT id FROM generations`)
			if err != nil {
				return err
			}
			var all []int64
			for ids.Next() {
				var id int64
				if err := ids.Scan(&id); err != nil {
					ids.Close()
					return err
				}
				all = append(all, id)
			}
			ids.Close()
			for _, id := range all {
				if err := refreshSearch(ctx, tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		act("rebuilt the search index")
	}
	return nil
}

// remakeThumb decodes an image of the library and writes its thumbnail.
func (s *Store) remakeThumb(imageRel, thumbRel string) error {
	data, err := os.ReadFile(s.Path(imageRel))
	if err != nil {
		return err
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decode %s: %w", imageRel, err)
	}
	th, err := makeThumb(img)
	if err != nil {
		return err
	}
	return writeFileAtomic(s.fs, s.Path(path.Dir(thumbRel)), path.Base(thumbRel), th)
}

// adopt gives an image file already inside the library a row, reading its
// settings from its metadata.
func (s *Store) adopt(ctx context.Context, rel string) (int64, error) {
	p := s.Path(rel)
	data, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("decode %s: %w", rel, err)
	}
	g, _ := generationFromPNG(data)
	if g.CreatedAt.IsZero() {
		if st, err := os.Stat(p); err == nil {
			g.CreatedAt = st.ModTime()
		}
	}
	if err := s.normalize(&g); err != nil {
		return 0, err
	}
	if g.Width == 0 || g.Height == 0 {
		g.Width, g.Height = cfg.Width, cfg.Height
	}
	thumb := thumbFor(rel)
	if !exists(s.Path(thumb)) {
		if err := s.remakeThumb(rel, thumb); err != nil {
			return 0, err
		}
	}
	sum := sha256.Sum256(data)
	files := &savedFiles{image: rel, thumb: thumb, enc: &encoded{
		png: data, sha: hex.EncodeToString(sum[:]), width: cfg.Width, height: cfg.Height}}
	if err := s.insert(ctx, &g, files); err != nil {
		return 0, err
	}
	return g.ID, nil
}
