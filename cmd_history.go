package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"diptych/gallery"
)

// historySubcommand is one `diptych history` subcommand.
type historySubcommand struct {
	name, usage, summary string
	run                  func(ctx context.Context, c *cli, h *historyCmd, args []string) error
}

// historySubcommands lists `diptych history` subcommands in help order.
func historySubcommands() []historySubcommand {
	return []historySubcommand{
		{"list", "[flags]", "list generations, newest first", historyList},
		{"search", "[flags] WORDS...", "full-text search over prompts, negatives, captions and boards", historySearch},
		{"show", "[flags] ID", "show everything recorded about one generation", historyShow},
		{"export", "--out DIR|FILE.zip [flags] [ID...]", "copy images (metadata kept) plus settings.csv/json to a folder or zip", historyExport},
		{"import", "[flags] DIR", "add the PNGs of a folder (A1111, ComfyUI, InvokeAI, Fooocus, Diptych) to the history", historyImport},
		{"rm", "[flags] ID...", "move generations to the trash", historyRm},
		{"restore", "[flags] ID...", "take generations out of the trash", historyRestore},
		{"empty-trash", "[flags]", "delete everything in the trash for good", historyEmptyTrash},
		{"fsck", "[--repair] [flags]", "check the database against the files; --repair fixes what it finds", historyFsck},
		{"bench", "--rows N [flags]", "time the grid queries on a throw-away library of N rows", historyBench},
	}
}

// historyCmd holds the flags every history subcommand shares.
type historyCmd struct {
	c       *cli
	library string
	json    bool
}

func runHistory(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		w := c.stdout
		if len(args) == 0 {
			w = c.stderr
		}
		printHistoryUsage(w)
		if len(args) == 0 {
			return fmt.Errorf("%w: missing subcommand", errUsage)
		}
		return flag.ErrHelp
	}
	name, rest := args[0], args[1:]
	for _, sc := range historySubcommands() {
		if sc.name == name {
			return sc.run(ctx, c, &historyCmd{c: c}, rest)
		}
	}
	var names []string
	for _, sc := range historySubcommands() {
		names = append(names, sc.name)
	}
	return fmt.Errorf("%w: unknown history subcommand %q; known: %s", errUsage, name, strings.Join(names, ", "))
}

