package gallery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Board is a named collection of generations (InvokeAI's boards): one image
// may sit on several boards, and a board holds no files of its own.
type Board struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Count     int       `json:"count"` // live (not trashed) generations on it
	CreatedAt time.Time `json:"created_at"`
}

// MaxBoardName is the longest board name, in characters.
const MaxBoardName = 64

// Board errors; the messages say why a name is refused.
var (
	ErrBoardExists   = errors.New("a board with that name exists already")
	ErrBoardNotFound = errors.New("no such board")
)

// BoardNameError says why a board name is refused.
type BoardNameError struct {
	Name   string
	Reason string
}

func (e *BoardNameError) Error() string {
	return fmt.Sprintf("board name %q: %s", e.Name, e.Reason)
}

// ValidateBoardName trims name and checks it: not empty, at most
// MaxBoardName characters, valid UTF-8 without control characters. It
// returns the trimmed name.
func ValidateBoardName(name string) (string, error) {
	n := strings.TrimSpace(name)
	switch {
	case !utf8.ValidString(n):
		return "", &BoardNameError{name, "not valid text (UTF-8)"}
	case n == "":
		return "", &BoardNameError{name, "empty: a board needs a name"}
	case utf8.RuneCountInString(n) > MaxBoardName:
		return "", &BoardNameError{shortName(n), fmt.Sprintf("too long (%d characters, at most %d)", utf8.RuneCountInString(n), MaxBoardName)}
	}
	for _, r := range n {
		if unicode.IsControl(r) {
			return "", &BoardNameError{name, "contains a control character (such as a tab or a line break)"}
		}
	}
	return n, nil
}

func shortName(s string) string {
	if r := []rune(s); len(r) > 24 {
		return string(r[:23]) + "…"
	}
	return s
}

// CreateBoard makes an empty board. A name that differs from an existing
// board's only in case is a duplicate (ErrBoardExists).
func (s *Store) CreateBoard(ctx context.Context, name string) (Board, error) {
	n, err := ValidateBoardName(name)
	if err != nil {
		return Board{}, fmt.Errorf("create board: %w", err)
	}
	b := Board{Name: n, CreatedAt: fromMS(s.nowMS())}
	err = s.write(ctx, fmt.Sprintf("create board %q", n), func(tx *sql.Tx) error {
		if id, existing, err := boardID(ctx, tx, n); err != nil {
			return err
		} else if id != 0 {
			return fmt.Errorf("%w (%q)", ErrBoardExists, existing)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO boards (name, created_at) VALUES (?, ?)`, n, b.CreatedAt.UnixMilli())
		if err != nil {
			return err
		}
		b.ID, err = res.LastInsertId()
		return err
	})
	return b, err
}

// boardID finds a board by name (ignoring case): its id (0 if none) and its
// stored spelling.
func boardID(ctx context.Context, tx *sql.Tx, name string) (int64, string, error) {
	var id int64
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT id, name FROM boards WHERE name = ?`, name).Scan(&id, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	return id, stored, err
}

func mustBoard(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	id, _, err := boardID(ctx, tx, strings.TrimSpace(name))
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, fmt.Errorf("%w: %q", ErrBoardNotFound, name)
	}
	return id, nil
}

// boardMembers lists the generations on board id.
func boardMembers(ctx context.Context, tx *sql.Tx, id int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT generation_id FROM board_items WHERE board_id = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, err
		}
		ids = append(ids, g)
	}
	return ids, rows.Err()
}

// RenameBoard renames a board, keeping its images. Changing only the case
// of a name is allowed; taking another board's name is not.
func (s *Store) RenameBoard(ctx context.Context, old, name string) error {
	n, err := ValidateBoardName(name)
	if err != nil {
		return fmt.Errorf("rename board %q: %w", old, err)
	}
	return s.write(ctx, fmt.Sprintf("rename board %q to %q", old, n), func(tx *sql.Tx) error {
		id, err := mustBoard(ctx, tx, old)
		if err != nil {
			return err
		}
		if other, existing, err := boardID(ctx, tx, n); err != nil {
			return err
		} else if other != 0 && other != id {
			return fmt.Errorf("%w (%q)", ErrBoardExists, existing)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE boards SET name = ? WHERE id = ?`, n, id); err != nil {
			return err
		}
		ids, err := boardMembers(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, g := range ids {
			if err := refreshSearch(ctx, tx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteBoard removes a board. Its images stay in the library (and on
// other boards).
func (s *Store) DeleteBoard(ctx context.Context, name string) error {
	return s.write(ctx, fmt.Sprintf("delete board %q", name), func(tx *sql.Tx) error {
		id, err := mustBoard(ctx, tx, name)
		if err != nil {
			return err
		}
		ids, err := boardMembers(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM board_items WHERE board_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM boards WHERE id = ?`, id); err != nil {
			return err
		}
		for _, g := range ids {
			if err := refreshSearch(ctx, tx, g); err != nil {
				return err
			}
		}
		return nil
	})
}

// BoardAdd puts generations on an existing board in one transaction and
// returns how many were not on it before. An unknown id fails the whole
// call (ErrNotFound), as does an unknown board (ErrBoardNotFound).
func (s *Store) BoardAdd(ctx context.Context, board string, ids ...int64) (int, error) {
	added := 0
	err := s.write(ctx, fmt.Sprintf("add %d image(s) to board %q", len(ids), board), func(tx *sql.Tx) error {
		bid, err := mustBoard(ctx, tx, board)
		if err != nil {
			return err
		}
		now := s.nowMS()
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO board_items (board_id, generation_id, added_at)
				SELECT ?, id, ? FROM generations WHERE id = ?`, bid, now, id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				var exists int
				if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM generations WHERE id = ?`, id).Scan(&exists); err != nil {
					return err
				}
				if exists == 0 {
					return fmt.Errorf("generation %d: %w", id, ErrNotFound)
				}
				continue // already on the board
			}
			added++
			if err := refreshSearch(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// BoardRemove takes generations off a board and returns how many were on
// it. Ids that were not on the board are skipped.
func (s *Store) BoardRemove(ctx context.Context, board string, ids ...int64) (int, error) {
	removed := 0
	err := s.write(ctx, fmt.Sprintf("remove %d image(s) from board %q", len(ids), board), func(tx *sql.Tx) error {
		bid, err := mustBoard(ctx, tx, board)
		if err != nil {
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM board_items WHERE board_id = ? AND generation_id = ?`, bid, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				removed++
				if err := refreshSearch(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return removed, nil
}

// BoardList lists every board, by name (ignoring case), with how many live
// generations each holds.
func (s *Store) BoardList(ctx context.Context) ([]Board, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT b.id, b.name, b.created_at, count(g.id) FROM boards b
		LEFT JOIN board_items bi ON bi.board_id = b.id
		LEFT JOIN generations g ON g.id = bi.generation_id AND g.deleted_at IS NULL
		GROUP BY b.id ORDER BY b.name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("list boards: %w", err)
	}
	defer rows.Close()
	out := []Board{}
	for rows.Next() {
		var b Board
		var ms int64
		if err := rows.Scan(&b.ID, &b.Name, &ms, &b.Count); err != nil {
			return nil, fmt.Errorf("list boards: %w", err)
		}
		b.CreatedAt = fromMS(ms)
		out = append(out, b)
	}
	return out, rows.Err()
}
