package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/engine/format"
	"diptych/gallery"
)

// historyCmd holds the flags every history subcommand shares.
type historyCmd struct {
	c       *cli
	library string
	json    bool
}

// newHistoryCmd declares `diptych history` and its subcommands. --library is
// the group's flag, so every subcommand takes it, before or after its name.
func newHistoryCmd(c *cli) *cobra.Command {
	h := &historyCmd{c: c}
	cmd := c.group("history SUBCOMMAND", "search and maintain the image history",
		"Search and maintain the image history.\n\n"+
			"Every subcommand takes --library DIR (default: $DIPTYCH_LIBRARY, the settings' library or the user's data folder).",
		h.listCmd("list"),
		h.listCmd("search"),
		h.showCmd(),
		h.exportCmd(),
		h.importCmd(),
		h.trashCmd("rm"),
		h.trashCmd("restore"),
		h.emptyTrashCmd(),
		h.fsckCmd(),
		h.benchCmd(),
		h.boardCmd(),
	)
	cmd.PersistentFlags().StringVar(&h.library, "library", "", "library folder (default: $DIPTYCH_LIBRARY, the settings' library or the user's data folder)")
	return cmd
}

// sub makes one history subcommand; withJSON gives it --json.
func (h *historyCmd) sub(use, summary string, withJSON bool, run func(ctx context.Context, args []string) error) *cobra.Command {
	cmd := h.c.command(use, summary, "", func(ctx context.Context, _ *pflag.FlagSet, args []string) error { return run(ctx, args) })
	if withJSON {
		cmd.Flags().BoolVar(&h.json, "json", false, "print JSON")
	}
	return cmd
}

func (h *historyCmd) listCmd(name string) *cobra.Command {
	var qf queryFlags
	use, summary := "list [flags]", "list generations, newest first"
	if name == "search" {
		use, summary = "search WORDS... [flags]", "full-text search over prompts, negatives, captions and boards"
	}
	cmd := h.sub(use, summary, true, func(ctx context.Context, args []string) error {
		return listOrSearch(ctx, h.c, h, name, &qf, args)
	})
	qf.register(cmd.Flags(), true)
	return cmd
}

func (h *historyCmd) showCmd() *cobra.Command {
	return h.sub("show ID [flags]", "show everything recorded about one generation", true, func(ctx context.Context, args []string) error {
		return historyShow(ctx, h.c, h, args)
	})
}

func (h *historyCmd) exportCmd() *cobra.Command {
	var qf queryFlags
	var out *string
	cmd := h.sub("export --out DIR|FILE.zip [ID...] [flags]", "copy images (metadata kept) plus settings.csv/json to a folder or zip", true,
		func(ctx context.Context, args []string) error { return historyExport(ctx, h.c, h, out, &qf, args) })
	out = cmd.Flags().String("out", "", "destination folder, or a file ending in .zip")
	qf.register(cmd.Flags(), false)
	return cmd
}

func (h *historyCmd) importCmd() *cobra.Command {
	return h.sub("import DIR [flags]", "add the PNGs of a folder (A1111, ComfyUI, InvokeAI, Fooocus, Diptych) to the history", true,
		func(ctx context.Context, args []string) error { return historyImport(ctx, h.c, h, args) })
}

func (h *historyCmd) trashCmd(name string) *cobra.Command {
	if name == "rm" {
		return h.sub("rm ID... [flags]", "move generations to the trash", false, func(ctx context.Context, args []string) error {
			return trashOp(ctx, h.c, h, name, args, (*gallery.Store).Delete, "moved %d to the trash\n")
		})
	}
	return h.sub("restore ID... [flags]", "take generations out of the trash", false, func(ctx context.Context, args []string) error {
		return trashOp(ctx, h.c, h, name, args, (*gallery.Store).Restore, "restored %d\n")
	})
}

func (h *historyCmd) emptyTrashCmd() *cobra.Command {
	return h.sub("empty-trash [flags]", "delete everything in the trash for good", false, func(ctx context.Context, args []string) error {
		return historyEmptyTrash(ctx, h.c, h, args)
	})
}

