package app

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSettingsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conf", "settings.json")

	s, err := LoadSettings(path)
	if err != nil || !reflect.DeepEqual(s, Settings{Device: "auto", Theme: "system", PreviewEvery: 5}) {
		t.Fatalf("missing file: %+v %v, want the defaults", s, err)
	}

	want := Settings{ModelDirs: []string{"/m1", "/m2"}, Library: "/lib", Device: "cuda:1", ORTLib: "/x/libonnxruntime.so", Theme: "dark", PreviewEvery: 0}
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip %+v %v, want %+v", got, err, want)
	}
	b, _ := os.ReadFile(path)
	for _, key := range []string{`"model_dirs"`, `"library"`, `"device"`, `"ort_lib"`, `"theme"`, `"preview_every"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("settings file lacks %s:\n%s", key, b)
		}
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want only settings.json (no temporary files)", len(ents))
	}

	bad := want
	bad.Theme = "purple"
	if err := bad.Save(path); err == nil || !strings.Contains(err.Error(), `theme "purple"`) {
		t.Fatalf("saving a bad theme: %v", err)
	}
	if again, _ := LoadSettings(path); !reflect.DeepEqual(again, want) {
		t.Fatalf("a refused save changed the file: %+v", again)
	}
	bad = want
	bad.PreviewEvery = -2
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "preview_every -2") {
		t.Fatalf("negative preview_every: %v", err)
	}

	os.WriteFile(path, []byte(`{"theme": "dark",`), 0o644)
	s, err = LoadSettings(path)
	if err == nil || !strings.Contains(err.Error(), path) || !reflect.DeepEqual(s, DefaultSettings()) {
		t.Fatalf("broken JSON: %+v %v, want the defaults and an error naming the file", s, err)
	}
	os.WriteFile(path, []byte(`{"theme": "sepia"}`), 0o644)
	if _, err := LoadSettings(path); err == nil || !strings.Contains(err.Error(), `theme "sepia"`) {
		t.Fatalf("unknown theme in the file: %v", err)
	}
}

func TestJobStateFinished(t *testing.T) {
	for st, want := range map[JobState]bool{JobQueued: false, JobRunning: false, JobDone: true, JobFailed: true, JobCancelled: true} {
		if st.Finished() != want {
			t.Errorf("%s.Finished() = %v, want %v", st, !want, want)
		}
	}
}
