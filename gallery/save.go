package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path"
	"strings"
	"time"

	"github.com/disintegration/imaging"
)

// MetaKeyword is the PNG text keyword of Diptych's own JSON metadata.
const MetaKeyword = "diptych"

// MetaSchema is the version of the JSON in the "diptych" chunk.
const MetaSchema = 1

// maxPixels bounds images we decode (a PNG header can claim any size).
const maxPixels = 16384 * 16384

// fileMeta is the JSON stored in the "diptych" PNG chunk: everything needed
// to rebuild the history row from the file alone.
type fileMeta struct {
	Schema            int            `json:"schema"`
	App               string         `json:"app"`
	AppVersion        string         `json:"app_version,omitempty"`
	CreatedAt         time.Time      `json:"created_at"`
	Engine            string         `json:"engine"`
	Model             string         `json:"model"`
	ModelHash         string         `json:"model_hash,omitempty"`
	Prompt            string         `json:"prompt"`
	NegativePrompt    string         `json:"negative_prompt,omitempty"`
	Seed              uint64         `json:"seed"`
	Steps             int            `json:"steps"`
	Scheduler         string         `json:"scheduler"`
	Width             int            `json:"width"`
	Height            int            `json:"height"`
	Guidance          float64        `json:"guidance"`
	Temperature       float64        `json:"temperature,omitempty"`
	RNG               string         `json:"rng,omitempty"`
	Device            string         `json:"device,omitempty"`
	ExecutionProvider string         `json:"execution_provider,omitempty"`
	Precision         string         `json:"precision,omitempty"`
	Timings           []StageTiming  `json:"timings,omitempty"`
	PeakMemoryBytes   int64          `json:"peak_memory_bytes,omitempty"`
	GroupID           int64          `json:"group_id,omitempty"`
	GroupKind         GroupKind      `json:"group_kind,omitempty"` // "compare" → pair id, "sweep" → sweep id
	GroupIndex        int            `json:"group_index,omitempty"`
	Params            map[string]any `json:"params,omitempty"`
}

func metaFromGeneration(g Generation, kind GroupKind) fileMeta {
	return fileMeta{
		Schema: MetaSchema, App: "diptych", AppVersion: g.AppVersion, CreatedAt: g.CreatedAt.UTC(),
		Engine: g.Engine, Model: g.Model, ModelHash: g.ModelHash,
		Prompt: g.Prompt, NegativePrompt: g.NegativePrompt, Seed: g.Seed, Steps: g.Steps,
		Scheduler: g.Scheduler, Width: g.Width, Height: g.Height, Guidance: g.Guidance,
		Temperature: g.Temperature, RNG: g.RNG, Device: g.Device,
		ExecutionProvider: g.ExecutionProvider, Precision: g.Precision, Timings: g.Timings,
		PeakMemoryBytes: g.PeakMemoryBytes, GroupID: g.GroupID, GroupKind: kind,
		GroupIndex: g.GroupIndex, Params: g.Params,
	}
}

func (m fileMeta) generation() Generation {
	return Generation{
		CreatedAt: m.CreatedAt, Engine: m.Engine, Model: m.Model, ModelHash: m.ModelHash,
		Prompt: m.Prompt, NegativePrompt: m.NegativePrompt, Seed: m.Seed, Steps: m.Steps,
		Scheduler: m.Scheduler, Width: m.Width, Height: m.Height, Guidance: m.Guidance,
		Temperature: m.Temperature, RNG: m.RNG, Device: m.Device,
		ExecutionProvider: m.ExecutionProvider, Precision: m.Precision, Timings: m.Timings,
		PeakMemoryBytes: m.PeakMemoryBytes, GroupIndex: m.GroupIndex, Params: m.Params,
		AppVersion: m.AppVersion, Status: StatusOK, Source: SourceDiptych,
	}
}

// MetadataChunks returns the text chunks Diptych writes into a PNG for g:
// "parameters" (A1111 text) and "diptych" (our JSON). groupKind may be empty.
func MetadataChunks(g Generation, groupKind GroupKind) ([]TextChunk, error) {
	js, err := json.Marshal(metaFromGeneration(g, groupKind))
	if err != nil {
		return nil, fmt.Errorf("encode diptych metadata: %w", err)
	}
	return []TextChunk{
		{Keyword: "parameters", Text: FormatA1111(A1111FromGeneration(g))},
		{Keyword: MetaKeyword, Text: string(js)},
	}, nil
}

// encoded is an image ready to be written: final PNG bytes and thumbnail.
type encoded struct {
	png, thumb    []byte
	sha           string
	width, height int
}

