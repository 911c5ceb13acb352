package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"diptych/engine/models"
)

// DemoMarker is the file that marks a model folder as a demo model.
const DemoMarker = "DIPTYCH-DEMO-MODEL.txt"

const demoNote = `DEMO MODEL — PRODUCES NOISE

This folder holds one of Diptych's tiny random test models. Its weights are
random, so every image it makes is noise. It exists so that the whole flow
(queue, progress, history, compare) can be tried offline on any machine.
Download a real model with "diptych models pull sdxl-base" or
"diptych models pull janus-pro-1b".
`

// DemoModel is one tiny fixture model that InstallDemoModels copies.
type DemoModel struct {
	Name string // folder name in the models folder
	Src  string // path under the source root
}

// DemoModels are the fixture models, in install order. The refiner is
// optional: it is installed when present.
var DemoModels = []DemoModel{
	{Name: "demo-sdxl-tiny", Src: "testdata/sdxl/base"},
	{Name: "demo-sdxl-refiner-tiny", Src: "testdata/sdxl/refiner"},
	{Name: "demo-janus-tiny", Src: "testdata/janus/tiny"},
}

// IsDemoModel reports whether dir is a demo (noise-producing) model.
func IsDemoModel(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, DemoMarker))
	return err == nil
}

// FindDemoSource returns the folder that holds testdata/sdxl/base: the
// DIPTYCH_DEMO_SOURCE variable, the working folder or one above it, or the
// executable's folder or one above it.
func FindDemoSource() (string, error) {
	var cands []string
	if d := os.Getenv("DIPTYCH_DEMO_SOURCE"); d != "" {
		cands = append(cands, d)
	}
	if wd, err := os.Getwd(); err == nil {
		cands = append(cands, wd, filepath.Dir(wd))
	}
	if exe, err := os.Executable(); err == nil {
		d := filepath.Dir(exe)
		cands = append(cands, d, filepath.Dir(d), filepath.Join(filepath.Dir(d), "share", "diptych"))
	}
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, DemoModels[0].Src, "model_index.json")); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("the demo models were not found (looked for %s in %s; set DIPTYCH_DEMO_SOURCE)",
		DemoModels[0].Src, strings.Join(cands, ", "))
}

// InstallDemoModels copies the tiny fixture models from srcRoot
// (testdata/sdxl/base, testdata/janus/tiny and, if present,
// testdata/sdxl/refiner) into destDir as demo-* folders, each with a
// DemoMarker file saying it produces noise. Folders already installed are
// left as they are. Each copy goes to a temporary folder that is renamed
// into place only once complete and recognised by models.Detect. It returns
// the installed folders.
func InstallDemoModels(srcRoot, destDir string) ([]string, error) {
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		return nil, fmt.Errorf("install demo models: %w", err)
	}
	var out []string
	for _, m := range DemoModels {
		src := filepath.Join(srcRoot, m.Src)
		dest := filepath.Join(destDir, m.Name)
		if _, err := os.Stat(src); err != nil {
			if m.Name == "demo-sdxl-refiner-tiny" && errors.Is(err, os.ErrNotExist) {
				continue
			}
			return out, fmt.Errorf("install demo model %s: source %s: %w", m.Name, src, err)
		}
		if IsDemoModel(dest) {
			out = append(out, dest)
			continue
		}
		if _, err := os.Stat(dest); err == nil {
			return out, fmt.Errorf("install demo model %s: %s already exists and is not a demo model; move it away first", m.Name, dest)
		}
		tmp, err := os.MkdirTemp(destDir, "."+m.Name+".tmp-")
		if err != nil {
			return out, fmt.Errorf("install demo model %s: %w", m.Name, err)
		}
		err = copyTree(src, tmp)
		if err == nil {
			err = os.WriteFile(filepath.Join(tmp, DemoMarker), []byte(demoNote), 0o644)
		}
		if err == nil {
			if _, derr := models.Detect(tmp); derr != nil {
				err = fmt.Errorf("the copy is not a usable model: %w", derr)
			}
		}
		if err == nil {
			err = os.Rename(tmp, dest)
		}
		if err != nil {
			os.RemoveAll(tmp)
			return out, fmt.Errorf("install demo model %s from %s: %w", m.Name, src, err)
		}
		out = append(out, dest)
	}
	return out, nil
}

// copyTree copies the regular files and folders under src into dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// The fixtures share tokenizer files through links: copy what
			// they point at.
			fi, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("follow link %s: %w", p, err)
			}
			if fi.IsDir() {
				return copyTree(p, target)
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}
