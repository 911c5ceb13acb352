package models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sdxlRepoFiles reads a fake SDXL base export written by makeSDXL into a
// map for the fake Hub, plus files the catalog does not want.
func sdxlRepoFiles(t *testing.T) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	makeSDXL(t, dir, 2048)
	files := map[string][]byte{}
	paths, err := folderFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	files["unet/diffusion_pytorch_model.safetensors"] = testBytes(50_000, 7)
	files["README.md"] = []byte("# model")
	return files
}

func testEntry(h *fakeHub) *CatalogEntry {
	e := &CatalogEntry{Name: "test-sdxl", Kind: KindSDXLBase, Source: SourceHub, Repo: h.repo, Revision: h.commit}
	for _, f := range []string{"text_encoder/model.onnx", "text_encoder_2/model.onnx", "text_encoder_2/model.onnx_data",
		"unet/model.onnx", "unet/model.onnx_data", "vae_decoder/model.onnx", "vae_encoder/model.onnx",
		"tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer_2/vocab.json", "tokenizer_2/merges.txt",
		"scheduler/scheduler_config.json"} {
		e.Files = append(e.Files, CatalogFile{Path: f})
	}
	e.Files = append(e.Files, CatalogFile{Path: "model_index.json", Optional: true})
	return e
}

func TestPullCatalogEntry(t *testing.T) {
	files := sdxlRepoFiles(t)
	h := newFakeHub(t, files)
	s := NewStore(t.TempDir())
	var planned []string
	req := PullRequest{Entry: testEntry(h), OnPlan: func(repo, commit string, specs []FileSpec) {
		for _, f := range specs {
			planned = append(planned, f.Path)
		}
	}}
	e, err := s.Pull(context.Background(), h.hub(), testDownloader(h), req)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if e.Name != "test-sdxl" || e.Kind != KindSDXLBase || e.Revision != h.commit || !e.Managed ||
		e.Dir != filepath.Join(s.ModelsDir(), "test-sdxl") {
		t.Errorf("entry = %+v", e)
	}
	// Only the catalog's files were fetched: no PyTorch weights, no README.
	if len(planned) != 12 {
		t.Errorf("planned %d files: %v", len(planned), planned)
	}
	if n := len(h.fileRequests("unet/diffusion_pytorch_model.safetensors")); n != 0 {
		t.Error("downloaded a file the catalog does not need")
	}
	got, err := s.Get("test-sdxl")
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	rep, err := s.Verify(context.Background(), "test-sdxl", nil)
	if err != nil || !rep.OK() || rep.Checked != 12 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
	// A second pull of the same entry is refused.
	if _, err := s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Entry: testEntry(h)}); !errors.Is(err, ErrExists) {
		t.Errorf("second Pull = %v", err)
	}
	// Corrupt a file on disk: Verify reports it and deletes nothing.
	p := filepath.Join(e.Dir, "unet", "model.onnx_data")
	os.WriteFile(p, []byte("WEIGHTS"), 0o644)
	os.Remove(filepath.Join(e.Dir, "tokenizer", "merges.txt"))
	rep, err = s.Verify(context.Background(), "test-sdxl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Mismatch) != 1 || rep.Mismatch[0].Path != "unet/model.onnx_data" ||
		!reflect.DeepEqual(rep.Missing, []string{"tokenizer/merges.txt"}) {
		t.Errorf("Verify after damage = %+v", rep)
	}
	if _, err := os.Stat(p); err != nil {
		t.Error("Verify deleted a file")
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "unet/model.onnx_data: SHA-256") {
		t.Errorf("report error = %v", err)
	}
	// rm deletes a managed model's files.
	if _, err := s.Remove("test-sdxl", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.Dir); !os.IsNotExist(err) {
		t.Error("rm kept the files")
	}
	if _, err := s.Get("test-sdxl"); err == nil {
		t.Error("rm kept the entry")
	}
}