// encodeImage builds the PNG (with our metadata unless keepPNG) and the
// thumbnail. It fills g.Width/g.Height from the image when they are zero.
func encodeImage(g *Generation, groupKind GroupKind, img image.Image, pngData []byte, keepPNG bool) (*encoded, error) {
	var err error
	if pngData != nil {
		cfg, err := png.DecodeConfig(bytes.NewReader(pngData))
		if err != nil {
			return nil, fmt.Errorf("decode PNG header: %w", err)
		}
		if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
			return nil, fmt.Errorf("PNG is %dx%d, more than the %d pixels allowed", cfg.Width, cfg.Height, maxPixels)
		}
		if img, err = png.Decode(bytes.NewReader(pngData)); err != nil {
			return nil, fmt.Errorf("decode PNG: %w", err)
		}
	} else if img == nil {
		return nil, errors.New("no image")
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	if g.Width == 0 || g.Height == 0 {
		g.Width, g.Height = b.Dx(), b.Dy()
	}
	out := &encoded{width: b.Dx(), height: b.Dy()}
	if pngData == nil {
		var buf bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img); err != nil {
			return nil, fmt.Errorf("encode PNG: %w", err)
		}
		pngData = buf.Bytes()
	}
	if keepPNG {
		out.png = pngData
	} else {
		chunks, err := MetadataChunks(*g, groupKind)
		if err != nil {
			return nil, err
		}
		if out.png, err = SetPNGText(pngData, chunks); err != nil {
			return nil, fmt.Errorf("write PNG metadata: %w", err)
		}
	}
	if out.thumb, err = makeThumb(img); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(out.png)
	out.sha = hex.EncodeToString(sum[:])
	return out, nil
}

