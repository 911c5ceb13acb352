package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"
)

// DefaultDir returns Diptych's data folder: $DIPTYCH_HOME when set, else
// "diptych" in the platform's per-user data folder ($XDG_DATA_HOME or
// ~/.local/share on Linux, ~/Library/Application Support on macOS,
// %LocalAppData% on Windows).
func DefaultDir() (string, error) {
	if d := os.Getenv("DIPTYCH_HOME"); d != "" {
		return filepath.Abs(d)
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "diptych"), nil
		}
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("data folder: %w", err)
		}
		return filepath.Join(home, "Library", "Application Support", "diptych"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "diptych"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data folder: %w (set DIPTYCH_HOME)", err)
	}
	return filepath.Join(home, ".local", "share", "diptych"), nil
}

// Store is the model area under a data folder: downloaded models in
// models/, the registry models.json (which also references imported
// folders in place), manifests of read-only imports in manifests/, and
// runtime libraries in lib/.
type Store struct {
	Root string
}

// NewStore returns the store under root.
func NewStore(root string) *Store { return &Store{Root: root} }

// OpenDefault returns the store under DefaultDir.
func OpenDefault() (*Store, error) {
	d, err := DefaultDir()
	if err != nil {
		return nil, err
	}
	return NewStore(d), nil
}

// ModelsDir holds downloaded and exported models.
func (s *Store) ModelsDir() string { return filepath.Join(s.Root, "models") }

// LibDir holds runtime libraries (the ONNX Runtime GPU build).
func (s *Store) LibDir() string { return filepath.Join(s.Root, "lib") }

// RegistryPath is the JSON registry of installed models.
func (s *Store) RegistryPath() string { return filepath.Join(s.Root, "models.json") }

// Entry is one installed model in the registry.
type Entry struct {
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	Params string `json:"params,omitempty"`
	Dir    string `json:"dir"`
	Source Source `json:"source"`
	// Repo/Revision say where a downloaded model came from (revision is the
	// commit id); Variant is the Janus dtype combination.
	Repo     string `json:"repo,omitempty"`
	Revision string `json:"revision,omitempty"`
	Variant  string `json:"variant,omitempty"`
	// Managed entries live in ModelsDir; rm deletes their files. Imported
	// folders are only referenced.
	Managed bool `json:"managed"`
	// Manifest is the path of the manifest with every file's SHA-256.
	Manifest string    `json:"manifest"`
	Size     int64     `json:"size"`
	Added    time.Time `json:"added"`
}

type registryFile struct {
	Version int     `json:"version"`
	Models  []Entry `json:"models"`
}

// List returns the registered models, sorted by name.
func (s *Store) List() ([]Entry, error) {
	r, err := s.load()
	if err != nil {
		return nil, err
	}
	return r.Models, nil
}

// Get returns the registered model called name.
func (s *Store) Get(name string) (Entry, error) {
	entries, err := s.List()
	if err != nil {
		return Entry{}, err
	}
	var names []string
	for _, e := range entries {
		if e.Name == name {
			return e, nil
		}
		names = append(names, e.Name)
	}
	return Entry{}, fmt.Errorf("no installed model %q (installed: %s)", name, orNone(names))
}

