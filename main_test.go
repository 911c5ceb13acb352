package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2/lang"
	"github.com/spf13/cobra"

	"diptych/app/progress"
	"diptych/gallery"
)

// TestMain lets a test run this test binary as the diptych binary itself
// (asBinary), so that what happens at process start, before run, is tested.
func TestMain(m *testing.M) {
	switch os.Getenv("DIPTYCH_TEST_AS_BINARY") {
	case "main":
		main()
	case "fyne-locale": // what the window's widgets ask Fyne for
		fmt.Println(lang.SystemLocale(), lang.L("Cancel"))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// asBinary runs the test binary as `diptych args...` in a fresh process with
// env added to a copy of the test's environment less the locale variables.
func asBinary(t *testing.T, mode string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "DIPTYCH_TEST_AS_BINARY":
		default:
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, "DIPTYCH_TEST_AS_BINARY="+mode), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// Under the C locale of servers and containers no command prints Fyne's
// "Error parsing user locale", and the window's locale falls back to English.
func TestCLocaleIsQuiet(t *testing.T) {
	home := isolate(t)
	for _, loc := range []string{"C", "C.UTF-8", "C.utf8", "POSIX"} {
		env := []string{"LANG=" + loc, "DISPLAY=", "WAYLAND_DISPLAY="}
		for _, args := range [][]string{
			{"--version"},
			{"help"},
			{"inspect", "randn", "--seed", "0", "--shape", "2"},
			{"history", "list", "--library", filepath.Join(home, "lib")},
			{"models", "list", "--json"},
			{}, // the window: fails here for want of a display, after Fyne is set up
		} {
			code, _, errOut := asBinary(t, "main", env, args...)
			if strings.Contains(errOut, "Fyne error") || strings.Contains(errOut, "locale") {
				t.Errorf("LANG=%s diptych %v: exit %d, stderr:\n%s", loc, args, code, errOut)
			}
			if len(args) > 0 && code != 0 {
				t.Errorf("LANG=%s diptych %v: exit %d: %s", loc, args, code, errOut)
			}
		}
		code, out, errOut := asBinary(t, "fyne-locale", env)
		if code != 0 || strings.TrimSpace(out) != "en Cancel" || errOut != "" {
			t.Errorf("LANG=%s: Fyne's locale: exit %d, %q, stderr %q; want \"en Cancel\" quietly", loc, code, out, errOut)
		}
	}
}

// runCLI runs the command line in-process with a private config and data folder.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	t.Setenv("DIPTYCH_HOME", filepath.Join(home, "diptych"))
	t.Setenv("DIPTYCH_ORT_LIB", "")
	return home
}

// Every command and subcommand answers -h and --help on stdout with exit 0.
func TestEveryCommandHasHelp(t *testing.T) {
	isolate(t)
	var walk func(cmd *cobra.Command)
	n := 0
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			path := strings.Fields(sub.CommandPath())[1:] // less "diptych"
			for _, h := range []string{"--help", "-h"} {
				code, out, errOut := runCLI(t, append(append([]string{}, path...), h)...)
				if code != 0 || !strings.Contains(out, "Usage: ") || !strings.Contains(out, sub.CommandPath()) || errOut != "" {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q", sub.CommandPath(), h, code, out, errOut)
				}
			}
			n++
			walk(sub)
		}
	}
	walk((&cli{stdout: io.Discard, stderr: io.Discard}).rootCmd())
	if n < 30 { // 10 commands, 10 history, 6 models and 4 inspect subcommands
		t.Fatalf("walked %d commands", n)
	}
	code, out, _ := runCLI(t, "help")
	if code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "generate") {
		t.Fatalf("help: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "help", "history", "import")
	if code != 0 || !strings.Contains(out, "Usage: diptych history import DIR") {
		t.Fatalf("help history import: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, "frobnicate")
	if code != 2 || !strings.Contains(errOut, `diptych: unknown command "frobnicate"; known commands: generate, caption,`) ||
		!strings.Contains(errOut, "Run 'diptych --help' for usage.") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "histroy", "list")
	if code != 2 || !strings.Contains(errOut, "did you mean history?") {
		t.Fatalf("misspelt command: %d %q", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "diptych ") {
		t.Fatalf("--version: %d %q", code, out)
	}
}

func TestDoctorJSON(t *testing.T) {
	isolate(t)
	code, out, errOut := runCLI(t, "doctor", "--json", "--models", "testdata/sdxl")
	if code != 0 {
		t.Fatalf("doctor exit %d: %s", code, errOut)
	}
	var r struct {
		Runtime struct {
			Version   string   `json:"version"`
			Providers []string `json:"providers_compiled_in"`
		} `json:"runtime"`
		CUDA struct {
			Usable bool   `json:"usable"`
			Reason string `json:"reason"`
		} `json:"cuda"`
		Models   []struct{ Dir, Kind string } `json:"models"`
		Verdicts []struct {
			Model, Verdict string
		} `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("doctor --json is not JSON: %v\n%s", err, out)
	}
	if r.Runtime.Version == "" || len(r.Runtime.Providers) == 0 {
		t.Fatalf("runtime not reported: %+v", r.Runtime)
	}
	if !r.CUDA.Usable && r.CUDA.Reason == "" {
		t.Fatal("CUDA unusable without a reason")
	}
	kinds := map[string]bool{}
	for _, m := range r.Models {
		kinds[m.Kind] = true
	}
	if !kinds["sdxl-base"] || !kinds["sdxl-refiner"] {
		t.Fatalf("fixture models not found: %+v", r.Models)
	}
	if len(r.Verdicts) != 4 {
		t.Fatalf("verdicts = %+v", r.Verdicts)
	}
}

func TestDoctorWithoutRuntimeStillReports(t *testing.T) {
	isolate(t)
	code, out, _ := runCLI(t, "--ort-lib", "/nonexistent/libonnxruntime.so", "doctor")
	if code != 0 || !strings.Contains(out, "Runtime:  MISSING") || !strings.Contains(out, "/nonexistent/libonnxruntime.so") {
		t.Fatalf("doctor without runtime: exit %d\n%s", code, out)
	}
}

func TestInspectModel(t *testing.T) {
	code, out, errOut := runCLI(t, "inspect", "model", "testdata/runtime/mixed.onnx")
	if code != 0 || !strings.Contains(out, "input   x float16[batch,4]") || !strings.Contains(out, "output  s float32[batch]") {
		t.Fatalf("inspect model: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "inspect", "model", "--json", "testdata/sdxl/base/unet")
	if code != 0 || !strings.Contains(out, `"out_sample"`) {
		t.Fatalf("inspect model --json folder: %d %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	os.WriteFile(bad, []byte("<html>not found</html>"), 0o644)
	code, _, errOut = runCLI(t, "inspect", "model", bad)
	if code != 1 || !strings.Contains(errOut, bad) || !strings.Contains(errOut, "not an ONNX model") {
		t.Fatalf("non-ONNX file: %d %s", code, errOut)
	}
}

func TestInspectEngineTools(t *testing.T) {
	code, out, _ := runCLI(t, "inspect", "tokenize", "--tokenizer", "testdata/sdxl/base/tokenizer", "a photo of a cat")
	if code != 0 || strings.TrimSpace(out) != "[49406,320,1125,539,320,2368,49407]" {
		t.Fatalf("tokenize: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "inspect", "tokenize", "--tokenizer", "testdata/sdxl/base/tokenizer_2", "--max-length", "10", "a photo of a cat")
	if code != 0 || strings.TrimSpace(out) != "[49406,320,1125,539,320,2368,49407,0,0,0]" {
		t.Fatalf("tokenize padded: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "inspect", "schedule", "--scheduler", "euler", "--steps", "30")
	var sched struct {
		Timesteps []float64 `json:"timesteps"`
		Sigmas    []float64 `json:"sigmas"`
		Init      float64   `json:"init_noise_sigma"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &sched) != nil || len(sched.Timesteps) != 30 ||
		sched.Timesteps[0] != 958 || len(sched.Sigmas) != 31 || sched.Init < 11.52 || sched.Init > 11.521 {
		t.Fatalf("schedule: %d %s", code, out)
	}
	code, out, _ = runCLI(t, "inspect", "randn", "--seed", "0", "--shape", "2")
	if code != 0 || strings.TrimSpace(out) != "[1.5409961,-0.2934289]" { // torch.randn(2, generator=manual_seed(0))
		t.Fatalf("randn: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, "inspect", "schedule", "--scheduler", "lms")
	if code != 1 || !strings.Contains(errOut, `unknown scheduler "lms"`) {
		t.Fatalf("bad scheduler: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "inspect", "randn", "--shape", "1,x")
	if code != 2 || !strings.Contains(errOut, "expected positive integers") {
		t.Fatalf("bad shape: %d %s", code, errOut)
	}
}

func TestGenerateSDXLEndToEnd(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "fox.png")
	lib := filepath.Join(home, "library")
	code, stdout, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "a red fox",
		"--width", "64", "--height", "64", "--steps", "3", "--seed", "5", "--scheduler", "dpmpp_2m_karras",
		"--device", "cpu", "--out", out, "--library", lib, "--quiet")
	if code != 0 {
		t.Fatalf("generate exit %d: %s %s", code, stdout, errOut)
	}
	for _, want := range []string{"wrote " + out, "seed 5", "text_encoders", "denoise", "vae_decoder", "peak memory", "history #1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunks, err := gallery.ReadPNGText(f)
	if err != nil {
		t.Fatal(err)
	}
	var params string
	for _, c := range chunks {
		if c.Keyword == "parameters" {
			params = c.Text
		}
	}
	if !strings.HasPrefix(params, "a red fox\nSteps: 3, Sampler: DPM++ 2M, Schedule type: Karras") || !strings.Contains(params, "Seed: 5, Size: 64x64") {
		t.Fatalf("parameters chunk = %q", params)
	}
	st, err := gallery.Open(context.Background(), lib)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), gallery.Query{Text: "fox"})
	if err != nil || len(page.Items) != 1 || page.Items[0].Seed != 5 || page.Items[0].Scheduler != "dpmpp_2m_karras" {
		t.Fatalf("history: %+v %v", page, err)
	}
}

func TestGenerateBadInput(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "x.png")
	base := []string{"generate", "--model-dir", "testdata/sdxl/base", "--prompt", "p", "--width", "64", "--height", "64",
		"--steps", "1", "--out", out, "--no-history", "--quiet"}
	cases := []struct {
		args []string
		code int
		want string
	}{
		{append(base, "--device", "tpu"), 1, `bad device "tpu": expected auto, cpu, cuda or cuda:N`},
		{append(base, "--width", "100"), 1, "width 100 is not allowed"},
		{append(base, "--scheduler", "plms"), 1, `unknown scheduler "plms"`},
		{append(base, "--model", "dalle"), 2, `--model "dalle": expected sdxl or janus`},
		{[]string{"generate", "--model-dir", "testdata/sdxl/base", "--prompt", "  ", "--out", out}, 2, "--prompt is required"},
		{[]string{"generate", "--model-dir", "testdata/janus/tiny", "--prompt", "p", "--out", out, "--no-history"}, 1, "not an SDXL export"},
		{[]string{"generate", "--model-dir", filepath.Join(home, "nope"), "--prompt", "p", "--out", out}, 1, "nope"},
		{append(base, "--init-image", filepath.Join(home, "missing.png")), 1, "missing.png"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q lacks %q", c.args[len(c.args)-2:], code, c.code, errOut, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed generation wrote an image")
	}
}

func TestGenerateCUDAWithoutGPUFails(t *testing.T) {
	isolate(t)
	code, _, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "p", "--width", "64",
		"--height", "64", "--steps", "1", "--device", "cuda", "--out", filepath.Join(t.TempDir(), "x.png"), "--no-history")
	if strings.Contains(errOut, "CUDA device 0 unavailable") {
		if code != 1 {
			t.Fatalf("exit %d", code)
		}
		return
	}
	if code == 0 {
		t.Skip("a usable CUDA GPU is present")
	}
	t.Fatalf("--device cuda without a GPU: exit %d, %s", code, errOut)
}

func TestMissingRuntimeLibrary(t *testing.T) {
	isolate(t)
	code, _, errOut := runCLI(t, "--ort-lib", "/nonexistent/libonnxruntime.so", "generate", "--model-dir",
		"testdata/sdxl/base", "--prompt", "p", "--out", filepath.Join(t.TempDir(), "x.png"), "--no-history")
	if code != 1 || !strings.Contains(errOut, "--ort-lib /nonexistent/libonnxruntime.so: no such file") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestGenerateJanusSeveralImages(t *testing.T) {
	home := isolate(t)
	out := filepath.Join(home, "lighthouse.png")
	lib := filepath.Join(home, "library")
	code, stdout, errOut := runCLI(t, "generate", "--model", "janus", "--model-dir", "testdata/janus/tiny",
		"--prompt", "a lighthouse at dusk", "--seed", "3", "--images", "2", "--device", "cpu", "--out", out,
		"--library", lib, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, stdout, errOut)
	}
	for _, p := range []string{filepath.Join(home, "lighthouse-1.png"), filepath.Join(home, "lighthouse-2.png")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(stdout, "tokens") || !strings.Contains(stdout, "image_decode") || !strings.Contains(stdout, "history #2") {
		t.Fatalf("output:\n%s", stdout)
	}
	a, _ := os.ReadFile(filepath.Join(home, "lighthouse-1.png"))
	b, _ := os.ReadFile(filepath.Join(home, "lighthouse-2.png"))
	if bytes.Equal(a, b) {
		t.Fatal("two images of one prompt are identical")
	}
	code, _, errOut = runCLI(t, "generate", "--model", "janus", "--model-dir", "testdata/sdxl/base",
		"--prompt", "x", "--out", out, "--no-history")
	if code != 1 || !strings.Contains(errOut, "janus") {
		t.Fatalf("SDXL folder given to janus: %d %s", code, errOut)
	}
}

// Without a display the window command fails with a reason instead of
// GLFW's panic.
func TestGUIWithoutDisplay(t *testing.T) {
	isolate(t)
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	code, _, errOut := runCLI(t)
	if code != 1 || !strings.Contains(errOut, "no display: neither DISPLAY nor WAYLAND_DISPLAY is set") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// generate and history agree on the library the settings name.
func TestHistoryUsesTheSettingsLibrary(t *testing.T) {
	home := isolate(t)
	lib := filepath.Join(home, "my-library")
	settings := filepath.Join(home, "config", "diptych", "settings.json")
	os.MkdirAll(filepath.Dir(settings), 0o755)
	os.WriteFile(settings, []byte(`{"library": "`+lib+`"}`), 0o644)
	code, _, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "a copper kettle",
		"--width", "64", "--height", "64", "--steps", "1", "--out", filepath.Join(home, "k.png"), "--quiet")
	if code != 0 {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	code, out, errOut := runCLI(t, "history", "search", "kettle")
	if code != 0 || !strings.Contains(out, "a copper kettle") {
		t.Fatalf("history search in the settings' library: %d %q %s", code, out, errOut)
	}
}

// The README writes `diptych inspect model F.onnx --json`: flags after the
// path, as after any positional argument.
func TestInspectFlagsAfterArguments(t *testing.T) {
	code, out, errOut := runCLI(t, "inspect", "model", "testdata/runtime/mixed.onnx", "--json")
	var info struct {
		Inputs []struct{ Name, Type string } `json:"inputs"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || len(info.Inputs) == 0 || info.Inputs[0].Name != "x" || info.Inputs[0].Type != "float16" {
		t.Fatalf("inspect model F.onnx --json: exit %d: %s %s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "inspect", "tokenize", "a photo of a cat", "--tokenizer", "testdata/sdxl/base/tokenizer_2", "--max-length=10")
	if code != 0 || strings.TrimSpace(out) != "[49406,320,1125,539,320,2368,49407,0,0,0]" {
		t.Fatalf("tokenize TEXT --tokenizer DIR --max-length=10: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "inspect", "tokenize", "a", "photo", "--tokenizer", "testdata/sdxl/base/tokenizer", "of", "a", "cat")
	if code != 0 || strings.TrimSpace(out) != "[49406,320,1125,539,320,2368,49407]" {
		t.Fatalf("tokenize with the flag between the words: %d %q", code, out)
	}
	code, _, errOut = runCLI(t, "inspect", "model", "testdata/runtime/mixed.onnx", "other.onnx", "--json")
	if code != 2 || !strings.Contains(errOut, "diptych inspect model: inspect model takes one .onnx path") {
		t.Fatalf("two paths: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "inspect", "randn", "7", "--seed", "0")
	if code != 2 || !strings.Contains(errOut, `unexpected argument "7"`) {
		t.Fatalf("randn with a positional: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "inspect")
	if code != 2 || !strings.Contains(errOut, "missing subcommand (model, tokenize, schedule, randn)") {
		t.Fatalf("inspect alone: %d %q", code, errOut)
	}
}

// The global --ort-lib is taken after the command name and its flags too,
// and a command of flags only refuses stray words with exit 2.
func TestGlobalFlagsAnywhere(t *testing.T) {
	isolate(t)
	code, _, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "p", "--out",
		filepath.Join(t.TempDir(), "x.png"), "--no-history", "--ort-lib", "/nonexistent/libonnxruntime.so")
	if code != 1 || !strings.Contains(errOut, "diptych generate: ") || !strings.Contains(errOut, "--ort-lib /nonexistent/libonnxruntime.so: no such file") {
		t.Fatalf("generate ... --ort-lib PATH: exit %d, stderr %q", code, errOut)
	}
	code, out, _ := runCLI(t, "doctor", "--ort-lib=/nonexistent/libonnxruntime.so", "--models=testdata/sdxl")
	if code != 0 || !strings.Contains(out, "/nonexistent/libonnxruntime.so") || !strings.Contains(out, "testdata/sdxl") {
		t.Fatalf("doctor --ort-lib=PATH --models=DIR: exit %d\n%s", code, out)
	}
	code, _, errOut = runCLI(t, "generate", "sdxl", "--prompt", "p")
	if code != 2 || !strings.Contains(errOut, `diptych generate: unexpected argument "sdxl" (generate takes flags only)`) {
		t.Fatalf("generate WORD: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "generate", "--steps", "many")
	if code != 2 || !strings.Contains(errOut, `invalid argument "many" for "--steps"`) {
		t.Fatalf("generate --steps many: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = runCLI(t, "caption", "-h")
	if code != 0 || !strings.Contains(out, "-v, --verbose") {
		t.Fatalf("caption -h: exit %d\n%s", code, out)
	}
}

// cobra stops a Windows program started from Explorer with "This is a
// command line tool" unless told not to; diptych.exe is double-clicked.
func TestWindowsDoubleClickIsNotRefused(t *testing.T) {
	cobra.MousetrapHelpText = "This is a command line tool."
	(&cli{stdout: io.Discard, stderr: io.Discard}).rootCmd()
	if cobra.MousetrapHelpText != "" {
		t.Fatalf("cobra.MousetrapHelpText = %q: Explorer would refuse to open the window", cobra.MousetrapHelpText)
	}
	code, _, errOut := runCLI(t, "gui", "now")
	if code != 2 || !strings.Contains(errOut, `diptych gui: unexpected argument "now"`) {
		t.Fatalf("gui WORD: exit %d %q", code, errOut)
	}
}

// generate's progress: plain lines when stderr is no terminal (a log, CI),
// one line redrawn in place on a terminal.
func TestGenerateProgressPlainAndTerminal(t *testing.T) {
	home := isolate(t)
	gen := func() string {
		t.Helper()
		code, stdout, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "a red fox",
			"--width", "64", "--height", "64", "--steps", "3", "--seed", "5", "--device", "cpu",
			"--out", filepath.Join(home, "fox.png"), "--no-history")
		if code != 0 {
			t.Fatalf("generate exit %d: %s %s", code, stdout, errOut)
		}
		return errOut
	}
	plain := gen()
	if strings.ContainsAny(plain, "\r\x1b") {
		t.Fatalf("progress in a log has control characters:\n%q", plain)
	}
	var denoise []string
	for _, l := range strings.Split(plain, "\n") {
		if strings.HasPrefix(l, "denoise ") {
			denoise = append(denoise, l)
		}
	}
	// 3 steps: every step is another 5 %; the last line is the end.
	if len(denoise) < 3 || len(denoise) > 4 || !strings.HasPrefix(denoise[len(denoise)-1], "denoise  100%  3/3") {
		t.Fatalf("denoise lines %q in\n%s", denoise, plain)
	}

	isTerminal = func(io.Writer) bool { return true }
	t.Cleanup(func() { isTerminal = progress.IsTerminal })
	term := gen()
	if !strings.Contains(term, "\r\x1b[Kdenoise  [##############################]  100%  3/3") || !strings.HasSuffix(term, "\n") {
		t.Fatalf("terminal progress:\n%q", term)
	}
	if n := strings.Count(term, "\n"); n > 2 {
		t.Fatalf("a terminal bar took %d lines:\n%q", n, term)
	}
}

// failWriter fails every write, like stdout on a full disk.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// Every --json output comes from one printer: two-space indent, a trailing
// newline, prompts' <, > and & as typed, and a failed write reported.
func TestJSONOutputs(t *testing.T) {
	home := isolate(t)
	lib := filepath.Join(home, "lib")
	const prompt = "<lora:fox:0.8> a fox & a hen"
	if code, _, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", prompt, "--width", "64",
		"--height", "64", "--steps", "1", "--device", "cpu", "--out", filepath.Join(home, "f.png"), "--library", lib, "--quiet"); code != 0 {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	for _, args := range [][]string{
		{"history", "show", "1", "--json", "--library", lib},
		{"history", "list", "--json", "--library", lib},
		{"history", "search", "fox", "--json", "--library", lib},
		{"history", "fsck", "--json", "--library", lib},
		{"history", "bench", "--rows", "50", "--json"},
		{"history", "import", "gallery/testdata/import", "--json", "--library", lib},
		{"history", "export", "1", "--out", filepath.Join(home, "x.zip"), "--json", "--library", lib},
		{"models", "list", "--json"},
		{"models", "runtime", "--json"},
		{"inspect", "model", "testdata/runtime/mixed.onnx", "--json"},
		{"doctor", "--json"},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !json.Valid([]byte(out)) || !strings.HasSuffix(out, "\n") || !(strings.Contains(out, "\n  \"") || strings.Contains(out, "\n  {") || out == "[]\n") {
			t.Errorf("%v: exit %d, not indented JSON with a newline: %.200q %s", args, code, out, errOut)
		}
		if strings.Contains(out, `\u003c`) || strings.Contains(out, `\u0026`) {
			t.Errorf("%v: HTML-escaped: %.300s", args, out)
		}
	}
	_, out, _ := runCLI(t, "history", "show", "1", "--json", "--library", lib)
	if !strings.Contains(out, `"prompt": "`+prompt+`"`) {
		t.Errorf("prompt not as typed:\n%s", out)
	}
	var errb bytes.Buffer
	code := run(context.Background(), []string{"history", "list", "--json", "--library", lib}, failWriter{}, &errb)
	if code != 1 || !strings.Contains(errb.String(), "diptych history list: write JSON: no space left on device") {
		t.Errorf("failed write: exit %d, stderr %q", code, errb.String())
	}
}

// Durations print as people read them ("598 ms", "1.25 s"), not as Go's
// "598.123456ms" or "0.598s".
func TestDurationsReadable(t *testing.T) {
	home := isolate(t)
	lib := filepath.Join(home, "lib")
	code, out, errOut := runCLI(t, "generate", "--model-dir", "testdata/sdxl/base", "--prompt", "a fox", "--width", "64",
		"--height", "64", "--steps", "1", "--device", "cpu", "--out", filepath.Join(home, "f.png"), "--library", lib, "--quiet")
	if code != 0 {
		t.Fatalf("generate: %d %s", code, errOut)
	}
	_, show, _ := runCLI(t, "history", "show", "1", "--library", lib)
	readable := regexp.MustCompile(`^  (text_encoders|denoise|vae_decoder|total) +\d+(\.\d+)? (µs|ms|s)$`)
	for name, text := range map[string]string{"generate": out, "history show": show} {
		n := 0
		for _, l := range strings.Split(text, "\n") {
			for _, stage := range []string{"text_encoders", "denoise", "vae_decoder"} {
				if strings.HasPrefix(strings.TrimSpace(l), stage+" ") {
					n++
					if !readable.MatchString(l) {
						t.Errorf("%s: duration line %q", name, l)
					}
				}
			}
		}
		if n != 3 {
			t.Errorf("%s: %d stage lines in\n%s", name, n, text)
		}
	}
	if !regexp.MustCompile(`peak memory: \d+(\.\d)? [kMG]?B\n`).MatchString(show) {
		t.Errorf("history show peak memory:\n%s", show)
	}
}
