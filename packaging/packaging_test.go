package packaging

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"go/ast"
	"go/parser"
	"go/token"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const root = ".."

// fyneApp is the part of FyneApp.toml the packages use.
type fyneApp struct {
	Website, Description string
	Details              struct {
		Icon, Name, ID, Version string
		Build                   int
	}
	LinuxAndBSD struct {
		GenericName, Comment string
		Categories, Keywords []string
	}
	Migrations map[string]bool
}

func loadFyneApp(t *testing.T) fyneApp {
	t.Helper()
	var m fyneApp
	md, err := toml.DecodeFile(filepath.Join(root, "FyneApp.toml"), &m)
	if err != nil {
		t.Fatalf("FyneApp.toml: %v", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("FyneApp.toml: unknown keys %v", u)
	}
	return m
}

// metainfo is the part of the AppStream file the checks compare.
type metainfo struct {
	ID         string `xml:"id"`
	Name       string `xml:"name"`
	Launchable struct {
		Type string `xml:"type,attr"`
		Name string `xml:",chardata"`
	} `xml:"launchable"`
	Binary  string `xml:"provides>binary"`
	Release []struct {
		Version string `xml:"version,attr"`
		Date    string `xml:"date,attr"`
	} `xml:"releases>release"`
}

// desktopEntry reads the [Desktop Entry] group of a .desktop file.
func desktopEntry(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{}
	s := bufio.NewScanner(bytes.NewReader(b))
	group := ""
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			group = line
		case group == "[Desktop Entry]":
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q is not key=value", path, line)
			}
			kv[k] = v
		}
	}
	return kv
}

// appIDFromSource reads `const AppID = "..."` from ui/desktop without
// importing it (that package needs cgo and OpenGL).
func appIDFromSource(t *testing.T) string {
	t.Helper()
	path := filepath.Join(root, "ui", "desktop", "desktop.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if n.Name == "AppID" && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						id, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						return id
					}
				}
			}
		}
	}
	t.Fatalf("%s: no const AppID string", path)
	return ""
}