func printHistoryUsage(w io.Writer) {
	fmt.Fprintln(w, "Search and maintain the image history.\n\nUsage: diptych history SUBCOMMAND [flags]\n\nSubcommands:")
	for _, sc := range historySubcommands() {
		fmt.Fprintf(w, "  %-12s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintln(w, "\nEvery subcommand takes --library DIR (default: $DIPTYCH_LIBRARY or the user's data folder).")
	fmt.Fprintln(w, "Run 'diptych history SUBCOMMAND --help' for its flags.")
}

// flagSet makes the flag set of one subcommand with the shared flags.
func (h *historyCmd) flagSet(c *cli, name string, withJSON bool) *flag.FlagSet {
	for _, sc := range historySubcommands() {
		if sc.name == name {
			fs := c.newFlagSet("history "+name, sc.usage, sc.summary)
			fs.StringVar(&h.library, "library", "", "library folder (default: $DIPTYCH_LIBRARY or the user's data folder)")
			if withJSON {
				fs.BoolVar(&h.json, "json", false, "print JSON")
			}
			return fs
		}
	}
	panic("no history subcommand " + name)
}

func (h *historyCmd) open(ctx context.Context) (*gallery.Store, error) {
	return h.c.openLibrary(ctx, h.library)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// queryFlags are the filters list, search and export share.
type queryFlags struct {
	limit                            int
	after, model, scheduler, board   string
	seed, size, since, until, status string
	promptID, groupID                int64
	favourites, trash, all           bool
}

func (q *queryFlags) register(fs *flag.FlagSet, paging bool) {
	if paging {
		fs.IntVar(&q.limit, "limit", 20, "rows per page (at most 1000)")
		fs.StringVar(&q.after, "after", "", "page cursor printed by the previous page")
		fs.BoolVar(&q.all, "all", false, "print every page")
	}
	fs.StringVar(&q.model, "model", "", "only this model")
	fs.StringVar(&q.scheduler, "scheduler", "", "only this scheduler (euler, euler_a, heun, ddim, dpmpp_2m, dpmpp_2m_karras, unipc)")
	fs.StringVar(&q.seed, "seed", "", "only runs with this seed")
	fs.Int64Var(&q.promptID, "prompt-id", 0, "only images of this prompt")
	fs.Int64Var(&q.groupID, "group", 0, "only this group (compare pair, sweep, batch)")
	fs.StringVar(&q.board, "board", "", "only this board")
	fs.BoolVar(&q.favourites, "favourites", false, "only favourites")
	fs.StringVar(&q.size, "size", "", "only this size, WxH")
	fs.StringVar(&q.since, "since", "", "made on or after this date (YYYY-MM-DD or RFC 3339)")
	fs.StringVar(&q.until, "until", "", "made before this date (YYYY-MM-DD or RFC 3339)")
	fs.StringVar(&q.status, "status", "", "only ok, failed or cancelled runs")
	fs.BoolVar(&q.trash, "trash", false, "list the trash instead")
}

func parseWhen(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: --%s %q: expected YYYY-MM-DD or RFC 3339", errUsage, flagName, s)
}

func (q *queryFlags) query() (gallery.Query, error) {
	out := gallery.Query{
		Limit: q.limit, After: q.after, Model: q.model, Scheduler: q.scheduler, PromptID: q.promptID,
		GroupID: q.groupID, Board: q.board, Favourite: q.favourites, Trash: q.trash, Status: gallery.Status(q.status),
	}
	if q.seed != "" {
		seed, err := strconv.ParseUint(q.seed, 10, 64)
		if err != nil {
			return out, fmt.Errorf("%w: --seed %q: expected a non-negative integer", errUsage, q.seed)
		}
		out.Seed = &seed
	}
	if q.size != "" {
		w, h, ok := strings.Cut(strings.ToLower(q.size), "x")
		wi, err1 := strconv.Atoi(w)
		hi, err2 := strconv.Atoi(h)
		if !ok || err1 != nil || err2 != nil || wi <= 0 || hi <= 0 {
			return out, fmt.Errorf("%w: --size %q: expected WxH, e.g. 1024x1024", errUsage, q.size)
		}
		out.Width, out.Height = wi, hi
	}
	var err error
	if out.Since, err = parseWhen("since", q.since); err != nil {
		return out, err
	}
	if out.Until, err = parseWhen("until", q.until); err != nil {
		return out, err
	}
	switch out.Status {
	case "", gallery.StatusOK, gallery.StatusFailed, gallery.StatusCancelled:
	default:
		return out, fmt.Errorf("%w: --status %q: expected ok, failed or cancelled", errUsage, q.status)
	}
	if q.limit < 0 || q.limit > gallery.MaxPageSize {
		return out, fmt.Errorf("%w: --limit %d: expected 1 to %d", errUsage, q.limit, gallery.MaxPageSize)
	}
	return out, nil
}

func historyList(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	return listOrSearch(ctx, c, h, "list", args)
}

func historySearch(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	return listOrSearch(ctx, c, h, "search", args)
}

func listOrSearch(ctx context.Context, c *cli, h *historyCmd, name string, args []string) error {
	fs := h.flagSet(c, name, true)
	var qf queryFlags
	qf.register(fs, true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	q, err := qf.query()
	if err != nil {
		return err
	}
	if name == "search" {
		if fs.NArg() == 0 {
			return fmt.Errorf("%w: search needs words to look for", errUsage)
		}
		q.Text = strings.Join(fs.Args(), " ")
	} else if fs.NArg() > 0 {
		return fmt.Errorf("%w: list takes no arguments (got %q); use 'history search' for words", errUsage, fs.Args())
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var all []gallery.Generation
	for {
		page, err := s.List(ctx, q)
		if err != nil {
			return err
		}
		if !qf.all {
			if h.json {
				return printJSON(c.stdout, page)
			}
			printTable(c.stdout, page.Items)
			if page.Next != "" {
				fmt.Fprintf(c.stdout, "more: --after %s\n", page.Next)
			}
			return nil
		}
		if h.json {
			all = append(all, page.Items...)
		} else {
			printTable(c.stdout, page.Items)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if h.json {
		return printJSON(c.stdout, gallery.Page{Items: all})
	}
	return nil
}

func printTable(w io.Writer, items []gallery.Generation) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tMODEL\tSEED\tSIZE\tSTEPS\tSCHEDULER\tSTATUS\tPROMPT")
	for _, g := range items {
		prompt := strings.ReplaceAll(g.Prompt, "\n", " ")
		if r := []rune(prompt); len(r) > 60 {
			prompt = string(r[:57]) + "..."
		}
		fav := ""
		if g.Favourite {
			fav = " *"
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%s\t%d\t%dx%d\t%d\t%s\t%s\t%s\n", g.ID, fav, g.CreatedAt.Local().Format("2006-01-02 15:04"),
			g.Model, g.Seed, g.Width, g.Height, g.Steps, g.Scheduler, g.Status, prompt)
	}
	tw.Flush()
}

func parseIDs(args []string) ([]int64, error) {
	var ids []int64
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%w: %q is not a generation id (expected a positive integer)", errUsage, a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func historyShow(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "show", true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: show needs exactly one id", errUsage)
	}
	ids, err := parseIDs(fs.Args())
	if err != nil {
		return err
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	g, err := s.Get(ctx, ids[0])
	if err != nil {
		return err
	}
	if h.json {
		return printJSON(c.stdout, g)
	}
	w := c.stdout
	fmt.Fprintf(w, "id:         %d\ncreated:    %s\nstatus:     %s\n", g.ID, g.CreatedAt.Local().Format(time.RFC3339), g.Status)
	if g.Error != "" {
		fmt.Fprintf(w, "error:      %s\n", g.Error)
	}
	fmt.Fprintf(w, "prompt:     %s\n", g.Prompt)
	if g.NegativePrompt != "" {
		fmt.Fprintf(w, "negative:   %s\n", g.NegativePrompt)
	}
	fmt.Fprintf(w, "engine:     %s\nmodel:      %s %s\nseed:       %d\nsteps:      %d\nscheduler:  %s\nsize:       %dx%d\nguidance:   %g\n",
		g.Engine, g.Model, g.ModelHash, g.Seed, g.Steps, g.Scheduler, g.Width, g.Height, g.Guidance)
	if g.Device != "" || g.ExecutionProvider != "" {
		fmt.Fprintf(w, "device:     %s (%s, %s)\n", g.Device, g.ExecutionProvider, g.Precision)
	}
	for _, t := range g.Timings {
		fmt.Fprintf(w, "  %-14s %v\n", t.Stage, t.Duration)
	}
	if g.PeakMemoryBytes > 0 {
		fmt.Fprintf(w, "peak memory: %.1f GiB\n", float64(g.PeakMemoryBytes)/(1<<30))
	}
	if g.Image != nil {
		fmt.Fprintf(w, "image:      %s\nthumbnail:  %s\nsha256:     %s\n", s.Path(g.Image.Path), s.Path(g.Image.ThumbPath), g.Image.SHA256)
	}
	if g.Favourite {
		fmt.Fprintln(w, "favourite:  yes")
	}
	if len(g.Boards) > 0 {
		fmt.Fprintf(w, "boards:     %s\n", strings.Join(g.Boards, ", "))
	}
	for _, cp := range g.Captions {
		fmt.Fprintf(w, "caption (%s): %s\n", cp.Kind, cp.Answer)
	}
	if g.DeletedAt != nil {
		fmt.Fprintf(w, "in trash since %s\n", g.DeletedAt.Local().Format(time.RFC3339))
	}
	return nil
}

func historyRm(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	return trashOp(ctx, c, h, "rm", args, (*gallery.Store).Delete, "moved %d to the trash\n")
}

func historyRestore(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	return trashOp(ctx, c, h, "restore", args, (*gallery.Store).Restore, "restored %d\n")
}

func trashOp(ctx context.Context, c *cli, h *historyCmd, name string, args []string,
	op func(*gallery.Store, context.Context, ...int64) error, done string) error {
	fs := h.flagSet(c, name, false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	ids, err := parseIDs(fs.Args())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: %s needs at least one id", errUsage, name)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := op(s, ctx, ids...); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, done, len(ids))
	return nil
}

func historyEmptyTrash(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "empty-trash", false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: empty-trash takes no arguments", errUsage)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.EmptyTrash(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "deleted %d for good\n", n)
	return nil
}

func historyFsck(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "fsck", true)
	repair := fs.Bool("repair", false, "fix what is found (remove rows without files, adopt files without rows, rebuild thumbnails)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: fsck takes no arguments", errUsage)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Fsck(ctx, *repair)
	if err != nil {
		return err
	}
	if h.json {
		return printJSON(c.stdout, rep)
	}
	w := c.stdout
	fmt.Fprintf(w, "library %s: %d generations, %d image files, database %s\n", s.Root(), rep.Rows, rep.Files, rep.Integrity)
	list := func(label string, items []string) {
		for _, it := range items {
			fmt.Fprintf(w, "%s: %s\n", label, it)
		}
	}
	rows := func(label string, items []gallery.FsckRow) {
		for _, r := range items {
			fmt.Fprintf(w, "%s: generation %d (%s)\n", label, r.ID, r.Path)
		}
	}
	rows("missing image", rep.MissingImages)
	rows("missing thumbnail", rep.MissingThumbs)
	rows("size differs", rep.SizeMismatch)
	list("image without row", rep.OrphanImages)
	list("thumbnail without row", rep.OrphanThumbs)
	list("temporary file", rep.TempFiles)
	if rep.SearchOutOfSync {
		fmt.Fprintln(w, "search index out of step")
	}
	list("repaired", rep.Actions)
	switch {
	case rep.Clean():
		fmt.Fprintln(w, "ok")
	case !rep.Repaired:
		fmt.Fprintln(w, "problems found; run with --repair to fix them")
		return fmt.Errorf("library %s has problems (see above)", s.Root())
	}
	return nil
}

func historyImport(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "import", true)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: import needs one folder", errUsage)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Import(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	if h.json {
		return printJSON(c.stdout, rep)
	}
	fmt.Fprintf(c.stdout, "scanned %d PNG files: imported %d, already present %d, failed %d\n",
		rep.Scanned, rep.Imported, rep.Skipped, len(rep.Failed))
	for src, n := range rep.Formats {
		fmt.Fprintf(c.stdout, "  %-9s %d\n", src, n)
	}
	for _, f := range rep.Failed {
		fmt.Fprintf(c.stdout, "failed: %s: %s\n", f.Path, f.Error)
	}
	return nil
}

func historyExport(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "export", true)
	out := fs.String("out", "", "destination folder, or a file ending in .zip")
	var qf queryFlags
	qf.register(fs, false)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: export needs --out DIR or --out FILE.zip", errUsage)
	}
	ids, err := parseIDs(fs.Args())
	if err != nil {
		return err
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if len(ids) == 0 { // export what the filters select
		q, err := qf.query()
		if err != nil {
			return err
		}
		q.Limit = gallery.MaxPageSize
		for {
			page, err := s.List(ctx, q)
			if err != nil {
				return err
			}
			for _, g := range page.Items {
				ids = append(ids, g.ID)
			}
			if page.Next == "" {
				break
			}
			q.After = page.Next
		}
	}
	rep, err := s.Export(ctx, ids, *out)
	if err != nil {
		return err
	}
	if h.json {
		return printJSON(c.stdout, rep)
	}
	fmt.Fprintf(c.stdout, "exported %d images (%d bytes) and settings to %s\n", rep.Images, rep.Bytes, rep.Dest)
	return nil
}

func historyBench(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	fs := h.flagSet(c, "bench", true)
	rows := fs.Int("rows", 100_000, "generations in the throw-away library")
	dir := fs.String("dir", "", "build the library here (default: a temporary folder, removed afterwards)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *rows <= 0 {
		return fmt.Errorf("%w: --rows %d: expected a positive number", errUsage, *rows)
	}
	if h.library != "" {
		return fmt.Errorf("%w: bench never touches a real library; use --dir for where to build the throw-away one", errUsage)
	}
	root := *dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "diptych-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	res, err := gallery.Bench(ctx, root, *rows)
	if err != nil {
		return err
	}
	if h.json {
		return json.NewEncoder(c.stdout).Encode(res)
	}
	fmt.Fprintf(c.stdout, "rows %d: build %.0f ms, open %.1f ms, first page %.1f ms, search %.1f ms, filter %.1f ms, page through all %.0f ms, heap growth %.2f MiB, peak RSS %.0f MiB\n",
		res.Rows, res.SeedMS, res.OpenMS, res.FirstPageMS, res.SearchMS, res.FilterMS, res.PageAllMS, res.HeapGrowMB, res.PeakRSSMB)
	return nil
}