// makeThumb scales img to ThumbSize on its long side (never up) as a JPEG.
func makeThumb(img image.Image) ([]byte, error) {
	t := imaging.Fit(img, ThumbSize, ThumbSize, imaging.Lanczos)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, t, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("encode thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}

// savedFiles are the library-relative paths a save wrote.
type savedFiles struct {
	image, thumb string
	enc          *encoded
}

// dayFolder is the date folder of a creation time, in local time.
func dayFolder(t time.Time) string { return t.Local().Format("2006-01-02") }

// writeFiles writes the image and its thumbnail atomically under date
// folders. Names are the time of day plus the start of the SHA-256; a name
// already taken gets a numeric suffix.
func (s *Store) writeFiles(created time.Time, enc *encoded) (*savedFiles, error) {
	day := dayFolder(created)
	base := created.Local().Format("150405") + "-" + enc.sha[:10]
	imgDir := path.Join(imagesDir, day)
	thumbDir := path.Join(thumbsDir, day)

	s.nameMu.Lock()
	defer s.nameMu.Unlock()
	name := base
	for i := 2; ; i++ {
		if !exists(s.Path(path.Join(imgDir, name+".png"))) && !exists(s.Path(path.Join(thumbDir, name+".jpg"))) {
			break
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
	f := &savedFiles{image: path.Join(imgDir, name+".png"), thumb: path.Join(thumbDir, name+".jpg"), enc: enc}
	if err := writeFileAtomic(s.fs, s.Path(imgDir), name+".png", enc.png); err != nil {
		return nil, fmt.Errorf("save image: %w", err)
	}
	if err := writeFileAtomic(s.fs, s.Path(thumbDir), name+".jpg", enc.thumb); err != nil {
		s.fs.Remove(s.Path(f.image))
		return nil, fmt.Errorf("save thumbnail: %w", err)
	}
	return f, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// removeFiles undoes writeFiles after a failed commit.
func (s *Store) removeFiles(f *savedFiles) {
	if f == nil {
		return
	}
	s.fs.Remove(s.Path(f.thumb))
	s.fs.Remove(s.Path(f.image))
}

// normalize validates g and fills defaults.
func (s *Store) normalize(g *Generation) error {
	if strings.IndexByte(g.Prompt, 0) >= 0 || strings.IndexByte(g.NegativePrompt, 0) >= 0 {
		return errors.New("save generation: prompt contains a NUL byte")
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.now()
	}
	g.CreatedAt = fromMS(g.CreatedAt.UnixMilli())
	if g.Status == "" {
		g.Status = StatusOK
	}
	switch g.Status {
	case StatusOK, StatusFailed, StatusCancelled:
	default:
		return fmt.Errorf("save generation: status %q, expected ok, failed or cancelled", g.Status)
	}
	if g.Source == "" {
		g.Source = SourceDiptych
	}
	if g.Width < 0 || g.Height < 0 || g.Steps < 0 {
		return fmt.Errorf("save generation: negative size %dx%d or steps %d", g.Width, g.Height, g.Steps)
	}
	g.ID, g.PromptID, g.Image, g.DeletedAt, g.Favourite, g.Boards, g.Captions = 0, 0, nil, nil, false, nil, nil
	return nil
}

// Save stores one generation: the PNG (with A1111 and Diptych metadata) and
// its thumbnail are written to temporary files, synced and renamed into the
// library, and only then is the row committed. If anything fails, no row and
// no visible file remain. A failed run (no image) is stored as a row only.
func (s *Store) Save(ctx context.Context, req SaveRequest) (Generation, error) {
	return s.save(ctx, req.Generation, req.Image, req.PNG, false)
}

func (s *Store) save(ctx context.Context, g Generation, img image.Image, pngData []byte, keepPNG bool) (Generation, error) {
	if err := s.normalize(&g); err != nil {
		return Generation{}, err
	}
	if err := ctx.Err(); err != nil {
		return Generation{}, err
	}
	var kind GroupKind
	if g.GroupID != 0 {
		grp, err := s.group(ctx, g.GroupID)
		if err != nil {
			return Generation{}, fmt.Errorf("save generation: %w", err)
		}
		kind = grp.Kind
	}
	var files *savedFiles
	if img != nil || pngData != nil {
		enc, err := encodeImage(&g, kind, img, pngData, keepPNG)
		if err != nil {
			return Generation{}, fmt.Errorf("save generation: %w", err)
		}
		if files, err = s.writeFiles(g.CreatedAt, enc); err != nil {
			return Generation{}, fmt.Errorf("save generation in %s: %w", s.root, err)
		}
	}
	if err := s.insert(ctx, &g, files); err != nil {
		s.removeFiles(files)
		return Generation{}, fmt.Errorf("save generation in %s: %w", s.dbPath, err)
	}
	return g, nil
}

// insert writes the rows for g (and its files) in one transaction.
func (s *Store) insert(ctx context.Context, g *Generation, files *savedFiles) error {
	timings, err := json.Marshal(nonNil(g.Timings))
	if err != nil {
		return fmt.Errorf("encode timings: %w", err)
	}
	params, err := json.Marshal(nonNilMap(g.Params))
	if err != nil {
		return fmt.Errorf("encode params: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	ms := g.CreatedAt.UnixMilli()
	if g.PromptID, err = upsertPrompt(ctx, tx, g.Prompt, g.NegativePrompt, ms); err != nil {
		return err
	}
	var groupID any
	if g.GroupID != 0 {
		groupID = g.GroupID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO generations (created_at, prompt_id, engine, model, model_hash,
		seed, steps, scheduler, width, height, guidance, device, provider, precision, rng, timings,
		peak_memory, status, error, group_id, group_index, source, params)
		VALUES (?,?,?,?,?, ?,?,?,?,?,?, ?,?,?,?,?, ?,?,?,?,?,?,?)`,
		ms, g.PromptID, g.Engine, g.Model, g.ModelHash,
		int64(g.Seed), g.Steps, g.Scheduler, g.Width, g.Height, g.Guidance,
		g.Device, g.ExecutionProvider, g.Precision, g.RNG, string(timings),
		g.PeakMemoryBytes, string(g.Status), g.Error, groupID, g.GroupIndex, g.Source, string(params))
	if err != nil {
		return fmt.Errorf("insert generation: %w", err)
	}
	if g.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("insert generation: %w", err)
	}
	if files != nil {
		im := &Image{Path: files.image, ThumbPath: files.thumb, SHA256: files.enc.sha,
			Width: files.enc.width, Height: files.enc.height, Bytes: int64(len(files.enc.png))}
		res, err := tx.ExecContext(ctx, `INSERT INTO images (generation_id, path, thumb_path, sha256, width, height, bytes)
			VALUES (?,?,?,?,?,?,?)`, g.ID, im.Path, im.ThumbPath, im.SHA256, im.Width, im.Height, im.Bytes)
		if err != nil {
			return fmt.Errorf("insert image %s: %w", im.Path, err)
		}
		if im.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert image: %w", err)
		}
		g.Image = im
	}
	if err := refreshSearch(ctx, tx, g.ID); err != nil {
		return err
	}
	if s.beforeCommit != nil {
		if err := s.beforeCommit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func upsertPrompt(ctx context.Context, tx *sql.Tx, text, negative string, ms int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO prompts (text, negative, first_used, last_used, use_count)
		VALUES (?, ?, ?, ?, 1)
		ON CONFLICT (text, negative) DO UPDATE SET
			first_used = min(first_used, excluded.first_used),
			last_used = max(last_used, excluded.last_used),
			use_count = use_count + 1
		RETURNING id`, text, negative, ms, ms).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("record prompt: %w", err)
	}
	return id, nil
}

// refreshSearch rewrites the full-text row of one generation from its prompt,
// captions and boards.
func refreshSearch(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM search WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("update search index for %d: %w", id, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO search (rowid, prompt, negative, caption, tags)
		SELECT g.id, p.text, p.negative,
			coalesce((SELECT group_concat(c.answer, ' ') FROM captions c WHERE c.generation_id = g.id), ''),
			coalesce((SELECT group_concat(b.name, ' ') FROM board_items bi JOIN boards b ON b.id = bi.board_id
				WHERE bi.generation_id = g.id), '')
		FROM generations g JOIN prompts p ON p.id = g.prompt_id WHERE g.id = ?`, id)
	if err != nil {
		return fmt.Errorf("update search index for %d: %w", id, err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nonNilMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