func (s *Store) load() (registryFile, error) {
	var r registryFile
	b, err := os.ReadFile(s.RegistryPath())
	if errors.Is(err, fs.ErrNotExist) {
		return registryFile{Version: 1}, nil
	}
	if err != nil {
		return r, fmt.Errorf("read registry: %w", err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("read registry %s: %w", s.RegistryPath(), err)
	}
	sort.Slice(r.Models, func(i, j int) bool { return r.Models[i].Name < r.Models[j].Name })
	return r, nil
}

func (s *Store) save(r registryFile) error {
	r.Version = 1
	sort.Slice(r.Models, func(i, j int) bool { return r.Models[i].Name < r.Models[j].Name })
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(s.RegistryPath(), append(b, '\n')); err != nil {
		return fmt.Errorf("write registry: %w", err)
	}
	return nil
}

// put adds or replaces an entry.
func (s *Store) put(e Entry) error {
	r, err := s.load()
	if err != nil {
		return err
	}
	out := r.Models[:0]
	for _, x := range r.Models {
		if x.Name != e.Name {
			out = append(out, x)
		}
	}
	r.Models = append(out, e)
	return s.save(r)
}

// Remove unregisters a model. The files of a managed (downloaded or
// exported) model are deleted unless keepFiles; an imported folder is never
// deleted.
func (s *Store) Remove(name string, keepFiles bool) (Entry, error) {
	e, err := s.Get(name)
	if err != nil {
		return e, err
	}
	if e.Managed && !keepFiles {
		if !within(s.ModelsDir(), e.Dir) {
			return e, fmt.Errorf("remove %s: %s is outside %s; not deleting it", name, e.Dir, s.ModelsDir())
		}
		if err := os.RemoveAll(e.Dir); err != nil {
			return e, fmt.Errorf("remove %s: %w", name, err)
		}
	}
	if !e.Managed && strings.HasPrefix(e.Manifest, filepath.Join(s.Root, "manifests")+string(filepath.Separator)) {
		os.Remove(e.Manifest)
	}
	r, err := s.load()
	if err != nil {
		return e, err
	}
	out := r.Models[:0]
	for _, x := range r.Models {
		if x.Name != name {
			out = append(out, x)
		}
	}
	r.Models = out
	return e, s.save(r)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != "." && filepath.IsLocal(rel)
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// CheckName rejects registry names that are not lowercase letters, digits,
// '.', '_' and '-' (they become folder names).
func CheckName(name string) error {
	if !nameRe.MatchString(name) || len(name) > 100 || strings.Contains(name, "..") {
		return fmt.Errorf("bad model name %q: use lowercase letters, digits, '.', '_' and '-'", name)
	}
	return nil
}

// nameFrom makes a registry name from a folder or repository name.
func nameFrom(s string) string {
	s = strings.ToLower(s)
	s = regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(s, "-")
	s = strings.Trim(s, "-._")
	for strings.Contains(s, "..") {
		s = strings.ReplaceAll(s, "..", ".")
	}
	if s == "" {
		s = "model"
	}
	return s
}

// ImportOptions tune Import.
type ImportOptions struct {
	// Name in the registry; defaults to the folder's name.
	Name string
	// Force registers a folder whose graphs have interface problems, and
	// replaces an entry of the same name.
	Force bool
	// Progress receives hashing progress.
	Progress func(Progress)
}

// ImportReport says what Import found.
type ImportReport struct {
	Entry    Entry    `json:"entry"`
	Layout   Layout   `json:"layout"`
	Problems []string `json:"problems,omitempty"`
	// Hashed is false when an existing manifest was reused.
	Hashed bool `json:"hashed"`
}

// Import validates a model folder (which model, which components, element
// types, sizes, what is missing) and registers it in place. It records the
// SHA-256 of its files in a manifest under the store for Verify, leaving the
// user's folder untouched; a folder that already has a manifest (one Diptych
// downloaded) keeps it.
func (s *Store) Import(ctx context.Context, dir string, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	l, err := Detect(dir)
	rep.Layout = l
	if err != nil {
		return rep, fmt.Errorf("import: %w", err)
	}
	rep.Problems = Check(l)
	if len(rep.Problems) > 0 && !opt.Force {
		return rep, fmt.Errorf("import %s: the graphs do not have the expected interface (use --force to import anyway): %s",
			l.Dir, strings.Join(rep.Problems, "; "))
	}
	name := opt.Name
	if name == "" {
		name = nameFrom(filepath.Base(l.Dir))
	}
	if err := CheckName(name); err != nil {
		return rep, fmt.Errorf("import %s: %w", l.Dir, err)
	}
	if old, err := s.Get(name); err == nil && !opt.Force && old.Dir != l.Dir {
		return rep, fmt.Errorf("import %s: the name %q is taken by %s (choose another with --name)", l.Dir, name, old.Dir)
	}
	manifestPath := filepath.Join(l.Dir, ManifestName)
	m, merr := ReadManifest(manifestPath)
	if merr != nil {
		files, err := HashFolder(ctx, l.Dir, l.RelFiles(), opt.Progress)
		if err != nil {
			return rep, fmt.Errorf("import %s: %w", l.Dir, err)
		}
		rep.Hashed = true
		m = Manifest{Kind: l.Kind, Source: string(SourceLocal), Files: files}
		manifestPath = filepath.Join(s.Root, "manifests", name+".json")
		if err := m.WriteFile(manifestPath); err != nil {
			return rep, fmt.Errorf("import %s: %w", l.Dir, err)
		}
	}
	managed := within(s.ModelsDir(), l.Dir)
	source := SourceLocal
	if managed && m.Source != "" {
		source = Source(m.Source)
	}
	rep.Entry = Entry{Name: name, Kind: l.Kind, Params: l.Params, Dir: l.Dir, Source: source, Repo: m.Repo,
		Revision: m.Revision, Managed: managed, Manifest: manifestPath, Size: l.Size, Added: time.Now().UTC().Truncate(time.Second)}
	if err := s.put(rep.Entry); err != nil {
		return rep, fmt.Errorf("import %s: %w", l.Dir, err)
	}
	return rep, nil
}

// RelFiles lists every file of the layout (graphs, external data, support
// files) relative to its folder, sorted.
func (l Layout) RelFiles() []string {
	seen := map[string]bool{}
	add := func(p string) {
		if isFile(p) {
			seen[relSlash(l.Dir, p)] = true
		}
	}
	addC := func(c Component) {
		add(c.Model)
		for _, d := range c.Data {
			add(d)
		}
	}
	for _, c := range l.Components {
		addC(c)
	}
	for _, vs := range l.Variants {
		for _, c := range vs {
			addC(c)
		}
	}
	for _, p := range l.Files {
		add(p)
	}
	var out []string
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Verify re-hashes the files of an installed model against its manifest.
func (s *Store) Verify(ctx context.Context, name string, progress func(Progress)) (VerifyReport, error) {
	e, err := s.Get(name)
	if err != nil {
		return VerifyReport{}, err
	}
	m, err := ReadManifest(e.Manifest)
	if err != nil {
		return VerifyReport{Dir: e.Dir}, fmt.Errorf("verify %s: %w", name, err)
	}
	return Verify(ctx, e.Dir, m, progress)
}

// PullRequest says what Pull downloads.
type PullRequest struct {
	// Entry is a catalog entry to download, with Variant its dtype
	// combination ("" = default). When nil, Repo/Revision/Include name any
	// Hub repository.
	Entry    *CatalogEntry
	Variant  string
	Repo     string
	Revision string
	Include  []string
	// Name in the registry (defaults to the entry's name, or OWNER--NAME).
	Name string
	// Dest is the folder to create (default ModelsDir/Name).
	Dest string
	// OnPlan, if set, is told the files about to be downloaded.
	OnPlan func(repo, commit string, files []FileSpec)
}

// Pull downloads a catalog entry or Hub repository into the store and
// registers it. Only the needed files are fetched; everything is verified;
// an interrupted pull resumes when called again.
func (s *Store) Pull(ctx context.Context, hub *Hub, d *Downloader, req PullRequest) (Entry, error) {
	repo, rev, name := req.Repo, req.Revision, req.Name
	variant := req.Variant
	if req.Entry != nil {
		if req.Entry.Source != SourceHub {
			return Entry{}, fmt.Errorf("pull %s: it has no ONNX download; %s", req.Entry.Name, exportHint(*req.Entry))
		}
		repo, rev = req.Entry.Repo, req.Entry.Revision
		if variant == "" && len(req.Entry.Variants) > 0 {
			variant = JanusCombos()[0].Name
		}
		if name == "" {
			name = req.Entry.Name
			if variant != "" && variant != JanusCombos()[0].Name {
				name += "-" + variant
			}
		}
	}
	if rev == "" {
		rev = "main"
	}
	if name == "" {
		name = nameFrom(strings.ReplaceAll(repo, "/", "--"))
	}
	if err := CheckName(name); err != nil {
		return Entry{}, fmt.Errorf("pull: %w", err)
	}
	if old, err := s.Get(name); err == nil {
		return old, fmt.Errorf("pull %s: already installed in %s (%w; remove it first with 'diptych models rm %s')", name, old.Dir, ErrExists, name)
	}
	dest := req.Dest
	if dest == "" {
		dest = filepath.Join(s.ModelsDir(), name)
	}
	dest, err := filepath.Abs(dest)
	if err != nil {
		return Entry{}, err
	}

	commit, err := hub.Commit(ctx, repo, rev)
	if err != nil {
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == 404 || he.Status == 401 || he.Status == 403) {
			return Entry{}, fmt.Errorf("pull: %w", err)
		}
		commit = rev // the revision endpoint is optional on mirrors
	}
	listing, err := hub.List(ctx, repo, commit)
	if err != nil {
		return Entry{}, fmt.Errorf("pull: %w", err)
	}
	files, err := selectFiles(listing, req.Entry, variant, req.Include)
	if err != nil {
		return Entry{}, fmt.Errorf("pull %s@%s: %w", repo, commit, err)
	}
	specs := hub.FileSpecs(repo, commit, files)
	if req.OnPlan != nil {
		req.OnPlan(repo, commit, specs)
	}
	m := &Manifest{Repo: repo, Revision: commit, Source: string(SourceHub)}
	if req.Entry != nil {
		m.Kind = req.Entry.Kind
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return Entry{}, fmt.Errorf("pull: %w", err)
	}
	if err := d.Download(ctx, dest, specs, m); err != nil {
		return Entry{}, fmt.Errorf("pull %s@%s: %w", repo, commit, err)
	}
	l, err := Detect(dest)
	if err != nil {
		return Entry{Dir: dest}, fmt.Errorf("pull %s@%s: downloaded to %s, but it is not a usable model folder, so it was not registered: %w",
			repo, commit, dest, err)
	}
	e := Entry{Name: name, Kind: l.Kind, Params: l.Params, Dir: dest, Source: SourceHub, Repo: repo, Revision: commit,
		Variant: variant, Managed: within(s.ModelsDir(), dest), Manifest: filepath.Join(dest, ManifestName),
		Size: l.Size, Added: time.Now().UTC().Truncate(time.Second)}
	if err := s.put(e); err != nil {
		return e, fmt.Errorf("pull %s: %w", name, err)
	}
	return e, nil
}

// selectFiles picks the listed files a pull needs: a catalog entry's files
// (all required ones must be listed, and pinned digests must match), or the
// files matching the include patterns.
func selectFiles(listing []RemoteFile, entry *CatalogEntry, variant string, include []string) ([]RemoteFile, error) {
	if entry == nil {
		files, err := FilterFiles(listing, include)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no file matches %s (the repository has %d files)", strings.Join(include, ", "), len(listing))
		}
		return files, nil
	}
	need, err := entry.NeededFiles(variant)
	if err != nil {
		return nil, err
	}
	byPath := map[string]RemoteFile{}
	for _, f := range listing {
		byPath[f.Path] = f
	}
	var out []RemoteFile
	var missing, wrong []string
	for _, n := range need {
		f, ok := byPath[n.Path]
		switch {
		case !ok && n.Optional:
		case !ok:
			missing = append(missing, n.Path)
		case n.SHA256 != "" && f.SHA256 != "" && !strings.EqualFold(n.SHA256, f.SHA256):
			wrong = append(wrong, fmt.Sprintf("%s is %s on the Hub, the catalog pins %s", n.Path, f.SHA256, n.SHA256))
		default:
			if f.SHA256 == "" && n.SHA256 != "" {
				f.SHA256 = strings.ToLower(n.SHA256) // verified after the download
			}
			out = append(out, f)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the repository lacks files the catalog needs: %s", strings.Join(missing, ", "))
	}
	if len(wrong) > 0 {
		return nil, fmt.Errorf("the files differ from the pinned ones: %s", strings.Join(wrong, "; "))
	}
	return out, nil
}

func exportHint(e CatalogEntry) string {
	if e.Export == nil {
		return "import a local folder instead"
	}
	return fmt.Sprintf("it is made locally with tools/%s when Python is present (Store.Export); %s", e.Export.Script, e.Export.Steps)
}
