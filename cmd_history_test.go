package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"diptych/gallery"
)

// runCmd runs the CLI and returns exit code, stdout and stderr.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHistoryCLI(t *testing.T) {
	lib := t.TempDir()
	samples := filepath.Join("gallery", "testdata", "import")

	code, out, errs := runCmd(t, "history", "import", "--library", lib, "--json", samples)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	var rep gallery.ImportReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Imported != 9 || rep.Formats["comfyui"] != 1 {
		t.Fatalf("import report %s: %v", out, err)
	}

	code, out, _ = runCmd(t, "history", "list", "--library", lib, "--json", "--limit", "4")
	var page gallery.Page
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 4 || page.Next == "" {
		t.Fatalf("list --json: exit %d, %d items, next %q", code, len(page.Items), page.Next)
	}
	code, out, _ = runCmd(t, "history", "list", "--library", lib, "--all", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 9 {
		t.Fatalf("list --all: exit %d, %d items", code, len(page.Items))
	}

	code, out, _ = runCmd(t, "history", "search", "--library", lib, "astronaut")
	if code != 0 || !strings.Contains(out, "a portrait of an astronaut") || strings.Count(out, "\n") != 2 {
		t.Errorf("search: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "history", "list", "--library", lib, "--seed", "42")
	if code != 0 || !strings.Contains(out, "café ☕ au lait") {
		t.Errorf("list --seed: exit %d\n%s", code, out)
	}

	var id int64
	for _, g := range page.Items {
		if g.Source == "invokeai" {
			id = g.ID
		}
	}
	code, out, _ = runCmd(t, "history", "show", "--library", lib, strconv.FormatInt(id, 10))
	if code != 0 || !strings.Contains(out, "seed:       3141592653") || !strings.Contains(out, "scheduler:  dpmpp_2m_karras") {
		t.Errorf("show: exit %d\n%s", code, out)
	}

	sid := strconv.FormatInt(id, 10)
	if code, _, errs := runCmd(t, "history", "rm", "--library", lib, sid); code != 0 {
		t.Fatalf("rm: %s", errs)
	}
	_, out, _ = runCmd(t, "history", "list", "--library", lib, "--trash")
	if !strings.Contains(out, "astronaut") {
		t.Errorf("trash list lacks the removed item:\n%s", out)
	}
	if code, _, errs := runCmd(t, "history", "restore", "--library", lib, sid); code != 0 {
		t.Fatalf("restore: %s", errs)
	}
	runCmd(t, "history", "rm", "--library", lib, sid)
	code, out, _ = runCmd(t, "history", "empty-trash", "--library", lib)
	if code != 0 || !strings.Contains(out, "deleted 1") {
		t.Errorf("empty-trash: exit %d %s", code, out)
	}

	zipPath := filepath.Join(t.TempDir(), "out.zip")
	code, out, errs = runCmd(t, "history", "export", "--library", lib, "--out", zipPath, "--model", "animagine")
	if code != 0 || !strings.Contains(out, "exported 1 images") {
		t.Errorf("export: exit %d %s %s", code, out, errs)
	}
	if _, err := os.Stat(zipPath); err != nil {
		t.Error(err)
	}

	code, out, _ = runCmd(t, "history", "fsck", "--library", lib)
	if code != 0 || !strings.Contains(out, "ok") {
		t.Errorf("fsck on a healthy library: exit %d\n%s", code, out)
	}
	// Break it: fsck reports (exit 1), --repair fixes.
	os.Remove(filepath.Join(lib, page.Items[0].Image.Path))
	code, out, _ = runCmd(t, "history", "fsck", "--library", lib)
	if code != 1 || !strings.Contains(out, "missing image") {
		t.Errorf("fsck on a broken library: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, "history", "fsck", "--library", lib, "--repair", "--json")
	var frep gallery.FsckReport
	if code != 0 || json.Unmarshal([]byte(out), &frep) != nil || !frep.Repaired {
		t.Errorf("fsck --repair: exit %d\n%s", code, out)
	}

	code, out, _ = runCmd(t, "history", "bench", "--rows", "300", "--json")
	var bench map[string]float64
	if code != 0 || json.Unmarshal([]byte(out), &bench) != nil || bench["rows"] != 300 {
		t.Errorf("bench: exit %d %s", code, out)
	}
	for _, k := range []string{"open_ms", "first_page_ms", "search_ms", "filter_ms", "peak_rss_mb"} {
		if _, ok := bench[k]; !ok {
			t.Errorf("bench JSON lacks %s: %s", k, out)
		}
	}
}

func TestHistoryCLIErrors(t *testing.T) {
	lib := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"history"}, 2, "missing subcommand"},
		{[]string{"history", "frobnicate"}, 2, `unknown history subcommand "frobnicate"`},
		{[]string{"history", "show", "--library", lib, "abc"}, 2, `"abc" is not a generation id`},
		{[]string{"history", "show", "--library", lib, "12345"}, 1, "not found"},
		{[]string{"history", "list", "--library", lib, "--size", "big"}, 2, "--size"},
		{[]string{"history", "list", "--library", lib, "--since", "yesterday"}, 2, "--since"},
		{[]string{"history", "list", "--library", lib, "--after", "nonsense"}, 1, "cursor"},
		{[]string{"history", "search", "--library", lib}, 2, "needs words"},
		{[]string{"history", "export", "--library", lib}, 2, "--out"},
		{[]string{"history", "import", "--library", lib, filepath.Join(lib, "nope")}, 1, "nope"},
		{[]string{"history", "bench", "--rows", "0"}, 2, "--rows"},
		{[]string{"history", "list", "--library", lib, "--bogus"}, 2, "bogus"},
	}
	for _, c := range cases {
		code, _, errs := runCmd(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errs, c.code, c.want)
		}
	}
	// A corrupt database: exit 1 with path and hint.
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, gallery.DBName), []byte(strings.Repeat("junk", 100)), 0o644)
	code, _, errs := runCmd(t, "history", "list", "--library", bad)
	if code != 1 || !strings.Contains(errs, gallery.DBName) || !strings.Contains(errs, "fsck --repair") {
		t.Errorf("corrupt db: exit %d %q", code, errs)
	}
}

