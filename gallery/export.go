package gallery

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ExportReport says what Export wrote.
type ExportReport struct {
	Dest    string  `json:"dest"`
	Images  int     `json:"images"`
	Bytes   int64   `json:"bytes"`
	Missing []int64 `json:"missing,omitempty"` // ids without an image file
}

// csvHeader is the column list of settings.csv.
var csvHeader = []string{"id", "created_at", "file", "engine", "model", "model_hash", "prompt", "negative_prompt",
	"seed", "steps", "scheduler", "width", "height", "guidance", "rng", "device", "provider", "precision",
	"status", "favourite", "group_id"}

// Export copies the images of the given generations, byte for byte (so
// their metadata is kept), to dest with settings.json and settings.csv next
// to them. dest is a folder, or a zip file when it ends in ".zip"; an
// existing zip is replaced atomically.
func (s *Store) Export(ctx context.Context, ids []int64, dest string) (ExportReport, error) {
	rep := ExportReport{Dest: dest}
	gens := make([]Generation, 0, len(ids))
	for _, id := range ids {
		g, err := s.Get(ctx, id)
		if err != nil {
			return rep, fmt.Errorf("export: %w", err)
		}
		gens = append(gens, g)
	}
	type entry struct {
		name string
		src  string // file in the library, or "" for data
		data []byte
	}
	var entries []entry
	var table [][]string
	table = append(table, csvHeader)
	used := map[string]bool{}
	for _, g := range gens {
		name := ""
		if g.Image != nil {
			name = fmt.Sprintf("%d-%s", g.ID, path.Base(g.Image.Path))
			for used[name] {
				name = "_" + name
			}
			used[name] = true
			entries = append(entries, entry{name: name, src: s.Path(g.Image.Path)})
		} else {
			rep.Missing = append(rep.Missing, g.ID)
		}
		table = append(table, []string{
			strconv.FormatInt(g.ID, 10), g.CreatedAt.UTC().Format(time.RFC3339Nano), name, g.Engine, g.Model,
			g.ModelHash, g.Prompt, g.NegativePrompt, strconv.FormatUint(g.Seed, 10), strconv.Itoa(g.Steps),
			g.Scheduler, strconv.Itoa(g.Width), strconv.Itoa(g.Height), formatFloat(g.Guidance), g.RNG,
			g.Device, g.ExecutionProvider, g.Precision, string(g.Status), strconv.FormatBool(g.Favourite),
			strconv.FormatInt(g.GroupID, 10),
		})
	}
	js, err := json.MarshalIndent(gens, "", "  ")
	if err != nil {
		return rep, fmt.Errorf("export: encode settings.json: %w", err)
	}
	var csvBuf bytes.Buffer
	cw := csv.NewWriter(&csvBuf)
	if err := cw.WriteAll(table); err != nil {
		return rep, fmt.Errorf("export: encode settings.csv: %w", err)
	}
	entries = append(entries, entry{name: "settings.json", data: js}, entry{name: "settings.csv", data: csvBuf.Bytes()})

	read := func(e entry) ([]byte, error) {
		if e.src == "" {
			return e.data, nil
		}
		b, err := os.ReadFile(e.src)
		if err != nil {
			return nil, fmt.Errorf("export: read %s: %w", e.src, err)
		}
		return b, nil
	}
	if strings.EqualFold(filepath.Ext(dest), ".zip") {
		return rep, exportZip(ctx, dest, func(zw *zip.Writer) error {
			for _, e := range entries {
				if err := ctx.Err(); err != nil {
					return err
				}
				b, err := read(e)
				if err != nil {
					return err
				}
				method := zip.Deflate
				if e.src != "" {
					method = zip.Store // PNG is already compressed
				}
				w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method, Modified: time.Now()})
				if err == nil {
					_, err = w.Write(b)
				}
				if err != nil {
					return fmt.Errorf("export: zip %s: %w", e.name, err)
				}
				if e.src != "" {
					rep.Images++
					rep.Bytes += int64(len(b))
				}
			}
			return nil
		})
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		b, err := read(e)
		if err != nil {
			return rep, err
		}
		if err := writeFileAtomic(osFS{}, dest, e.name, b); err != nil {
			return rep, fmt.Errorf("export: %w", err)
		}
		if e.src != "" {
			rep.Images++
			rep.Bytes += int64(len(b))
		}
	}
	return rep, nil
}

// exportZip streams a zip to a temporary file next to dest and renames it
// into place once complete.
func exportZip(ctx context.Context, dest string, fill func(*zip.Writer) error) (err error) {
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: create folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*.zip")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	zw := zip.NewWriter(f)
	if err = fill(zw); err != nil {
		return err
	}
	if err = zw.Close(); err != nil {
		return fmt.Errorf("export: zip: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("export: sync %s: %w", f.Name(), err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("export: close %s: %w", f.Name(), err)
	}
	if err = os.Rename(f.Name(), dest); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
