package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app/progress"
	"diptych/engine/format"
	"diptych/engine/models"
)

// modelsCmd holds what the models subcommands share: the model store,
// opened before any of them runs.
type modelsCmd struct {
	c     *cli
	store *models.Store
}

// newModelsCmd declares `diptych models` and its subcommands.
func newModelsCmd(c *cli) *cobra.Command {
	m := &modelsCmd{c: c}
	cmd := c.group("models SUBCOMMAND", "list, download, import and verify models",
		`Manage models: the catalog, downloads from the Hugging Face Hub, local folders.

Models live in $DIPTYCH_HOME (default ~/.local/share/diptych): models/, models.json, lib/.
Downloads honour HF_ENDPOINT and HF_TOKEN, resume after an interruption (run the same
pull again) and verify every file's SHA-256.`,
		m.listCmd(), m.pullCmd(), m.importCmd(), m.verifyCmd(), m.removeCmd(), m.runtimeCmd())
	cmd.PersistentPreRunE = func(*cobra.Command, []string) (err error) {
		m.store, err = models.OpenDefault()
		return err
	}
	return cmd
}

func (m *modelsCmd) listCmd() *cobra.Command {
	var asJSON bool
	cmd := m.c.command("list [--json]", "list installed models and the catalog", "",
		func(_ context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsList(m.c, m.store, &asJSON, args)
		})
	cmd.Aliases = []string{"ls"}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (m *modelsCmd) pullCmd() *cobra.Command {
	var include []string
	var dir, name *string
	var conns *int
	var asJSON *bool
	cmd := m.c.command("pull NAME[:COMBO] | REPO[@REVISION] [--include GLOB]... [--dir DEST] [--name NAME] [--json]",
		"download a catalog model or a Hub repository (resumable, verified)",
		"Download a catalog model or any Hugging Face Hub repository (resumable, verified).",
		func(ctx context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsPull(ctx, m.c, m.store, include, dir, name, conns, asJSON, args)
		})
	fs := cmd.Flags()
	fs.StringArrayVar(&include, "include", nil, "only files matching this `GLOB` (repeatable; '*' matches '/' too, as in 'hf download')")
	dir = fs.String("dir", "", "destination folder (default: the models folder)")
	name = fs.String("name", "", "name in the registry")
	conns = fs.Int("connections", 4, "connections per large file")
	asJSON = fs.Bool("json", false, "print the result as JSON and no progress bar")
	return cmd
}

func (m *modelsCmd) importCmd() *cobra.Command {
	var name *string
	var force, asJSON *bool
	cmd := m.c.command("import DIR [--name NAME] [--force] [--json]",
		"check a model folder on disk and register it in place",
		"Check a model folder on disk and register it in place (nothing is copied).",
		func(ctx context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsImport(ctx, m.c, m.store, name, force, asJSON, args)
		})
	fs := cmd.Flags()
	name = fs.String("name", "", "name in the registry (default: the folder name)")
	force = fs.Bool("force", false, "register despite graph interface problems, or replace an entry of the same name")
	asJSON = fs.Bool("json", false, "print the report as JSON")
	return cmd
}

func (m *modelsCmd) verifyCmd() *cobra.Command {
	var asJSON bool
	cmd := m.c.command("verify [NAME...] [--json]", "re-check the SHA-256 of installed models' files",
		"Re-check the SHA-256 of installed models' files (all models when no name is given).",
		func(ctx context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsVerify(ctx, m.c, m.store, &asJSON, args)
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the reports as JSON")
	return cmd
}

func (m *modelsCmd) removeCmd() *cobra.Command {
	var keep, asJSON *bool
	cmd := m.c.command("rm NAME [--keep-files] [--json]", "unregister a model (deleting downloaded files)",
		"Unregister a model. Downloaded models' files are deleted; imported folders are left alone.",
		func(_ context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsRemove(m.c, m.store, keep, asJSON, args)
		})
	cmd.Aliases = []string{"remove"}
	keep = cmd.Flags().Bool("keep-files", false, "keep the files of a downloaded model")
	asJSON = cmd.Flags().Bool("json", false, "print the removed entry as JSON")
	return cmd
}

func (m *modelsCmd) runtimeCmd() *cobra.Command {
	var gpu, asJSON *bool
	var version, url, sum *string
	cmd := m.c.command("runtime [--gpu [--version V] [--url URL] [--sha256 HEX]] [--json]",
		"list ONNX Runtime builds, or install the GPU build",
		"List installed ONNX Runtime builds, or install the official GPU (CUDA) build for linux-x64 with --gpu.",
		func(ctx context.Context, _ *pflag.FlagSet, args []string) error {
			return modelsRuntime(ctx, m.c, m.store, gpu, version, url, sum, asJSON, args)
		})
	fs := cmd.Flags()
	gpu = fs.Bool("gpu", false, "install the ONNX Runtime GPU build")
	version = fs.String("version", models.ORTVersion, "ONNX Runtime version")
	url = fs.String("url", os.Getenv("DIPTYCH_ORT_GPU_URL"), "archive URL (default: the GitHub release of --version; env DIPTYCH_ORT_GPU_URL)")
	sum = fs.String("sha256", os.Getenv("DIPTYCH_ORT_GPU_SHA256"), "SHA-256 of the archive (required; env DIPTYCH_ORT_GPU_SHA256)")
	asJSON = fs.Bool("json", false, "print JSON")
	return cmd
}

// modelsCatalogRow is a catalog entry as `list --json` shows it.
type modelsCatalogRow struct {
	models.CatalogEntry
	DownloadSize int64    `json:"download_size,omitempty"`
	Installed    []string `json:"installed,omitempty"`
}

func modelsList(c *cli, store *models.Store, asJSON *bool, pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: list takes no arguments", errUsage)
	}
	installed, err := store.List()
	if err != nil {
		return err
	}
	var rows []modelsCatalogRow
	for _, e := range models.Catalog() {
		r := modelsCatalogRow{CatalogEntry: e}
		if files, err := e.NeededFiles(""); err == nil {
			r.DownloadSize = models.DownloadSize(files)
		}
		for _, in := range installed {
			if in.Repo != "" && in.Repo == e.Repo || in.Name == e.Name || strings.HasPrefix(in.Name, e.Name+"-") {
				r.Installed = append(r.Installed, in.Name)
			}
		}
		rows = append(rows, r)
	}
	if *asJSON {
		if installed == nil {
			installed = []models.Entry{}
		}
		return c.printJSON(map[string]any{"installed": installed, "catalog": rows, "dir": store.Root})
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Installed (%s):\n", store.Root)
	if len(installed) == 0 {
		fmt.Fprintln(tw, "  none: 'diptych models pull NAME' or 'diptych models import DIR'")
	} else {
		fmt.Fprintln(tw, "  NAME\tKIND\tPARAMS\tSIZE\tSOURCE\tFOLDER")
		for _, e := range installed {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.Name, e.Kind, modelsDash(e.Params), format.Bytes(e.Size), e.Source, e.Dir)
		}
	}
	fmt.Fprintln(tw, "\nCatalog:")
	fmt.Fprintln(tw, "  NAME\tKIND\tGET\tSIZE\tINSTALLED\tTITLE")
	for _, r := range rows {
		size := "-"
		if r.DownloadSize > 0 {
			size = "~" + format.Bytes(r.DownloadSize)
		}
		get := "download"
		if r.Source == models.SourceExport {
			get = "export"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Kind, get, size, modelsDash(strings.Join(r.Installed, ",")), r.Title)
	}
	tw.Flush()
	fmt.Fprintln(c.stdout, "\nJanus combinations (janus-pro-1b:COMBO):")
	for i, combo := range models.JanusCombos() {
		def := ""
		if i == 0 {
			def = " (default)"
		}
		fmt.Fprintf(c.stdout, "  %s%s: %s\n", combo.Name, def, combo.Description)
	}
	return nil
}

func modelsDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// modelsBar shows download and verification progress (see app/progress).
type modelsBar struct {
	bar *progress.Bar
}

func newModelsBar(w io.Writer) *modelsBar { return &modelsBar{bar: newBar(w)} }

func (b *modelsBar) update(p models.Progress) {
	if p.Phase == models.PhaseRetry {
		b.bar.Println("retrying: " + p.Message)
		return
	}
	what := p.File
	if p.Phase == models.PhaseVerify && p.File != "" {
		what = "verifying " + p.File
	}
	b.bar.Update(progress.State{Done: p.Done, Total: p.Total, Unit: progress.Bytes, Rate: p.Speed, ETA: p.ETA, Detail: what})
	if p.Phase == models.PhaseDone {
		b.bar.Finish()
	}
}

func (b *modelsBar) finish() { b.bar.Finish() }

func modelsPull(ctx context.Context, c *cli, store *models.Store, include []string, dir, name *string, conns *int,
	asJSON *bool, pos []string) error {
	if len(pos) != 1 {
		return fmt.Errorf("%w: pull takes one catalog name or REPO[@REVISION] (catalog: %s)", errUsage, strings.Join(models.CatalogNames(), ", "))
	}
	target := pos[0]
	hub := models.NewHub()
	d := hub.Downloader()
	d.Connections = *conns
	var bar *modelsBar
	if !*asJSON {
		bar = newModelsBar(c.stderr)
		d.Progress = bar.update
		defer bar.finish()
	}
	req := models.PullRequest{Include: include, Dest: *dir, Name: *name}
	if !*asJSON {
		req.OnPlan = func(repo, commit string, files []models.FileSpec) {
			var total int64
			for _, f := range files {
				total += max(f.Size, 0)
			}
			fmt.Fprintf(c.stderr, "%s@%s: %d files, %s\n", repo, modelsShortRev(commit), len(files), format.Bytes(total))
		}
	}

	var entry models.Entry
	var err error
	if strings.Contains(target, "/") {
		repo, rev, err := models.ParseRepo(target)
		if err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		req.Repo, req.Revision = repo, rev
		entry, err = store.Pull(ctx, hub, d, req)
		if err != nil {
			return err
		}
	} else {
		e, variant, ok := models.Lookup(target)
		if !ok {
			return fmt.Errorf("%w: %q is not in the catalog (%s) and not a Hub repository OWNER/NAME",
				errUsage, target, strings.Join(models.CatalogNames(), ", "))
		}
		if len(include) > 0 {
			return fmt.Errorf("%w: --include is for Hub repositories; catalog entries fetch their own files", errUsage)
		}
		switch e.Source {
		case models.SourceExport:
			if *dir != "" {
				return fmt.Errorf("%w: --dir is not supported for exported models", errUsage)
			}
			if !*asJSON {
				fmt.Fprintf(c.stderr, "%s has no public ONNX export; making one: %s\nneeds: %s\n", e.Name, e.Export.Steps, e.Export.Requires)
			}
			out := c.stderr
			entry, err = store.Export(ctx, e, models.ExportOptions{Name: *name, Hub: hub, Downloader: d, Stdout: out, Stderr: out})
			if err != nil {
				return err
			}
		default:
			req.Entry, req.Variant = &e, variant
			if !*asJSON {
				fmt.Fprintf(c.stderr, "%s\nlicence: %s\nhardware: %s\n", e.Title, e.License, e.Hardware)
			}
			entry, err = store.Pull(ctx, hub, d, req)
			if err != nil {
				return err
			}
		}
	}
	if bar != nil {
		bar.finish()
	}
	if *asJSON {
		return c.printJSON(entry)
	}
	fmt.Fprintf(c.stdout, "installed %s (%s%s) in %s\n", entry.Name, entry.Kind, modelsParams(entry.Params), entry.Dir)
	return nil
}

func modelsShortRev(r string) string {
	if len(r) == 40 {
		return r[:12]
	}
	return r
}

func modelsParams(p string) string {
	if p == "" {
		return ""
	}
	return " " + p
}

func modelsImport(ctx context.Context, c *cli, store *models.Store, name *string, force, asJSON *bool, pos []string) error {
	if len(pos) != 1 {
		return fmt.Errorf("%w: import takes one folder", errUsage)
	}
	opt := models.ImportOptions{Name: *name, Force: *force}
	var bar *modelsBar
	if !*asJSON {
		bar = newModelsBar(c.stderr)
		opt.Progress = bar.update
	}
	rep, err := store.Import(ctx, pos[0], opt)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		var le *models.LayoutError
		if *asJSON && errors.As(err, &le) {
			c.printJSON(map[string]any{"error": err.Error(), "kind": le.Kind, "missing": le.Missing,
				"problems": le.Problems, "expected": le.Expected, "found": le.Found})
		}
		return err
	}
	if *asJSON {
		return c.printJSON(rep)
	}
	modelsPrintLayout(c.stdout, rep.Layout)
	for _, p := range rep.Problems {
		fmt.Fprintf(c.stdout, "problem: %s\n", p)
	}
	fmt.Fprintf(c.stdout, "registered %s (%s%s), manifest %s\n", rep.Entry.Name, rep.Entry.Kind, modelsParams(rep.Entry.Params), rep.Entry.Manifest)
	return nil
}

// modelsPrintLayout describes a detected folder: its components, files, element
// types of the main inputs and sizes.
func modelsPrintLayout(w io.Writer, l models.Layout) {
	fmt.Fprintf(w, "%s: %s%s, %s\n", l.Dir, l.Kind, modelsParams(l.Params), format.Bytes(l.Size))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, name := range l.ComponentNames() {
		comp := l.Components[name]
		file := strings.TrimPrefix(comp.Model, l.Dir+string(os.PathSeparator))
		if len(comp.Data) > 0 {
			file += fmt.Sprintf(" (+%d external data file)", len(comp.Data))
		}
		var ins []string
		for i, t := range comp.Info.Inputs {
			if i == 3 {
				ins = append(ins, fmt.Sprintf("… %d inputs", len(comp.Info.Inputs)))
				break
			}
			ins = append(ins, t.String())
		}
		variant := ""
		if l.Kind == models.KindJanus {
			var vs []string
			for _, v := range l.Variants[name] {
				vs = append(vs, v.Variant)
			}
			variant = " [" + strings.Join(vs, ",") + "]"
		}
		fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\n", name, variant, file, format.Bytes(comp.Size), strings.Join(ins, ", "))
	}
	tw.Flush()
}

func modelsVerify(ctx context.Context, c *cli, store *models.Store, asJSON *bool, names []string) error {
	if len(names) == 0 {
		entries, err := store.List()
		if err != nil {
			return err
		}
		for _, e := range entries {
			names = append(names, e.Name)
		}
		if len(names) == 0 {
			return errors.New("no installed models to verify")
		}
	}
	var reports []models.VerifyReport
	var failed []string
	for _, n := range names {
		var bar *modelsBar
		var progress func(models.Progress)
		if !*asJSON {
			bar = newModelsBar(c.stderr)
			progress = bar.update
		}
		rep, err := store.Verify(ctx, n, progress)
		if bar != nil {
			bar.finish()
		}
		if err != nil {
			return err
		}
		reports = append(reports, rep)
		if !rep.OK() {
			failed = append(failed, n)
		}
		if !*asJSON {
			if rep.OK() {
				fmt.Fprintf(c.stdout, "%s: OK (%d files, %s)\n", n, rep.Checked, format.Bytes(rep.Bytes))
			} else {
				fmt.Fprintf(c.stdout, "%s: FAILED: %v\n", n, rep.Err())
			}
		}
	}
	if *asJSON {
		type row struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
			models.VerifyReport
		}
		var rows []row
		for i, r := range reports {
			rows = append(rows, row{names[i], r.OK(), r})
		}
		if err := c.printJSON(rows); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("verification failed for %s (pull or import again to repair)", strings.Join(failed, ", "))
	}
	return nil
}