func (h *historyCmd) fsckCmd() *cobra.Command {
	var repair *bool
	cmd := h.sub("fsck [--repair] [flags]", "check the database against the files; --repair fixes what it finds", true,
		func(ctx context.Context, args []string) error { return historyFsck(ctx, h.c, h, repair, args) })
	repair = cmd.Flags().Bool("repair", false, "fix what is found (remove rows without files, adopt files without rows, rebuild thumbnails)")
	return cmd
}

func (h *historyCmd) benchCmd() *cobra.Command {
	var rows *int
	var dir *string
	cmd := h.sub("bench --rows N [flags]", "time the grid queries on a throw-away library of N rows", true,
		func(ctx context.Context, _ []string) error { return historyBench(ctx, h.c, h, rows, dir) })
	cmd.Args = noArgs
	rows = cmd.Flags().Int("rows", 100_000, "generations in the throw-away library")
	dir = cmd.Flags().String("dir", "", "build the library here (default: a temporary folder, removed afterwards)")
	return cmd
}

func (h *historyCmd) open(ctx context.Context) (*gallery.Store, error) {
	return h.c.openLibrary(ctx, h.library)
}

// queryFlags are the filters list, search and export share.
type queryFlags struct {
	limit                            int
	after, model, scheduler, board   string
	seed, size, since, until, status string
	promptID, groupID                int64
	favourites, trash, all           bool
}

func (q *queryFlags) register(fs *pflag.FlagSet, paging bool) {
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

func listOrSearch(ctx context.Context, c *cli, h *historyCmd, name string, qf *queryFlags, args []string) error {
	q, err := qf.query()
	if err != nil {
		return err
	}
	if name == "search" {
		if len(args) == 0 {
			return fmt.Errorf("%w: search needs words to look for", errUsage)
		}
		q.Text = strings.Join(args, " ")
	} else if len(args) > 0 {
		return fmt.Errorf("%w: list takes no arguments (got %q); use 'history search' for words", errUsage, args)
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
				return c.printJSON(page)
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
		return c.printJSON(gallery.Page{Items: all})
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
	if len(args) != 1 {
		return fmt.Errorf("%w: show needs exactly one id", errUsage)
	}
	ids, err := parseIDs(args)
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
		return c.printJSON(g)
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
		fmt.Fprintf(w, "  %-14s %9s\n", t.Stage, format.Duration(t.Duration))
	}
	if g.PeakMemoryBytes > 0 {
		fmt.Fprintf(w, "peak memory: %s\n", format.Bytes(g.PeakMemoryBytes))
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

func trashOp(ctx context.Context, c *cli, h *historyCmd, name string, args []string,
	op func(*gallery.Store, context.Context, ...int64) error, done string) error {
	ids, err := parseIDs(args)
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
	if len(args) > 0 {
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

func historyFsck(ctx context.Context, c *cli, h *historyCmd, repair *bool, args []string) error {
	if len(args) > 0 {
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
		return c.printJSON(rep)
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
	if len(args) != 1 {
		return fmt.Errorf("%w: import needs one folder", errUsage)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	rep, err := s.Import(ctx, args[0])
	if err != nil {
		return err
	}
	if h.json {
		return c.printJSON(rep)
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

func historyExport(ctx context.Context, c *cli, h *historyCmd, out *string, qf *queryFlags, args []string) error {
	if *out == "" {
		return fmt.Errorf("%w: export needs --out DIR or --out FILE.zip", errUsage)
	}
	ids, err := parseIDs(args)
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
		return c.printJSON(rep)
	}
	fmt.Fprintf(c.stdout, "exported %d images (%d bytes) and settings to %s\n", rep.Images, rep.Bytes, rep.Dest)
	return nil
}

func historyBench(ctx context.Context, c *cli, h *historyCmd, rows *int, dir *string) error {
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
		return c.printJSON(res)
	}
	ms := func(v float64) string { return format.Duration(time.Duration(v * float64(time.Millisecond))) }
	fmt.Fprintf(c.stdout, "rows %d: build %s, open %s, first page %s, search %s, filter %s, page through all %s, heap growth %.2f MiB, peak RSS %.0f MiB\n",
		res.Rows, ms(res.SeedMS), ms(res.OpenMS), ms(res.FirstPageMS), ms(res.SearchMS), ms(res.FilterMS), ms(res.PageAllMS), res.HeapGrowMB, res.PeakRSSMB)
	return nil
}
