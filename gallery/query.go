package gallery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// genColumns is the select list that scanGeneration reads.
const genColumns = `g.id, g.created_at, g.prompt_id, p.text, p.negative, g.engine, g.model, g.model_hash,
	g.seed, g.steps, g.scheduler, g.width, g.height, g.guidance, g.device, g.provider, g.precision,
	g.rng, g.timings, g.peak_memory, g.status, g.error, coalesce(g.group_id, 0), g.group_index,
	g.source, g.params, g.favourite, g.deleted_at,
	i.id, i.path, i.thumb_path, i.sha256, i.width, i.height, i.bytes`

const genFrom = ` FROM generations g JOIN prompts p ON p.id = g.prompt_id LEFT JOIN images i ON i.generation_id = g.id`

type scanner interface{ Scan(dest ...any) error }

func scanGeneration(sc scanner) (Generation, error) {
	var g Generation
	var created, seed int64
	var status, timings, params string
	var deleted, imgID, iw, ih, ib sql.NullInt64
	var ipath, ithumb, isha sql.NullString
	err := sc.Scan(&g.ID, &created, &g.PromptID, &g.Prompt, &g.NegativePrompt, &g.Engine, &g.Model, &g.ModelHash,
		&seed, &g.Steps, &g.Scheduler, &g.Width, &g.Height, &g.Guidance, &g.Device, &g.ExecutionProvider, &g.Precision,
		&g.RNG, &timings, &g.PeakMemoryBytes, &status, &g.Error, &g.GroupID, &g.GroupIndex,
		&g.Source, &params, &g.Favourite, &deleted,
		&imgID, &ipath, &ithumb, &isha, &iw, &ih, &ib)
	if err != nil {
		return g, err
	}
	g.CreatedAt = fromMS(created)
	g.Seed = uint64(seed)
	g.Status = Status(status)
	if deleted.Valid {
		t := fromMS(deleted.Int64)
		g.DeletedAt = &t
	}
	if timings != "" && timings != "[]" {
		if err := json.Unmarshal([]byte(timings), &g.Timings); err != nil {
			return g, fmt.Errorf("generation %d: timings JSON: %w", g.ID, err)
		}
	}
	if params != "" && params != "{}" {
		if err := json.Unmarshal([]byte(params), &g.Params); err != nil {
			return g, fmt.Errorf("generation %d: params JSON: %w", g.ID, err)
		}
	}
	if imgID.Valid {
		g.Image = &Image{ID: imgID.Int64, Path: ipath.String, ThumbPath: ithumb.String, SHA256: isha.String,
			Width: int(iw.Int64), Height: int(ih.Int64), Bytes: ib.Int64}
	}
	return g, nil
}

// cursor is the keyset position of the last item on a page.
type cursor struct{ ms, id int64 }

func (c cursor) String() string {
	return strconv.FormatInt(c.ms, 10) + "." + strconv.FormatInt(c.id, 10)
}

func parseCursor(s string) (cursor, error) {
	a, b, ok := strings.Cut(s, ".")
	ms, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return cursor{}, fmt.Errorf("page cursor %q: expected the Next value of a previous page", s)
	}
	return cursor{ms, id}, nil
}

// FTSQuery turns what a user typed into a safe FTS5 query: every word is a
// quoted phrase (so quotes, AND/OR/NOT, '*', '-', ':' and parentheses are
// plain text) and all words must match; the last word also matches as a
// prefix. It returns "" when there is nothing to search for.
func FTSQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' || unicode.Is(unicode.Mn, r))
	})
	if len(words) == 0 {
		return ""
	}
	for i, w := range words {
		words[i] = `"` + w + `"`
	}
	words[len(words)-1] += "*"
	return strings.Join(words, " ")
}

