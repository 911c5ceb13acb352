package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"diptych/engine/models"
)

const tinyJanus = "testdata/janus/tiny"

// modelsHub serves a folder as Hub repository test/tiny: the tree listing
// (LFS digests for .onnx* files, git blob ids for the rest), the revision
// lookup and resolve URLs with Range support.
func modelsHub(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	var entries []map[string]any
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		g := sha1.New()
		fmt.Fprintf(g, "blob %d\x00", len(b))
		g.Write(b)
		e := map[string]any{"type": "file", "path": rel, "size": len(b), "oid": hex.EncodeToString(g.Sum(nil))}
		if strings.Contains(rel, ".onnx") {
			s := sha256.Sum256(b)
			e["lfs"] = map[string]any{"oid": hex.EncodeToString(s[:]), "size": len(b)}
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.Repeat("c", 40)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/models/test/tiny/revision/", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"sha": commit})
	})
	mux.HandleFunc("/api/models/test/tiny/tree/", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(entries)
	})
	mux.HandleFunc("/test/tiny/resolve/", func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, "/test/tiny/resolve/"+commit+"/")
		http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(rel)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func runModelsCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"models"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func modelsHome(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("DIPTYCH_HOME", home)
	t.Setenv("HF_TOKEN", "")
	return home
}

