package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"diptych/engine/models"
)

// Model kinds as models.Detect names them, for the front ends.
const (
	KindSDXLBase    = string(models.KindSDXLBase)
	KindSDXLRefiner = string(models.KindSDXLRefiner)
	KindJanus       = string(models.KindJanus)
)

// ModelInfo is a model folder found on this machine.
type ModelInfo struct {
	Name    string `json:"name,omitempty"`   // registry name, or the folder's
	Kind    string `json:"kind,omitempty"`   // KindSDXLBase, KindSDXLRefiner, KindJanus
	Params  string `json:"params,omitempty"` // "1B"/"7B" for Janus when known
	Dir     string `json:"dir"`
	SizeMB  int64  `json:"size_mb,omitempty"`
	Demo    bool   `json:"demo,omitempty"`    // a tiny random model that produces noise
	Problem string `json:"problem,omitempty"` // why the folder is not usable ("" when it is)
}

// Registry is the managed model area; *models.Store is one.
type Registry interface {
	List() ([]models.Entry, error)
	ModelsDir() string
}

// FindModels is the one model inventory, for the window's pickers, doctor
// and the CLI's "the installed model": the registry's entries (a missing
// folder is listed with its problem), then every folder among dirs and the
// managed models folder, or one level down, that models.Detect recognises
// (a subfolder that is not a model is listed with its problem). Real models
// come before the demo ones, each by name. reg may be nil.
func FindModels(reg Registry, dirs []string) ([]ModelInfo, error) {
	var out []ModelInfo
	var problems []error
	seen := map[string]bool{}
	look := func(name, dir string, quiet bool) bool {
		abs, err := filepath.Abs(dir)
		if err != nil {
			abs = dir
		}
		if seen[abs] {
			return true
		}
		l, err := models.Detect(dir)
		if err != nil {
			if !quiet {
				seen[abs] = true
				out = append(out, ModelInfo{Name: name, Dir: abs, Problem: err.Error()})
			}
			return false
		}
		seen[abs] = true
		out = append(out, ModelInfo{Name: name, Kind: string(l.Kind), Params: l.Params, Dir: abs, SizeMB: l.Size >> 20, Demo: IsDemoModel(dir)})
		return true
	}
	if reg != nil {
		entries, err := reg.List()
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			problems = append(problems, err)
		}
		for _, e := range entries {
			if !look(e.Name, e.Dir, true) {
				abs, _ := filepath.Abs(e.Dir)
				seen[abs] = true
				out = append(out, ModelInfo{Name: e.Name, Kind: string(e.Kind), Dir: e.Dir, Problem: "the folder is missing or incomplete"})
			}
		}
		dirs = append(append([]string(nil), dirs...), reg.ModelsDir())
	}
	for _, d := range dirs {
		if look(filepath.Base(d), d, true) {
			continue
		}
		ents, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue // a models folder that was never created holds nothing
		}
		if err != nil {
			out = append(out, ModelInfo{Name: filepath.Base(d), Dir: d, Problem: err.Error()})
			continue
		}
		for _, e := range ents {
			if e.IsDir() && e.Name()[0] != '.' {
				look(e.Name(), filepath.Join(d, e.Name()), false)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Demo != out[j].Demo {
			return !out[i].Demo // real models first
		}
		return out[i].Name < out[j].Name
	})
	return out, errors.Join(problems...)
}

// FindModelDir returns the first usable model of the given kind (how the CLI
// finds "the installed model").
func FindModelDir(reg Registry, dirs []string, kind models.Kind) (string, error) {
	found, _ := FindModels(reg, dirs)
	for _, m := range found {
		if m.Problem == "" && m.Kind == string(kind) {
			return m.Dir, nil
		}
	}
	where := append([]string(nil), dirs...)
	if reg != nil {
		where = append(where, reg.ModelsDir())
	}
	return "", fmt.Errorf("no %s model found in %s; install one with `diptych models pull` or name its folder",
		kind, strings.Join(where, ", "))
}
