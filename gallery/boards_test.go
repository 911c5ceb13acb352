package gallery

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func boardIDs(t *testing.T, s *Store, board string) []int64 {
	t.Helper()
	p, err := s.List(context.Background(), Query{Board: board, Limit: MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, g := range p.Items {
		ids = append(ids, g.ID)
	}
	return ids
}

func TestBoardsCreateRenameDeleteAddRemove(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	a := saveTest(t, s, "lighthouse at dusk", 1)
	b := saveTest(t, s, "forest path", 2)
	c := saveTest(t, s, "harbour at night", 3)

	if _, err := s.CreateBoard(ctx, "  Storyboard  "); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateBoard(ctx, "Moodboard"); err != nil {
		t.Fatal(err)
	}
	n, err := s.BoardAdd(ctx, "storyboard", a.ID, b.ID, a.ID) // case-insensitive, a twice
	if err != nil || n != 2 {
		t.Fatalf("BoardAdd = %d, %v; want 2 new", n, err)
	}
	if n, err := s.BoardAdd(ctx, "Storyboard", a.ID); err != nil || n != 0 {
		t.Errorf("adding again = %d, %v; want 0 new", n, err)
	}
	if _, err := s.BoardAdd(ctx, "Moodboard", c.ID, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if got := boardIDs(t, s, "Moodboard"); len(got) != 0 {
		t.Errorf("a failed BoardAdd left %v on the board (not one transaction)", got)
	}
	if _, err := s.BoardAdd(ctx, "nope", a.ID); !errors.Is(err, ErrBoardNotFound) {
		t.Errorf("unknown board: %v", err)
	}
	if _, err := s.BoardAdd(ctx, "Moodboard", c.ID); err != nil {
		t.Fatal(err)
	}

	list, err := s.BoardList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bd := range list {
		got = append(got, bd.Name+":"+strconv.Itoa(bd.Count))
	}
	if want := []string{"Moodboard:1", "Storyboard:2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("BoardList = %v, want %v", got, want)
	}
	if ids := boardIDs(t, s, "storyboard"); !reflect.DeepEqual(ids, []int64{b.ID, a.ID}) {
		t.Errorf("filter storyboard = %v", ids)
	}

	// Rename: images follow, search finds the new name, the old one is gone.
	if err := s.RenameBoard(ctx, "Storyboard", "Shot list"); err != nil {
		t.Fatal(err)
	}
	if ids := boardIDs(t, s, "Shot list"); len(ids) != 2 {
		t.Errorf("after rename: %v", ids)
	}
	if ids := boardIDs(t, s, "Storyboard"); len(ids) != 0 {
		t.Errorf("old name still filters: %v", ids)
	}
	p, _ := s.List(ctx, Query{Text: "shot"})
	if len(p.Items) != 2 {
		t.Errorf("search for the new board name found %d", len(p.Items))
	}
	if err := s.RenameBoard(ctx, "shot list", "SHOT LIST"); err != nil {
		t.Errorf("changing only the case: %v", err)
	}
	if err := s.RenameBoard(ctx, "SHOT LIST", "moodboard"); !errors.Is(err, ErrBoardExists) {
		t.Errorf("rename onto another board: %v", err)
	}
	if err := s.RenameBoard(ctx, "missing", "x"); !errors.Is(err, ErrBoardNotFound) {
		t.Errorf("rename a missing board: %v", err)
	}

	// Remove from a board.
	if n, err := s.BoardRemove(ctx, "SHOT LIST", a.ID, c.ID); err != nil || n != 1 {
		t.Errorf("BoardRemove = %d, %v; want 1", n, err)
	}
	if ids := boardIDs(t, s, "SHOT LIST"); !reflect.DeepEqual(ids, []int64{b.ID}) {
		t.Errorf("after remove: %v", ids)
	}

	// Delete: the board goes, its images stay.
	if err := s.DeleteBoard(ctx, "moodboard"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, c.ID); err != nil {
		t.Errorf("image of a deleted board: %v", err)
	}
	if g, _ := s.Get(ctx, c.ID); len(g.Boards) != 0 {
		t.Errorf("boards of c after delete: %v", g.Boards)
	}
	if p, _ := s.List(ctx, Query{Text: "moodboard"}); len(p.Items) != 0 {
		t.Errorf("search still finds the deleted board's name: %d", len(p.Items))
	}
	if err := s.DeleteBoard(ctx, "moodboard"); !errors.Is(err, ErrBoardNotFound) {
		t.Errorf("delete twice: %v", err)
	}

	// Trashed images do not count.
	if err := s.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	list, _ = s.BoardList(ctx)
	if len(list) != 1 || list[0].Count != 0 {
		t.Errorf("count with the only image in the trash: %+v", list)
	}
}

func TestBoardNamesRefusedWithAReason(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	if _, err := s.CreateBoard(ctx, "Keyframes"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{strings.Repeat("x", MaxBoardName+1), "too long"},
		{"two\nlines", "control character"},
		{"keyframes", "exists already"},
		{"KEYFRAMES ", "exists already"},
	} {
		_, err := s.CreateBoard(ctx, c.name)
		if err == nil || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("CreateBoard(%q) = %v, want a reason containing %q", c.name, err, c.reason)
		}
	}
	if _, err := s.CreateBoard(ctx, strings.Repeat("é", MaxBoardName)); err != nil {
		t.Errorf("64 accented characters (128 bytes) should be fine: %v", err)
	}
	if err := s.RenameBoard(ctx, "Keyframes", ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("rename to empty: %v", err)
	}
	var ne *BoardNameError
	if _, err := ValidateBoardName(""); !errors.As(err, &ne) {
		t.Errorf("ValidateBoardName error type %T", err)
	}
}

// TestBoardFilterOn100kRows filters a 100,000-row library by a small and a
// large board: each page comes back well within an interactive budget.
func TestBoardFilterOn100kRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const rows = 100_000
	if err := s.seedSynthetic(ctx, rows); err != nil {
		t.Fatal(err)
	}
	small, _ := s.CreateBoard(ctx, "Keyframes")
	big, _ := s.CreateBoard(ctx, "Everything odd")
	var ids []int64
	for id := int64(1); id <= rows; id += 2 {
		ids = append(ids, id)
	}
	if _, err := s.BoardAdd(ctx, big.Name, ids...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BoardAdd(ctx, small.Name, 7, 70_000, 99_999); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		board string
		want  int
	}{{small.Name, 3}, {big.Name, 120}} {
		start := time.Now()
		p, err := s.List(ctx, Query{Board: c.board, Limit: 120})
		el := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != c.want {
			t.Errorf("%s: %d rows, want %d", c.board, len(p.Items), c.want)
		}
		// Generous for a loaded 2-core machine; typically a few ms.
		if el > time.Second {
			t.Errorf("%s: first page took %v", c.board, el)
		}
		t.Logf("board %q: first page of %d in %v", c.board, len(p.Items), el)
	}
	list, _ := s.BoardList(ctx)
	if len(list) != 2 || list[0].Count != rows/2 || list[1].Count != 3 {
		t.Errorf("BoardList on 100k: %+v", list)
	}
}