func TestModelsListEmpty(t *testing.T) {
	modelsHome(t)
	code, out, errs := runModelsCmd(t, "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Installed []json.RawMessage `json:"installed"`
		Catalog   []struct {
			Name   string `json:"name"`
			Source string `json:"source"`
		} `json:"catalog"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	names := map[string]string{}
	for _, c := range got.Catalog {
		names[c.Name] = c.Source
	}
	if len(got.Installed) != 0 || names["sdxl-base-1.0"] != "hub" || names["janus-pro-1b"] != "hub" ||
		names["sdxl-refiner-1.0"] != "export" || names["janus-pro-7b"] != "export" {
		t.Errorf("list = %s", out)
	}
	code, out, _ = runModelsCmd(t, "list")
	if code != 0 || !strings.Contains(out, "janus-pro-1b:COMBO") || !strings.Contains(out, "none:") {
		t.Errorf("text list (exit %d) = %s", code, out)
	}
}

func TestModelsPullVerifyRemove(t *testing.T) {
	if _, err := os.Stat(tinyJanus); err != nil {
		t.Skipf("no %s: %v", tinyJanus, err)
	}
	home := modelsHome(t)
	srv := modelsHub(t, tinyJanus)
	t.Setenv("HF_ENDPOINT", srv.URL)

	code, out, errs := runModelsCmd(t, "pull", "test/tiny@main", "--include", "*config.json", "--include", "tokenizer.json",
		"--include", "onnx/*", "--name", "tiny", "--json")
	if code != 0 {
		t.Fatalf("pull exit %d: %s", code, errs)
	}
	var e struct {
		Name, Kind, Dir, Revision string
		Managed                   bool
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	if e.Name != "tiny" || e.Kind != "janus" || e.Dir != filepath.Join(home, "models", "tiny") || !e.Managed || e.Revision != strings.Repeat("c", 40) {
		t.Errorf("pulled entry = %+v", e)
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "onnx", "language_model.onnx_data")); err != nil {
		t.Errorf("external data not downloaded: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.Dir, "export_info.json")); !os.IsNotExist(err) {
		t.Error("--include did not filter export_info.json out")
	}

	code, out, _ = runModelsCmd(t, "verify", "tiny")
	if code != 0 || !strings.Contains(out, "tiny: OK") {
		t.Errorf("verify (exit %d) = %s", code, out)
	}
	os.WriteFile(filepath.Join(e.Dir, "onnx", "gen_head.onnx"), []byte("broken"), 0o644)
	code, out, errs = runModelsCmd(t, "verify", "--json")
	if code != 1 || !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "onnx/gen_head.onnx") ||
		!strings.Contains(errs, "verification failed for tiny") {
		t.Errorf("verify after damage (exit %d) = %s / %s", code, out, errs)
	}

	// Pulling again is refused; rm deletes the downloaded files.
	if code, _, errs = runModelsCmd(t, "pull", "test/tiny", "--name", "tiny", "--include", "*.json"); code != 1 || !strings.Contains(errs, "already installed") {
		t.Errorf("second pull (exit %d): %s", code, errs)
	}
	if code, out, _ = runModelsCmd(t, "rm", "tiny"); code != 0 || !strings.Contains(out, "deleted") {
		t.Errorf("rm (exit %d) = %s", code, out)
	}
	if _, err := os.Stat(e.Dir); !os.IsNotExist(err) {
		t.Error("rm kept the files")
	}

	// Without --json a progress bar goes to stderr.
	code, out, errs = runModelsCmd(t, "pull", "test/tiny", "--include", "*.json", "--include", "onnx/*.onnx*")
	if code != 0 || !strings.Contains(errs, "100%") || strings.ContainsAny(errs, "\r\x1b") || !strings.Contains(errs, "test/tiny@cccccccccccc") ||
		!strings.Contains(out, "installed test--tiny (janus)") {
		t.Errorf("pull with a bar (exit %d): out %q err %q", code, out, errs)
	}
}

func TestModelsImport(t *testing.T) {
	if _, err := os.Stat(tinyJanus); err != nil {
		t.Skipf("no %s: %v", tinyJanus, err)
	}
	modelsHome(t)
	dir := filepath.Join(t.TempDir(), "Janus Tiny")
	if err := os.CopyFS(dir, os.DirFS(tinyJanus)); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runModelsCmd(t, "import", dir)
	if code != 0 {
		t.Fatalf("import exit %d: %s", code, errs)
	}
	for _, s := range []string{"janus", "language_model [fp32,fp16]", "onnx/language_model.onnx (+1 external data file)",
		"inputs_embeds float32[batch_size,sequence_length,", "registered janus-tiny"} {
		if !strings.Contains(out, s) {
			t.Errorf("import output lacks %q:\n%s", s, out)
		}
	}
	code, out, _ = runModelsCmd(t, "list", "--json")
	if code != 0 || !strings.Contains(out, `"name": "janus-tiny"`) || !strings.Contains(out, `"managed": false`) {
		t.Errorf("list after import = %s", out)
	}
	// A folder that is not a model: exit 1 with what was expected and found.
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "cat.png"), []byte("x"), 0o644)
	code, _, errs = runModelsCmd(t, "import", junk)
	if code != 1 || !strings.Contains(errs, "not an SDXL or Janus-Pro ONNX export") || !strings.Contains(errs, "found: cat.png") {
		t.Errorf("import of a random folder (exit %d): %s", code, errs)
	}
}

func TestModelsUsageErrors(t *testing.T) {
	modelsHome(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing subcommand"},
		{[]string{"frob"}, "unknown models subcommand"},
		{[]string{"pull"}, "pull takes one catalog name"},
		{[]string{"pull", "no-such-model"}, "not in the catalog"},
		{[]string{"pull", "../evil"}, "bad repository"},
		{[]string{"pull", "janus-pro-1b", "--include", "*.onnx"}, "--include is for Hub repositories"},
		{[]string{"import"}, "import takes one folder"},
		{[]string{"rm"}, "rm takes one model name"},
		{[]string{"list", "--bogus"}, "diptych models list: unknown flag: --bogus"},
	} {
		code, _, errs := runModelsCmd(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("models %v: exit %d, stderr %q (want 2 and %q)", tc.args, code, errs, tc.want)
		}
	}
	if code, out, _ := runModelsCmd(t, "pull", "--help"); code != 0 || !strings.Contains(out, "--include GLOB") {
		t.Errorf("pull --help: exit %d, %s", code, out)
	}
	if code, _, errs := runModelsCmd(t, "rm", "ghost"); code != 1 || !strings.Contains(errs, `no installed model "ghost"`) {
		t.Errorf("rm ghost: exit %d, %s", code, errs)
	}
}

func TestModelsRuntimeGPU(t *testing.T) {
	home := modelsHome(t)
	v := models.ORTVersion // what runtime --gpu installs without --version
	top := "onnxruntime-linux-x64-gpu-" + v + "/"
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, data := range map[string]string{
		top + "lib/libonnxruntime.so." + v:           "main",
		top + "lib/libonnxruntime_providers_cuda.so": "cuda",
		top + "LICENSE": "MIT",
	} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write([]byte(data))
	}
	tw.Close()
	gz.Close()
	archive := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "ort.tgz", time.Time{}, bytes.NewReader(archive))
	}))
	defer srv.Close()
	url := srv.URL + "/onnxruntime-linux-x64-gpu-" + v + ".tgz"

	code, _, errs := runModelsCmd(t, "runtime", "--gpu", "--url", url)
	if code != 1 || !strings.Contains(errs, "no SHA-256 pinned") {
		t.Errorf("runtime without checksum: exit %d, %s", code, errs)
	}
	sum := sha256.Sum256(archive)
	code, out, errs := runModelsCmd(t, "runtime", "--gpu", "--url", url, "--sha256", hex.EncodeToString(sum[:]))
	lib := filepath.Join(home, "lib", "onnxruntime-gpu-"+v, "libonnxruntime.so."+v)
	if code != 0 || !strings.Contains(out, "library: "+lib) || !strings.Contains(out, "providers: cuda") {
		t.Fatalf("runtime --gpu: exit %d, out %s, err %s", code, out, errs)
	}
	code, out, _ = runModelsCmd(t, "runtime", "--json")
	if code != 0 || !strings.Contains(out, `"library": "`+lib+`"`) {
		t.Errorf("runtime list = %s", out)
	}
}

// models subcommands take their flags after the folder or the name.
func TestModelsFlagsAfterArguments(t *testing.T) {
	if _, err := os.Stat(tinyJanus); err != nil {
		t.Skipf("no %s: %v", tinyJanus, err)
	}
	modelsHome(t)
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.CopyFS(dir, os.DirFS(tinyJanus)); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runModelsCmd(t, "import", dir, "--name", "mine", "--json")
	var rep struct {
		Entry struct{ Name, Kind string } `json:"entry"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Entry.Name != "mine" || rep.Entry.Kind != "janus" {
		t.Fatalf("import DIR --name N --json: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = runModelsCmd(t, "verify", "mine", "--json")
	var rows []struct {
		Name string `json:"name"`
		OK   bool   `json:"ok"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) != 1 || rows[0].Name != "mine" || !rows[0].OK {
		t.Fatalf("verify NAME --json: exit %d: %s", code, out)
	}
	code, out, _ = runModelsCmd(t, "ls", "--json")
	if code != 0 || !strings.Contains(out, `"name": "mine"`) {
		t.Fatalf("ls --json: exit %d: %s", code, out)
	}
	code, out, _ = runModelsCmd(t, "rm", "mine", "--keep-files", "--json")
	if code != 0 || !strings.Contains(out, `"name": "mine"`) {
		t.Fatalf("rm NAME --keep-files --json: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatalf("rm of an imported folder touched it: %v", err)
	}
	code, _, errs = runModelsCmd(t, "import", dir, "--name")
	if code != 2 || !strings.Contains(errs, "flag needs an argument: --name") {
		t.Fatalf("import DIR --name: exit %d: %s", code, errs)
	}
}