func TestHistoryHelp(t *testing.T) {
	code, out, _ := runCmd(t, "history", "--help")
	if code != 0 || !strings.Contains(out, "empty-trash") || !strings.Contains(out, "fsck") {
		t.Errorf("history --help: exit %d\n%s", code, out)
	}
	for _, sub := range []string{"list", "search", "show", "export", "import", "rm", "restore", "empty-trash", "fsck", "bench"} {
		code, out, _ := runCmd(t, "history", sub, "--help")
		if code != 0 || !strings.Contains(out, "Usage: diptych history "+sub) || !strings.Contains(out, "-library") {
			t.Errorf("history %s --help: exit %d\n%s", sub, code, out)
		}
	}
}

func TestDefaultLibraryFromEnv(t *testing.T) {
	lib := filepath.Join(t.TempDir(), "envlib")
	t.Setenv("DIPTYCH_LIBRARY", lib)
	if code, _, errs := runCmd(t, "history", "list"); code != 0 {
		t.Fatalf("list with DIPTYCH_LIBRARY: %s", errs)
	}
	if _, err := os.Stat(filepath.Join(lib, gallery.DBName)); err != nil {
		t.Errorf("library not created at $DIPTYCH_LIBRARY: %v", err)
	}
	t.Setenv("DIPTYCH_LIBRARY", "")
	t.Setenv("XDG_DATA_HOME", "/data/home")
	if runtime.GOOS == "linux" {
		if got, err := gallery.DefaultRoot(); err != nil || got != "/data/home/diptych/library" {
			t.Errorf("DefaultRoot = %q, %v; want $XDG_DATA_HOME/diptych/library", got, err)
		}
	}
}

// Flags typed where people type them: after the folder, the words, the ids;
// --library also before the subcommand; --flag=value as well as --flag value.
func TestHistoryFlagsAfterArguments(t *testing.T) {
	lib := t.TempDir()
	samples := filepath.Join("gallery", "testdata", "import")
	code, out, errs := runCmd(t, "history", "import", samples, "--library", lib, "--json")
	var rep gallery.ImportReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Imported != 9 {
		t.Fatalf("import DIR --library L --json: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "history", "search", "astronaut", "--library="+lib, "--json")
	var page gallery.Page
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 1 || page.Items[0].Prompt != "a portrait of an astronaut, studio lighting" {
		t.Fatalf("search WORDS --library=L --json: exit %d: %s", code, out)
	}
	id := strconv.FormatInt(page.Items[0].ID, 10)
	code, out, _ = runCmd(t, "history", "--library", lib, "show", id)
	if code != 0 || !strings.Contains(out, "prompt:     a portrait of an astronaut, studio lighting") {
		t.Fatalf("history --library L show ID: exit %d: %s", code, out)
	}
	code, out, _ = runCmd(t, "history", "show", id, "--json", "--library", lib)
	var g gallery.Generation
	if code != 0 || json.Unmarshal([]byte(out), &g) != nil || g.Prompt != "a portrait of an astronaut, studio lighting" {
		t.Fatalf("show ID --json --library L: exit %d: %s", code, out)
	}
	if code, out, errs = runCmd(t, "history", "rm", id, "--library", lib); code != 0 || out != "moved 1 to the trash\n" {
		t.Fatalf("rm ID --library L: exit %d: %q %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "history", "list", "--trash", "--library", lib, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 1 || page.Items[0].ID != g.ID {
		t.Fatalf("list --trash --library L --json: exit %d: %s", code, out)
	}
	if code, out, errs = runCmd(t, "history", "restore", id, "--library", lib); code != 0 || out != "restored 1\n" {
		t.Fatalf("restore ID --library L: exit %d: %q %s", code, out, errs)
	}
	zipPath := filepath.Join(t.TempDir(), "one.zip")
	code, out, errs = runCmd(t, "history", "export", id, "--out", zipPath, "--library", lib)
	if code != 0 || !strings.HasPrefix(out, "exported 1 images") {
		t.Fatalf("export ID --out F --library L: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "history", "fsck", "--library", lib, "--json")
	var frep gallery.FsckReport
	if code != 0 || json.Unmarshal([]byte(out), &frep) != nil || frep.Rows != 9 {
		t.Fatalf("fsck --library L --json: exit %d: %s", code, out)
	}
	// "--" ends the flags: what follows is a search word even if it looks like one.
	code, _, errs = runCmd(t, "history", "search", "--library", lib, "--", "--json")
	if code != 0 {
		t.Fatalf("search -- --json: exit %d: %s", code, errs)
	}
	// Usage errors name what was wrong and exit 2.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"history", "show", id, "--library"}, "flag needs an argument: --library"},
		{[]string{"history", "list", "--limit", "many", "--library", lib}, `invalid argument "many" for "--limit"`},
		{[]string{"history", "list", "-json", "--library", lib}, "-json: long flags take two dashes: --json"},
		{[]string{"history", "bench", "extra"}, `unexpected argument "extra"`},
	} {
		code, _, errs := runCmd(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) || !strings.Contains(errs, "Run 'diptych history ") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}