// TestMetadataAgrees checks that the ID, name, version, categories and icon
// say the same thing everywhere they appear.
func TestMetadataAgrees(t *testing.T) {
	app := loadFyneApp(t)
	id := app.Details.ID
	if got := appIDFromSource(t); got != id {
		t.Errorf("ui/desktop AppID = %q, FyneApp.toml ID = %q", got, id)
	}
	if app.Details.Name != "Diptych" {
		t.Errorf("FyneApp.toml Name = %q, want Diptych", app.Details.Name)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(app.Details.Version) || app.Details.Build < 1 {
		t.Errorf("FyneApp.toml Version %q / Build %d: want X.Y.Z and a build number >= 1", app.Details.Version, app.Details.Build)
	}
	if !app.Migrations["fyneDo"] {
		t.Errorf("FyneApp.toml: [Migrations] fyneDo = true is missing (the Makefile builds with migrated_fynedo)")
	}

	// The icon fyne package embeds: a square PNG of at least 256 pixels.
	f, err := os.Open(filepath.Join(root, app.Details.Icon))
	if err != nil {
		t.Fatalf("FyneApp.toml Icon: %v", err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil || cfg.Width != cfg.Height || cfg.Width < 256 {
		t.Errorf("FyneApp.toml Icon %s: %dx%d (err %v), want a square PNG >= 256", app.Details.Icon, cfg.Width, cfg.Height, err)
	}

	desk := desktopEntry(t, filepath.Join("linux", id+".desktop"))
	for k, want := range map[string]string{
		"Name": app.Details.Name,
		"Icon": id,
		"Exec": "diptych",
		// GLFW names the X11 window class after the window title.
		"StartupWMClass": app.Details.Name,
		"GenericName":    app.LinuxAndBSD.GenericName,
		"Comment":        app.LinuxAndBSD.Comment,
		"Categories":     strings.Join(app.LinuxAndBSD.Categories, ";") + ";",
		"Keywords":       strings.Join(app.LinuxAndBSD.Keywords, ";") + ";",
	} {
		if desk[k] != want {
			t.Errorf("linux/%s.desktop %s = %q, want %q (from FyneApp.toml)", id, k, desk[k], want)
		}
	}

	var mi metainfo
	b, err := os.ReadFile(filepath.Join("linux", id+".metainfo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &mi); err != nil {
		t.Fatalf("metainfo: %v", err)
	}
	if mi.ID != id || mi.Launchable.Name != id+".desktop" || mi.Launchable.Type != "desktop-id" || mi.Binary != "diptych" {
		t.Errorf("metainfo id %q, launchable %s %q, binary %q: want %q, desktop-id %q, diptych",
			mi.ID, mi.Launchable.Type, mi.Launchable.Name, mi.Binary, id, id+".desktop")
	}
	if len(mi.Release) == 0 || mi.Release[0].Version != app.Details.Version {
		t.Errorf("metainfo newest release %+v, want version %s (FyneApp.toml)", mi.Release, app.Details.Version)
	}

	// The newest versioned CHANGELOG section, and its date, match the metainfo.
	cl, err := os.ReadFile(filepath.Join(root, "CHANGELOG.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$`).FindSubmatch(cl)
	if m == nil {
		t.Fatalf("CHANGELOG.md: no '## [X.Y.Z] - YYYY-MM-DD' section")
	}
	if string(m[1]) != app.Details.Version {
		t.Errorf("CHANGELOG.md newest release %s, FyneApp.toml Version %s", m[1], app.Details.Version)
	}
	if len(mi.Release) > 0 && mi.Release[0].Date != string(m[2]) {
		t.Errorf("metainfo release date %s, CHANGELOG.md says %s", mi.Release[0].Date, m[2])
	}
}

// needTool returns the path of a validator, skipping when it is not
// installed (Debian: desktop-file-utils, appstream).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

func TestDesktopFileValidates(t *testing.T) {
	tool := needTool(t, "desktop-file-validate", "desktop-file-utils")
	out, err := exec.Command(tool, filepath.Join("linux", "io.github.diptych.desktop")).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("desktop-file-validate: %v\n%s", err, out)
	}
}

func TestMetainfoValidates(t *testing.T) {
	tool := needTool(t, "appstreamcli", "appstream")
	out, err := exec.Command(tool, "validate", "--no-net", "--pedantic", filepath.Join("linux", "io.github.diptych.metainfo.xml")).CombinedOutput()
	if err != nil {
		t.Fatalf("appstreamcli validate: %v\n%s", err, out)
	}
}

// TestDebOnCleanDebian builds the .deb from the working tree and installs it
// into a fresh debootstrap root (about 2 minutes with a warm build cache).
func TestDebOnCleanDebian(t *testing.T) {
	if os.Getenv("DIPTYCH_TEST_DEB") != "1" {
		t.Skip("set DIPTYCH_TEST_DEB=1 to build the .deb and install it into a clean Debian root (root, debootstrap, network to the Debian mirror)")
	}
	version := "dev"
	if out, err := exec.Command("git", "-C", root, "describe", "--tags", "--always", "--dirty").Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	dist, results := t.TempDir(), t.TempDir()
	build := exec.Command(filepath.Join(root, "tools", "build_deb.sh"))
	build.Env = append(os.Environ(), "VERSION="+version, "OUT_DIR="+dist)
	build.Stderr = os.Stderr
	out, err := build.Output()
	if err != nil {
		t.Fatalf("tools/build_deb.sh: %v", err)
	}
	deb := strings.TrimSpace(string(out))
	if !filepath.IsAbs(deb) {
		deb = filepath.Join(root, deb)
	}
	// build_deb.sh prints the path relative to the repository unless OUT_DIR is absolute.
	if _, err := os.Stat(deb); err != nil {
		t.Fatalf("build_deb.sh printed %q: %v", deb, err)
	}
	test := exec.Command(filepath.Join(root, "tools", "test_deb.sh"), deb)
	test.Env = append(os.Environ(), "OUT="+results, "EXPECT_VERSION="+version)
	test.Stdout, test.Stderr = os.Stderr, os.Stderr
	if err := test.Run(); err != nil {
		t.Fatalf("tools/test_deb.sh %s: %v", deb, err)
	}

	b, err := os.ReadFile(filepath.Join(results, "doctor.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Host struct {
			OS   string `json:"os"`
			Arch string `json:"arch"`
		} `json:"host"`
		Runtime struct {
			Path     string   `json:"path"`
			Version  string   `json:"version"`
			Searched []string `json:"searched"`
		} `json:"runtime"`
		GPU struct {
			Devices []json.RawMessage `json:"devices"`
			Problem string            `json:"problem"`
		} `json:"gpu"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&report); err != nil {
		t.Fatalf("doctor --json in the clean root is not JSON: %v\n%s", err, b)
	}
	if report.Host.Arch != "amd64" || !strings.Contains(report.Host.OS, "Debian") {
		t.Errorf("host %+v, want Debian amd64", report.Host)
	}
	if report.Runtime.Path != "/usr/lib/diptych/lib/libonnxruntime.so" {
		t.Errorf("runtime path %q, want the bundled /usr/lib/diptych/lib/libonnxruntime.so (searched %v)", report.Runtime.Path, report.Runtime.Searched)
	}
	if !strings.HasPrefix(report.Runtime.Version, "1.") {
		t.Errorf("runtime version %q, want 1.x", report.Runtime.Version)
	}
	if len(report.GPU.Devices) != 0 || report.GPU.Problem == "" {
		t.Errorf("gpu devices %d, problem %q: want none, with the reason", len(report.GPU.Devices), report.GPU.Problem)
	}
}
