package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"diptych/gallery"
)

// TestHistoryBoardCLI: boards from the command line, flags typed anywhere;
// the board filter of `history list` then shows exactly those images.
func TestHistoryBoardCLI(t *testing.T) {
	lib := t.TempDir()
	if code, _, errs := runCmd(t, "history", "import", filepath.Join("gallery", "testdata", "import"), "--library", lib); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, out, errs := runCmd(t, "history", "board", "add", "Key frames", "1", "2", "--library", lib)
	if code != 0 || !strings.Contains(out, `made board "Key frames"`) || !strings.Contains(out, "put 2 of 2") {
		t.Fatalf("board add: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd(t, "history", "board", "add", "--library", lib, "Key frames", "2", "3")
	if code != 0 || !strings.Contains(out, "put 1 of 2") {
		t.Fatalf("board add again: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "history", "board", "rm", "Key frames", "1", "--library", lib)
	if code != 0 || !strings.Contains(out, "took 1 of 1") {
		t.Fatalf("board rm: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "history", "board", "ls", "--json", "--library", lib)
	var boards []gallery.Board
	if code != 0 || json.Unmarshal([]byte(out), &boards) != nil || len(boards) != 1 || boards[0].Name != "Key frames" || boards[0].Count != 2 {
		t.Fatalf("board ls: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "history", "list", "--board", "Key frames", "--json", "--library", lib)
	var page gallery.Page
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 2 {
		t.Fatalf("list --board: exit %d, %d items\n%s", code, len(page.Items), out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "board", "add", "  ", "1"}, "a board needs a name"},
		{[]string{"history", "board", "add", strings.Repeat("x", gallery.MaxBoardName+1), "1"}, "board name"},
		{[]string{"history", "board", "add", "Key frames"}, "at least one id"},
		{[]string{"history", "board", "add", "Key frames", "999"}, "not found"},
	} {
		code, _, errs := runCmd(t, append(c.args, "--library", lib)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error saying %q", c.args, code, errs, c.want)
		}
	}
}