func TestPullCatalogChecks(t *testing.T) {
	files := sdxlRepoFiles(t)
	delete(files, "tokenizer_2/merges.txt")
	h := newFakeHub(t, files)
	s := NewStore(t.TempDir())
	_, err := s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Entry: testEntry(h)})
	if err == nil || !strings.Contains(err.Error(), "lacks files the catalog needs: tokenizer_2/merges.txt") {
		t.Errorf("Pull with a file missing on the Hub = %v", err)
	}
	// An LFS file whose listed digest differs from the catalog's pin: nothing
	// is downloaded.
	h = newFakeHub(t, sdxlRepoFiles(t))
	h.lfs["text_encoder/model.onnx"] = true
	e := testEntry(h)
	e.Files[0].SHA256 = strings.Repeat("0", 64)
	_, err = s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Entry: e})
	if err == nil || !strings.Contains(err.Error(), "differ from the pinned ones: text_encoder/model.onnx") {
		t.Errorf("Pull with a pinned digest mismatch = %v", err)
	}
	if len(h.requests) != 0 {
		t.Errorf("files downloaded despite a failed plan: %v", h.requests)
	}
	// A git-stored file has no listed SHA-256: the pin is checked after the
	// download.
	h = newFakeHub(t, sdxlRepoFiles(t))
	e = testEntry(h)
	e.Files[0].SHA256 = strings.Repeat("0", 64)
	_, err = s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Entry: e})
	var ce *ChecksumError
	if !errors.As(err, &ce) || ce.Path != "text_encoder/model.onnx" || ce.Algorithm != "SHA-256" {
		t.Errorf("Pull with a pinned digest of a git file = %v", err)
	}
	if _, err := s.Get("test-sdxl"); err == nil {
		t.Error("registered despite a checksum error")
	}
}

func TestPullAnyRepoWithInclude(t *testing.T) {
	files := sdxlRepoFiles(t)
	h := newFakeHub(t, files)
	s := NewStore(t.TempDir())
	dest := filepath.Join(t.TempDir(), "custom")
	req := PullRequest{Repo: h.repo, Revision: "main", Include: []string{"*.onnx", "*.onnx_data", "tokenizer*/*", "scheduler/*", "*.json"}, Dest: dest}
	e, err := s.Pull(context.Background(), h.hub(), testDownloader(h), req)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if e.Name != "acme--model" || e.Managed || e.Dir != dest || e.Revision != h.commit {
		t.Errorf("entry = %+v", e)
	}
	if _, err := os.Stat(filepath.Join(dest, "README.md")); !os.IsNotExist(err) {
		t.Error("README.md was not filtered out")
	}
	// rm of an unmanaged folder keeps the files.
	if _, err := s.Remove(e.Name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "unet", "model.onnx")); err != nil {
		t.Error("rm deleted a folder outside the models folder")
	}

	// A repository that is not a model folder is downloaded but not registered.
	_, err = s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Repo: h.repo, Include: []string{"README.md"}, Name: "readme"})
	if err == nil || !strings.Contains(err.Error(), "not a usable model folder") {
		t.Errorf("Pull of a non-model = %v", err)
	}
	_, err = s.Pull(context.Background(), h.hub(), testDownloader(h), PullRequest{Repo: h.repo, Include: []string{"*.gguf"}, Name: "none"})
	if err == nil || !strings.Contains(err.Error(), "no file matches *.gguf") {
		t.Errorf("Pull with nothing matching = %v", err)
	}
}