// List returns one page of generations, newest first, that match q.
func (s *Store) List(ctx context.Context, q Query) (Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	if q.Trash {
		add("g.deleted_at IS NOT NULL")
	} else {
		add("g.deleted_at IS NULL")
	}
	if q.Text != "" {
		fts := FTSQuery(q.Text)
		if fts == "" {
			return Page{Items: []Generation{}}, nil
		}
		// The unary + keeps SQLite walking the time index (newest first) and
		// probing the match set, instead of sorting every match: a common word
		// then costs a page, not the whole result.
		add("+g.id IN (SELECT rowid FROM search WHERE search MATCH ?)", fts)
	}
	if q.Model != "" {
		add("g.model = ?", q.Model)
	}
	if q.Scheduler != "" {
		add("g.scheduler = ?", q.Scheduler)
	}
	if q.Seed != nil {
		add("g.seed = ?", int64(*q.Seed))
	}
	if q.PromptID != 0 {
		add("g.prompt_id = ?", q.PromptID)
	}
	if q.GroupID != 0 {
		add("g.group_id = ?", q.GroupID)
	}
	if q.Board != "" {
		add("g.id IN (SELECT bi.generation_id FROM board_items bi JOIN boards b ON b.id = bi.board_id WHERE b.name = ?)", q.Board)
	}
	if q.Favourite {
		add("g.favourite = 1")
	}
	if q.Width > 0 {
		add("g.width = ?", q.Width)
	}
	if q.Height > 0 {
		add("g.height = ?", q.Height)
	}
	if !q.Since.IsZero() {
		add("g.created_at >= ?", q.Since.UnixMilli())
	}
	if !q.Until.IsZero() {
		add("g.created_at < ?", q.Until.UnixMilli())
	}
	if q.Status != "" {
		add("g.status = ?", string(q.Status))
	}
	if q.After != "" {
		c, err := parseCursor(q.After)
		if err != nil {
			return Page{}, err
		}
		add("(g.created_at, g.id) < (?, ?)", c.ms, c.id)
	}
	query := "SELECT " + genColumns + genFrom + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY g.created_at DESC, g.id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list history in %s: %w", s.dbPath, err)
	}
	defer rows.Close()
	page := Page{Items: make([]Generation, 0, min(limit, 64))}
	for rows.Next() {
		g, err := scanGeneration(rows)
		if err != nil {
			return Page{}, fmt.Errorf("list history in %s: %w", s.dbPath, err)
		}
		page.Items = append(page.Items, g)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list history in %s: %w", s.dbPath, err)
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.Next = cursor{last.CreatedAt.UnixMilli(), last.ID}.String()
	}
	return page, nil
}

// Get returns one generation with its image, boards and captions, whether
// live or in the trash.
func (s *Store) Get(ctx context.Context, id int64) (Generation, error) {
	g, err := scanGeneration(s.r.QueryRowContext(ctx, "SELECT "+genColumns+genFrom+" WHERE g.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Generation{}, fmt.Errorf("generation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Generation{}, fmt.Errorf("get generation %d: %w", id, err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT b.name FROM board_items bi JOIN boards b ON b.id = bi.board_id
		WHERE bi.generation_id = ? ORDER BY b.name`, id)
	if err != nil {
		return Generation{}, fmt.Errorf("get boards of %d: %w", id, err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return Generation{}, fmt.Errorf("get boards of %d: %w", id, err)
		}
		g.Boards = append(g.Boards, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Generation{}, fmt.Errorf("get boards of %d: %w", id, err)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT id, kind, question, answer, model, created_at FROM captions
		WHERE generation_id = ? ORDER BY created_at, id`, id)
	if err != nil {
		return Generation{}, fmt.Errorf("get captions of %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Caption
		var ms int64
		if err := rows.Scan(&c.ID, &c.Kind, &c.Question, &c.Answer, &c.Model, &ms); err != nil {
			return Generation{}, fmt.Errorf("get captions of %d: %w", id, err)
		}
		c.CreatedAt = fromMS(ms)
		g.Captions = append(g.Captions, c)
	}
	return g, rows.Err()
}

// RecentPrompts returns the most recently used prompts, newest first.
func (s *Store) RecentPrompts(ctx context.Context, limit int) ([]Prompt, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, text, negative, first_used, last_used, use_count
		FROM prompts ORDER BY last_used DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list prompts: %w", err)
	}
	defer rows.Close()
	var out []Prompt
	for rows.Next() {
		var p Prompt
		var first, last int64
		if err := rows.Scan(&p.ID, &p.Text, &p.Negative, &first, &last, &p.UseCount); err != nil {
			return nil, fmt.Errorf("list prompts: %w", err)
		}
		p.FirstUsed, p.LastUsed = fromMS(first), fromMS(last)
		out = append(out, p)
	}
	return out, rows.Err()
}

// Boards lists board names with how many live generations each holds.
func (s *Store) Boards(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT b.name, count(g.id) FROM boards b
		LEFT JOIN board_items bi ON bi.board_id = b.id
		LEFT JOIN generations g ON g.id = bi.generation_id AND g.deleted_at IS NULL
		GROUP BY b.id`)
	if err != nil {
		return nil, fmt.Errorf("list boards: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("list boards: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}
