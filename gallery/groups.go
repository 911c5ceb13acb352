package gallery

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// SetGroupKind changes a group's kind and merges params into its parameters
// (a compare pair becomes a hybrid group when its Janus image is refined).
func (s *Store) SetGroupKind(ctx context.Context, id int64, kind GroupKind, params map[string]any) error {
	switch kind {
	case GroupCompare, GroupSweep, GroupBatch, GroupHybrid:
	default:
		return fmt.Errorf("group %d: kind %q, expected compare, sweep, batch or hybrid", id, kind)
	}
	return s.write(ctx, fmt.Sprintf("set the kind of group %d", id), func(tx *sql.Tx) error {
		var raw string
		if err := tx.QueryRowContext(ctx, `SELECT params FROM groups WHERE id = ?`, id).Scan(&raw); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("group %d: %w", id, ErrNotFound)
			}
			return err
		}
		merged := map[string]any{}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &merged); err != nil {
				return fmt.Errorf("group %d: stored params are not JSON: %w", id, err)
			}
		}
		maps.Copy(merged, params)
		js, err := json.Marshal(merged)
		if err != nil {
			return fmt.Errorf("encode params: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE groups SET kind = ?, params = ? WHERE id = ?`, string(kind), string(js), id)
		return err
	})
}