func TestImport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "My SDXL")
	makeSDXL(t, dir, 2048)
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not part of the model"))
	s := NewStore(t.TempDir())
	rep, err := s.Import(context.Background(), dir, ImportOptions{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if rep.Entry.Name != "my-sdxl" || rep.Entry.Kind != KindSDXLBase || rep.Entry.Managed || rep.Entry.Source != SourceLocal || !rep.Hashed {
		t.Errorf("entry = %+v", rep.Entry)
	}
	// The user's folder is left untouched: the manifest lives in the store.
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); !os.IsNotExist(err) {
		t.Errorf("Import wrote into the imported folder: %v", err)
	}
	if rep.Entry.Manifest != filepath.Join(s.Root, "manifests", "my-sdxl.json") {
		t.Errorf("manifest path = %s", rep.Entry.Manifest)
	}
	m, err := ReadManifest(rep.Entry.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range m.Files {
		paths = append(paths, f.Path)
		if f.Path == "unet/model.onnx_data" && f.SHA256 != sha256hex([]byte("weights")) {
			t.Errorf("manifest digest of %s = %s", f.Path, f.SHA256)
		}
	}
	if len(paths) != 13 || strings.Contains(strings.Join(paths, ","), "notes.txt") {
		t.Errorf("manifest files = %v", paths)
	}
	if rep, err := s.Verify(context.Background(), "my-sdxl", nil); err != nil || !rep.OK() {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
	// The same name for another folder is refused.
	other := t.TempDir()
	makeSDXL(t, other, 1280)
	if _, err := s.Import(context.Background(), other, ImportOptions{Name: "my-sdxl"}); err == nil || !strings.Contains(err.Error(), "is taken") {
		t.Errorf("Import with a taken name = %v", err)
	}
	if _, err := s.Import(context.Background(), other, ImportOptions{Name: "../x"}); err == nil || !strings.Contains(err.Error(), "bad model name") {
		t.Errorf("Import with a bad name = %v", err)
	}
	// rm of an imported folder keeps it.
	if _, err := s.Remove("my-sdxl", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "unet", "model.onnx")); err != nil {
		t.Error("rm deleted an imported folder")
	}
}

func TestImportRejects(t *testing.T) {
	s := NewStore(t.TempDir())
	half := t.TempDir()
	makeSDXL(t, half, 2048)
	os.Remove(filepath.Join(half, "unet", "model.onnx_data"))
	_, err := s.Import(context.Background(), half, ImportOptions{})
	var le *LayoutError
	if !errors.As(err, &le) || !reflect.DeepEqual(le.Missing, []string{"unet/model.onnx_data"}) {
		t.Errorf("Import of a half folder = %v", err)
	}
	bad := t.TempDir()
	makeSDXL(t, bad, 2048)
	makeSDXLUnet(t, bad, 2048, 5)
	_, err = s.Import(context.Background(), bad, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "time_ids has last axis 5, expected 6") || !strings.Contains(err.Error(), "--force") {
		t.Errorf("Import with a bad interface = %v", err)
	}
	rep, err := s.Import(context.Background(), bad, ImportOptions{Force: true, Name: "forced"})
	if err != nil || len(rep.Problems) != 1 {
		t.Errorf("forced Import = %+v, %v", rep.Problems, err)
	}
	if entries, _ := s.List(); len(entries) != 1 {
		t.Errorf("registry = %+v", entries)
	}
}

func TestImportReadOnlyFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write to read-only folders")
	}
	dir := t.TempDir()
	makeJanus(t, dir, "1B", JanusCombos()[0].Dtypes)
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if info.IsDir() {
			os.Chmod(p, 0o555)
		}
		return nil
	})
	t.Cleanup(func() {
		filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	s := NewStore(t.TempDir())
	rep, err := s.Import(context.Background(), dir, ImportOptions{Name: "janus"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entry.Manifest != filepath.Join(s.Root, "manifests", "janus.json") || rep.Entry.Params != "1B" {
		t.Errorf("entry = %+v", rep.Entry)
	}
	if rep, err := s.Verify(context.Background(), "janus", nil); err != nil || !rep.OK() || rep.Checked != 9 {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

func TestExportRecipe(t *testing.T) {
	tools := t.TempDir()
	fixture := t.TempDir()
	makeSDXL(t, fixture, 1280)
	// A stand-in for tools/export_sdxl_refiner.sh: copies a finished export.
	writeFile(t, filepath.Join(tools, "fake_export.sh"), []byte(`set -e
test "$DIPTYCH_CHECKPOINT" = "acme/refiner" || { echo "bad checkpoint env" >&2; exit 3; }
test -n "$PYTHON"
echo "exporting to $1 with $2"
cp -r "$FIXTURE"/. "$1"
`))
	writeFile(t, filepath.Join(tools, "fail_export.sh"), []byte("echo 'optimum exploded' >&2; exit 7\n"))
	t.Setenv("FIXTURE", fixture)
	s := NewStore(t.TempDir())
	entry := CatalogEntry{Name: "test-refiner", Kind: KindSDXLRefiner, Source: SourceExport,
		Export: &ExportRecipe{Script: "fake_export.sh", Checkpoint: "acme/refiner", CheckpointRevision: "main", Args: []string{"--dtype=fp32"}}}
	var out, errb strings.Builder
	e, err := s.Export(context.Background(), entry, ExportOptions{ToolsDir: tools, Python: "/usr/bin/true", Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("Export: %v (stderr %s)", err, errb.String())
	}
	if e.Kind != KindSDXLRefiner || !e.Managed || e.Source != SourceExport || e.Dir != filepath.Join(s.ModelsDir(), "test-refiner") {
		t.Errorf("entry = %+v", e)
	}
	if !strings.Contains(out.String(), "with --dtype=fp32") {
		t.Errorf("script output = %q", out.String())
	}
	if rep, err := s.Verify(context.Background(), "test-refiner", nil); err != nil || !rep.OK() {
		t.Errorf("Verify = %+v, %v", rep, err)
	}

	entry.Name, entry.Export.Script = "broken", "fail_export.sh"
	_, err = s.Export(context.Background(), entry, ExportOptions{ToolsDir: tools, Python: "/usr/bin/true", Stderr: &errb})
	if err == nil || !strings.Contains(err.Error(), "exit status 7") || !strings.Contains(errb.String(), "optimum exploded") {
		t.Errorf("failing Export = %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.ModelsDir(), "broken")); !os.IsNotExist(err) {
		t.Error("a failed export left a model folder")
	}
	// The script made a base where a refiner was expected.
	makeSDXL(t, fixture, 2048)
	os.RemoveAll(filepath.Join(fixture, "unet"))
	makeSDXLUnet(t, fixture, 2048, 6)
	entry.Name, entry.Export.Script = "wrong", "fake_export.sh"
	_, err = s.Export(context.Background(), entry, ExportOptions{ToolsDir: tools, Python: "/usr/bin/true"})
	if err == nil || !strings.Contains(err.Error(), "made a sdxl-base folder, expected sdxl-refiner") {
		t.Errorf("Export with the wrong output = %v", err)
	}
}

func TestCatalog(t *testing.T) {
	for _, e := range Catalog() {
		if err := CheckName(e.Name); err != nil {
			t.Error(err)
		}
		if e.License == "" || e.Hardware == "" {
			t.Errorf("%s lacks licence or hardware notes", e.Name)
		}
		switch e.Source {
		case SourceHub:
			if len(e.Revision) != 40 {
				t.Errorf("%s: revision %q is not a pinned commit", e.Name, e.Revision)
			}
			files, err := e.NeededFiles("")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if err := CheckPath(f.Path); err != nil {
					t.Error(err)
				}
			}
		case SourceExport:
			if e.Export == nil || e.Export.Script == "" {
				t.Errorf("%s has no recipe", e.Name)
			}
		}
	}
	e, variant, ok := Lookup("janus-pro-1b:fp16")
	if !ok || variant != "fp16" {
		t.Fatalf("Lookup = %v %q", ok, variant)
	}
	files, err := e.NeededFiles("")
	if err != nil {
		t.Fatal(err)
	}
	// The default combination is the documented float32-boundary one, whose
	// six graph files total 2,996,215,163 bytes.
	var graphs int64
	for _, f := range files {
		if strings.HasPrefix(f.Path, "onnx/") {
			graphs += f.Size
			if f.SHA256 == "" {
				t.Errorf("%s not pinned", f.Path)
			}
		}
	}
	if graphs != 2_996_215_163 {
		t.Errorf("default Janus graphs = %d bytes, want 2996215163", graphs)
	}
	fp16, _ := e.NeededFiles("fp16")
	var names []string
	for _, f := range fp16 {
		if strings.HasPrefix(f.Path, "onnx/") {
			names = append(names, strings.TrimPrefix(f.Path, "onnx/"))
		}
	}
	want := []string{"prepare_inputs_embeds_q4.onnx", "language_model_q4f16.onnx", "lm_head_fp16.onnx", "gen_head_fp16.onnx",
		"gen_img_embeds_fp16.onnx", "image_decode.onnx"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("fp16 files = %v, want %v", names, want)
	}
	if _, err := e.NeededFiles("int3"); err == nil || !strings.Contains(err.Error(), "expected one of fp16, fp32, q4f16") {
		t.Errorf("unknown variant: %v", err)
	}
	if _, _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("DIPTYCH_HOME", "/srv/diptych")
	if d, err := DefaultDir(); err != nil || d != "/srv/diptych" {
		t.Errorf("DefaultDir with DIPTYCH_HOME = %q, %v", d, err)
	}
	t.Setenv("DIPTYCH_HOME", "")
	t.Setenv("XDG_DATA_HOME", "/xdg")
	if d, err := DefaultDir(); err != nil || d != "/xdg/diptych" {
		t.Errorf("DefaultDir with XDG_DATA_HOME = %q, %v", d, err)
	}
}
