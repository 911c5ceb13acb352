package gallery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// NewGroup creates a group (compare pair, sweep grid, batch, hybrid) that
// generations then name in Generation.GroupID.
func (s *Store) NewGroup(ctx context.Context, kind GroupKind, title string, params map[string]any) (Group, error) {
	switch kind {
	case GroupCompare, GroupSweep, GroupBatch, GroupHybrid:
	default:
		return Group{}, fmt.Errorf("new group: kind %q, expected compare, sweep, batch or hybrid", kind)
	}
	js, err := json.Marshal(nonNilMap(params))
	if err != nil {
		return Group{}, fmt.Errorf("new group: encode params: %w", err)
	}
	g := Group{Kind: kind, Title: title, CreatedAt: fromMS(s.nowMS()), Params: params}
	res, err := s.w.ExecContext(ctx, `INSERT INTO groups (kind, title, created_at, params) VALUES (?, ?, ?, ?)`,
		string(kind), title, g.CreatedAt.UnixMilli(), string(js))
	if err != nil {
		return Group{}, fmt.Errorf("new group in %s: %w", s.dbPath, err)
	}
	g.ID, err = res.LastInsertId()
	return g, err
}

// Group returns a group by id.
func (s *Store) Group(ctx context.Context, id int64) (Group, error) { return s.group(ctx, id) }

func (s *Store) group(ctx context.Context, id int64) (Group, error) {
	var g Group
	var kind, params string
	var ms int64
	err := s.r.QueryRowContext(ctx, `SELECT id, kind, title, created_at, params FROM groups WHERE id = ?`, id).
		Scan(&g.ID, &kind, &g.Title, &ms, &params)
	if errors.Is(err, sql.ErrNoRows) {
		return Group{}, fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Group{}, fmt.Errorf("get group %d: %w", id, err)
	}
	g.Kind, g.CreatedAt = GroupKind(kind), fromMS(ms)
	if params != "{}" {
		if err := json.Unmarshal([]byte(params), &g.Params); err != nil {
			return Group{}, fmt.Errorf("group %d: params JSON: %w", id, err)
		}
	}
	return g, nil
}

// write runs fn in one write transaction.
func (s *Store) write(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

func mustAffect(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("generation %d: %w", id, ErrNotFound)
	}
	return nil
}

// SetFavourite marks or unmarks a generation as a favourite.
func (s *Store) SetFavourite(ctx context.Context, id int64, on bool) error {
	return s.write(ctx, fmt.Sprintf("set favourite of %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE generations SET favourite = ? WHERE id = ?`, on, id)
		if err != nil {
			return err
		}
		return mustAffect(res, id)
	})
}

// AddToBoard puts a generation on a board (a named collection, also usable
// as a tag), creating the board if needed. Board names ignore case.
func (s *Store) AddToBoard(ctx context.Context, id int64, board string) error {
	board = strings.TrimSpace(board)
	if board == "" {
		return errors.New("add to board: empty board name")
	}
	return s.write(ctx, fmt.Sprintf("add %d to board %q", id, board), func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM generations WHERE id = ?`, id).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return fmt.Errorf("generation %d: %w", id, ErrNotFound)
		}
		var bid int64
		err := tx.QueryRowContext(ctx, `INSERT INTO boards (name, created_at) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET name = name RETURNING id`, board, s.nowMS()).Scan(&bid)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO board_items (board_id, generation_id, added_at)
			VALUES (?, ?, ?)`, bid, id, s.nowMS()); err != nil {
			return err
		}
		return refreshSearch(ctx, tx, id)
	})
}

// RemoveFromBoard takes a generation off a board.
func (s *Store) RemoveFromBoard(ctx context.Context, id int64, board string) error {
	return s.write(ctx, fmt.Sprintf("remove %d from board %q", id, board), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM board_items WHERE generation_id = ?
			AND board_id = (SELECT id FROM boards WHERE name = ?)`, id, board); err != nil {
			return err
		}
		return refreshSearch(ctx, tx, id)
	})
}

// AddCaption stores a Janus answer about a generation's image; it becomes
// searchable at once.
func (s *Store) AddCaption(ctx context.Context, id int64, c Caption) (Caption, error) {
	if strings.TrimSpace(c.Answer) == "" {
		return Caption{}, errors.New("add caption: empty answer")
	}
	if c.Kind == "" {
		c.Kind = "describe"
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.CreatedAt = fromMS(c.CreatedAt.UnixMilli())
	err := s.write(ctx, fmt.Sprintf("add caption to %d", id), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO captions (generation_id, kind, question, answer, model, created_at)
			SELECT id, ?, ?, ?, ?, ? FROM generations WHERE id = ?`,
			c.Kind, c.Question, c.Answer, c.Model, c.CreatedAt.UnixMilli(), id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, id); err != nil {
			return err
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return refreshSearch(ctx, tx, id)
	})
	return c, err
}

// Delete moves generations to the trash. Their files stay until EmptyTrash.
func (s *Store) Delete(ctx context.Context, ids ...int64) error {
	return s.setDeleted(ctx, "move to trash", ids, true)
}

// Restore takes generations out of the trash.
func (s *Store) Restore(ctx context.Context, ids ...int64) error {
	return s.setDeleted(ctx, "restore from trash", ids, false)
}

func (s *Store) setDeleted(ctx context.Context, what string, ids []int64, del bool) error {
	return s.write(ctx, what, func(tx *sql.Tx) error {
		for _, id := range ids {
			var res sql.Result
			var err error
			if del {
				res, err = tx.ExecContext(ctx, `UPDATE generations SET deleted_at = coalesce(deleted_at, ?) WHERE id = ?`, s.nowMS(), id)
			} else {
				res, err = tx.ExecContext(ctx, `UPDATE generations SET deleted_at = NULL WHERE id = ?`, id)
			}
			if err != nil {
				return err
			}
			if err := mustAffect(res, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// EmptyTrash deletes every generation in the trash for good: rows first, then
// their files (a crash in between leaves files without rows, which fsck
// reports). It returns how many generations were removed.
func (s *Store) EmptyTrash(ctx context.Context) (int, error) {
	var files []string
	var n int
	err := s.write(ctx, "empty trash", func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT g.id, i.path, i.thumb_path FROM generations g
			LEFT JOIN images i ON i.generation_id = g.id WHERE g.deleted_at IS NOT NULL`)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var p, t sql.NullString
			if err := rows.Scan(&id, &p, &t); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			for _, f := range []sql.NullString{p, t} {
				if f.Valid && f.String != "" {
					files = append(files, f.String)
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			if err := deleteGeneration(ctx, tx, id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, err
	}
	var errs []error
	for _, f := range files {
		if err := s.fs.Remove(s.Path(f)); err != nil && !isNotExist(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("empty trash: rows removed, but some files remain: %w", errors.Join(errs...))
	}
	return n, nil
}

func deleteGeneration(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM search WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("delete search row %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM generations WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete generation %d: %w", id, err)
	}
	return nil
}