func modelsRemove(c *cli, store *models.Store, keep, asJSON *bool, pos []string) error {
	if len(pos) != 1 {
		return fmt.Errorf("%w: rm takes one model name", errUsage)
	}
	e, err := store.Remove(pos[0], *keep)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(e)
	}
	if e.Managed && !*keep {
		fmt.Fprintf(c.stdout, "removed %s and deleted %s\n", e.Name, e.Dir)
	} else {
		fmt.Fprintf(c.stdout, "removed %s (files kept in %s)\n", e.Name, e.Dir)
	}
	return nil
}

func modelsRuntime(ctx context.Context, c *cli, store *models.Store, gpu *bool, version, url, sum *string, asJSON *bool,
	pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: runtime takes no arguments", errUsage)
	}
	if !*gpu {
		list := models.InstalledRuntimes(store.LibDir())
		if *asJSON {
			if list == nil {
				list = []models.RuntimeInstall{}
			}
			return c.printJSON(list)
		}
		if len(list) == 0 {
			fmt.Fprintf(c.stdout, "no runtime installed in %s; 'diptych models runtime --gpu --sha256 HEX' installs ONNX Runtime %s for CUDA\n",
				store.LibDir(), models.ORTVersion)
		}
		for _, r := range list {
			fmt.Fprintf(c.stdout, "onnxruntime %s: %s (providers: %s)\n", r.Version, r.Library, strings.Join(r.Providers, ", "))
		}
		return nil
	}
	rel := models.GPURuntimeRelease(*version)
	if *url != "" {
		rel.URL = *url
	} else if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("the official ONNX Runtime GPU archive is for linux-x64; this is %s-%s (give --url for another build)", runtime.GOOS, runtime.GOARCH)
	}
	rel.SHA256 = strings.ToLower(strings.TrimSpace(*sum))
	d := &models.Downloader{}
	var bar *modelsBar
	if !*asJSON {
		bar = newModelsBar(c.stderr)
		d.Progress = bar.update
		fmt.Fprintf(c.stderr, "installing ONNX Runtime %s (GPU) from %s\n", rel.Version, rel.URL)
	}
	inst, err := models.InstallRuntime(ctx, d, rel, store.LibDir())
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(inst)
	}
	sort.Strings(inst.Providers)
	fmt.Fprintf(c.stdout, "installed onnxruntime %s in %s\nlibrary: %s\nproviders: %s\n"+
		"use it with: diptych --ort-lib %s ...  (CUDA 12 and cuDNN 9 must be installed; 'diptych doctor' checks)\n",
		inst.Version, inst.Dir, inst.Library, strings.Join(inst.Providers, ", "), inst.Library)
	return nil
}
