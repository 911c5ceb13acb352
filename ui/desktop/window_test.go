//go:build cgo

package desktop

import (
	"encoding/json"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestRealWindow builds the app, starts it under the X display in DISPLAY
// (make test runs tools/with_xvfb.sh) against a temporary config, data
// folder and library, lets the test hook install the demo models and run
// one generation through the window, then takes a screenshot of the screen
// into artifacts/ and checks that it is not blank. Without DISPLAY, or
// without ImageMagick's import, it skips.
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
	build := exec.Command("go", "build", "-tags", "sqlite_fts5 migrated_fynedo", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	status := filepath.Join(tmp, "status.json")
	cmd := exec.Command(bin, "--ort-lib", ortLib)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"),
		"HOME="+filepath.Join(tmp, "home"),
		"DIPTYCH_DEMO_SOURCE="+root,
		"LANG=en_US.UTF-8",
		TestHookEnv+"="+status)
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
	deadline := time.Now().Add(6 * time.Minute)
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
