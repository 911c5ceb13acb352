//go:build cgo

package desktop

import (
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The hook's variables (testhook.go, guitest builds only).
const (
	hookEnv  = "DIPTYCH_GUI_TEST_HOOK"
	shotsEnv = "DIPTYCH_GUI_SHOTS"
)

// The views the hook screenshots, in order.
var wantShots = []string{"studio-empty", "studio-image", "compare", "history", "viewer", "models", "settings", "studio-janus"}

// TestReleaseBuildHasNoTestHook: the GUI test driver is compiled only with
// the guitest tag, so release binaries neither carry it nor read its
// environment variables.
func TestReleaseBuildHasNoTestHook(t *testing.T) {
	files := func(tags string) []string {
		out, err := exec.Command("go", "list", "-tags", tags, "-f", "{{join .GoFiles \" \"}}", ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if f := files("sqlite_fts5 migrated_fynedo"); slices.Contains(f, "testhook.go") || !slices.Contains(f, "desktop.go") {
		t.Errorf("default build files %v: testhook.go must be left out", f)
	}
	if f := files("sqlite_fts5 migrated_fynedo guitest"); !slices.Contains(f, "testhook.go") {
		t.Errorf("guitest build files %v lack testhook.go", f)
	}
	src, err := os.ReadFile("desktop.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), hookEnv) {
		t.Error("desktop.go names the hook's variable itself")
	}
}

// TestRealWindow builds the app with the guitest hook, starts it under the
// X display in DISPLAY (make test runs tools/with_xvfb.sh) against a
// temporary config, data folder and library. The hook screenshots the
// first-run Studio, installs the demo models, runs one generation through
// the window, then opens every view at 1280×800 (Studio with the image,
// Compare with a pair and its verdict, History with 50 rows, the viewer,
// Models, Settings, the Studio with Janus picked), writing each to
// docs/screenshots/ (DIPTYCH_SCREENSHOTS overrides) and checking that no
// labelled control is clipped by the window or its scroll area. A screen
// shot with import also goes to artifacts/. Without DISPLAY, or without
// ImageMagick's import, it skips.
func TestRealWindow(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		t.Skip("DISPLAY is not set (run under make test, which starts Xvfb)")
	}
	if _, err := exec.LookPath("import"); err != nil {
		t.Skip("ImageMagick's import is not installed:", err)
	}
	if testing.Short() {
		t.Skip("-short")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	ortLib := os.Getenv("DIPTYCH_ORT_LIB")
	if ortLib == "" {
		ortLib = filepath.Join(root, ".runtime", "libonnxruntime.so")
	}
	if _, err := os.Stat(ortLib); err != nil {
		t.Skip("no ONNX Runtime library (make runtime):", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "diptych")
	build := exec.Command("go", "build", "-tags", "sqlite_fts5 migrated_fynedo guitest", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	status := filepath.Join(tmp, "status.json")
	shots := os.Getenv("DIPTYCH_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(root, "docs", "screenshots")
	}
	cmd := exec.Command(bin, "--ort-lib", ortLib)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"),
		"HOME="+filepath.Join(tmp, "home"),
		"DIPTYCH_DEMO_SOURCE="+root,
		"LANG=en_US.UTF-8",
		hookEnv+"="+status, shotsEnv+"="+shots)
	logf, _ := os.Create(filepath.Join(tmp, "app.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	var st HookStatus
	deadline := time.Now().Add(9 * time.Minute)
	for {
		if b, err := os.ReadFile(status); err == nil && json.Unmarshal(b, &st) == nil {
			break
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(tmp, "app.log"))
			t.Fatalf("the app exited early (%v):\n%s", err, log)
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no status from the test hook")
		}
	}
	art := filepath.Join(root, "artifacts")
	os.MkdirAll(art, 0o755)
	shot := filepath.Join(art, "gui-studio.png")
	if out, err := exec.Command("import", "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	if st.State != "done" {
		log, _ := os.ReadFile(filepath.Join(tmp, "app.log"))
		t.Fatalf("the generation in the window ended %q: %s\n%s", st.State, st.Error, log)
	}
	if _, err := os.Stat(st.Image); err != nil {
		t.Fatalf("generated image: %v", err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", shot, err)
	}
	if n := distinctColours(img, 64); n < 16 {
		t.Fatalf("screenshot %s looks blank: %d distinct colours", shot, n)
	}
	t.Logf("screenshot %s (%v), generation %d from %s", shot, img.Bounds().Size(), st.GenerationID, st.Model)

	var names []string
	for _, s := range st.Shots {
		names = append(names, s.Name)
		if s.Width != 1280 || s.Height != 800 {
			t.Errorf("%s: %d×%d, want 1280×800", s.Name, s.Width, s.Height)
		}
		if s.Checked < 10 {
			t.Errorf("%s: only %d labelled controls checked", s.Name, s.Checked)
		}
		for _, c := range s.Clipped {
			t.Errorf("%s: clipped: %s", s.Name, c)
		}
		fi, err := os.Stat(s.Path)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		if fi.Size() > 600<<10 {
			t.Errorf("%s: %d KB, keep screenshots small", s.Path, fi.Size()>>10)
		}
		f, err := os.Open(s.Path)
		if err != nil {
			t.Fatal(err)
		}
		im, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("decode %s: %v", s.Path, err)
		} else if n := distinctColours(im, 64); n < 16 {
			t.Errorf("%s looks blank: %d colours", s.Path, n)
		}
		t.Logf("%s: %s, %d KB, %d controls, none clipped", s.Name, s.Path, fi.Size()>>10, s.Checked)
	}
	if !slices.Equal(names, wantShots) {
		t.Errorf("screenshots %v, want %v", names, wantShots)
	}
}

// distinctColours counts the colours (up to limit) in a grid of samples.
func distinctColours(img image.Image, limit int) int {
	seen := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if len(seen) >= limit {
				return len(seen)
			}
		}
	}
	return len(seen)
}
