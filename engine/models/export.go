package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// FindTools returns the source tree's tools/ folder, which holds the export
// scripts: $DIPTYCH_TOOLS, else a tools/ folder holding export_janus.py in
// the working folder, next to the executable or in one of their parents.
func FindTools() (string, error) {
	if d := os.Getenv("DIPTYCH_TOOLS"); d != "" {
		return filepath.Abs(d)
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, s := range starts {
		for d := s; ; d = filepath.Dir(d) {
			if isFile(filepath.Join(d, "tools", "export_janus.py")) {
				return filepath.Join(d, "tools"), nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("the export scripts (tools/) were not found: run from the source tree or set DIPTYCH_TOOLS")
}

// FindPython returns the Python to run export scripts with: $PYTHON, else
// tools/.venv/bin/python, else python3 on PATH.
func FindPython(toolsDir string) (string, error) {
	if p := os.Getenv("PYTHON"); p != "" {
		return p, nil
	}
	for _, p := range []string{filepath.Join(toolsDir, ".venv", "bin", "python"), filepath.Join(toolsDir, ".venv", "Scripts", "python.exe")} {
		if isFile(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p, nil
	}
	return "", errors.New("no Python found: install Python 3 with the export requirements or set PYTHON")
}

// ExportOptions tune Export.
type ExportOptions struct {
	// ToolsDir holds the scripts (default FindTools); Python runs them
	// (default FindPython).
	ToolsDir string
	Python   string
	// Name in the registry (default the entry's name).
	Name string
	// Hub and Downloader fetch the checkpoint of recipes that need one.
	Hub        *Hub
	Downloader *Downloader
	// Stdout and Stderr receive the script's output.
	Stdout, Stderr io.Writer
}

// Export makes the model folder of an export-recipe catalog entry by
// running its script, checks it, moves it into ModelsDir and registers it.
// The checkpoint download (when the recipe has one) resumes; the export
// itself starts over if interrupted.
func (s *Store) Export(ctx context.Context, e CatalogEntry, opt ExportOptions) (Entry, error) {
	if e.Source != SourceExport || e.Export == nil {
		return Entry{}, fmt.Errorf("export %s: not an export recipe (source %s)", e.Name, e.Source)
	}
	rec := e.Export
	name := opt.Name
	if name == "" {
		name = e.Name
	}
	if err := CheckName(name); err != nil {
		return Entry{}, fmt.Errorf("export: %w", err)
	}
	if old, err := s.Get(name); err == nil {
		return old, fmt.Errorf("export %s: already installed in %s (%w)", name, old.Dir, ErrExists)
	}
	tools := opt.ToolsDir
	var err error
	if tools == "" {
		if tools, err = FindTools(); err != nil {
			return Entry{}, fmt.Errorf("export %s: %w", name, err)
		}
	}
	script := filepath.Join(tools, rec.Script)
	if !isFile(script) {
		return Entry{}, fmt.Errorf("export %s: script %s not found", name, script)
	}
	python := opt.Python
	if python == "" {
		if python, err = FindPython(tools); err != nil {
			return Entry{}, fmt.Errorf("export %s: %w (%s)", name, err, rec.Requires)
		}
	}
	dest := filepath.Join(s.ModelsDir(), name)
	if _, err := os.Stat(dest); err == nil {
		return Entry{}, fmt.Errorf("export %s: %s: %w", name, dest, ErrExists)
	}
	staging := StagingDir(dest)
	if err := os.RemoveAll(staging); err != nil {
		return Entry{}, fmt.Errorf("export %s: %w", name, err)
	}
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return Entry{}, fmt.Errorf("export %s: %w", name, err)
	}

	var args []string
	if rec.Download {
		ckpt, err := s.fetchCheckpoint(ctx, rec, opt)
		if err != nil {
			return Entry{}, fmt.Errorf("export %s: %w", name, err)
		}
		args = append(args, ckpt)
	}
	args = append(args, staging)
	args = append(args, rec.Args...)
	var cmd *exec.Cmd
	if strings.HasSuffix(rec.Script, ".py") {
		cmd = exec.CommandContext(ctx, python, append([]string{script}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	}
	cmd.Env = append(os.Environ(), "PYTHON="+python, "DIPTYCH_CHECKPOINT="+rec.Checkpoint,
		"DIPTYCH_CHECKPOINT_REVISION="+rec.CheckpointRevision)
	cmd.Stdout, cmd.Stderr = opt.Stdout, opt.Stderr
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		return Entry{}, fmt.Errorf("export %s: %s %s: %w (the partial export is in %s)", name, filepath.Base(cmd.Path),
			strings.Join(cmd.Args[1:], " "), err, staging)
	}
	l, err := Detect(staging)
	if err != nil {
		return Entry{}, fmt.Errorf("export %s: the script finished but its output is not usable: %w", name, err)
	}
	if l.Kind != e.Kind {
		return Entry{}, fmt.Errorf("export %s: the script made a %s folder, expected %s", name, l.Kind, e.Kind)
	}
	if probs := Check(l); len(probs) > 0 {
		return Entry{}, fmt.Errorf("export %s: the exported graphs do not have the expected interface: %s", name, strings.Join(probs, "; "))
	}
	files, err := HashFolder(ctx, staging, l.RelFiles(), nil)
	if err != nil {
		return Entry{}, fmt.Errorf("export %s: %w", name, err)
	}
	m := Manifest{Kind: l.Kind, Repo: rec.Checkpoint, Revision: rec.CheckpointRevision, Source: string(SourceExport), Files: files}
	if err := m.Write(staging); err != nil {
		return Entry{}, fmt.Errorf("export %s: %w", name, err)
	}
	if err := os.Rename(staging, dest); err != nil {
		return Entry{}, fmt.Errorf("export %s: move into place: %w", name, err)
	}
	ent := Entry{Name: name, Kind: l.Kind, Params: l.Params, Dir: dest, Source: SourceExport, Repo: rec.Checkpoint,
		Revision: rec.CheckpointRevision, Managed: true, Manifest: filepath.Join(dest, ManifestName),
		Size: l.Size, Added: time.Now().UTC().Truncate(time.Second)}
	if err := s.put(ent); err != nil {
		return ent, fmt.Errorf("export %s: %w", name, err)
	}
	return ent, nil
}

// fetchCheckpoint downloads a recipe's upstream checkpoint (resumably) into
// the store's checkpoints/ folder and returns its path.
func (s *Store) fetchCheckpoint(ctx context.Context, rec *ExportRecipe, opt ExportOptions) (string, error) {
	dir := filepath.Join(s.Root, "checkpoints", nameFrom(strings.ReplaceAll(rec.Checkpoint, "/", "--")))
	if isDir(dir) {
		return dir, nil
	}
	hub := opt.Hub
	if hub == nil {
		hub = NewHub()
	}
	d := opt.Downloader
	if d == nil {
		d = hub.Downloader()
	}
	rev := rec.CheckpointRevision
	if rev == "" {
		rev = "main"
	}
	listing, err := hub.List(ctx, rec.Checkpoint, rev)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	files, err := FilterFiles(listing, rec.Include)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	m := &Manifest{Repo: rec.Checkpoint, Revision: rev, Source: string(SourceHub)}
	if err := d.Download(ctx, dir, hub.FileSpecs(rec.Checkpoint, rev, files), m); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	return dir, nil
}
