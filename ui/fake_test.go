package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"diptych/app"
	"diptych/gallery"
)

// fakeBackend is an in-memory Backend: a one-worker queue driving a fake
// engine, and a library of generations with their PNGs in a temp folder.
type fakeBackend struct {
	t   testing.TB
	dir string

	mu       sync.Mutex
	queue    []*Job
	running  *Job
	cancel   context.CancelFunc
	finished []*Job
	seq      int
	wake     chan struct{}
	subs     map[int]func(Event)
	subSeq   int
	deliver  sync.Mutex // keeps events in order

	// engine makes one image; it reports progress and may block.
	engine func(ctx context.Context, r Request, progress func(Progress)) (image.Image, error)

	gens     []gallery.Generation
	nextID   int64
	saveErr  error
	requests []Request
	models   []ModelInfo
	settings Settings
	saved    []Settings
	diag     Diagnosis
	demoDirs []string
	groups   int64
	refines  []app.RefineRequest
	unloads  int
	lists    int // List calls
	catalog  []CatalogModel
	// download fakes Download (nil: the model appears at once).
	download func(ctx context.Context, name string, progress func(DownloadProgress)) error
	listErr  error // List fails with it when set
	// boards: name -> member ids (names compared ignoring case).
	boards    map[string][]int64
	removed   []string // RemoveModel calls
	verifyErr error
	copied    []string // CopyImage paths
	shown     []string // ShowInFolder paths
	listDelay time.Duration

	stop context.CancelFunc
	ctx  context.Context
}

func newFake(t testing.TB) *fakeBackend {
	ctx, stop := context.WithCancel(context.Background())
	f := &fakeBackend{t: t, dir: t.TempDir(), wake: make(chan struct{}, 1), subs: map[int]func(Event){},
		ctx: ctx, stop: stop, boards: map[string][]int64{}, settings: Settings{Device: "auto", Theme: "system", PreviewEvery: 5}}
	f.models = []ModelInfo{
		{Name: "sdxl-base", Kind: KindSDXLBase, Dir: "/models/sdxl-base", SizeMB: 6900},
		{Name: "sdxl-refiner", Kind: KindSDXLRefiner, Dir: "/models/sdxl-refiner", SizeMB: 6000},
		{Name: "janus-pro-1b", Kind: KindJanus, Params: "1B", Dir: "/models/janus-pro-1b", SizeMB: 4000},
	}
	f.engine = stepEngine(3, 0, nil)
	go f.worker()
	t.Cleanup(func() {
		stop()
		f.mu.Lock()
		if f.cancel != nil {
			f.cancel()
		}
		f.mu.Unlock()
	})
	return f
}

// stepEngine reports steps (sleeping between them) and returns a flat
// image; gate, if set, is waited on after step 1.
func stepEngine(steps int, sleep time.Duration, gate chan struct{}) func(context.Context, Request, func(Progress)) (image.Image, error) {
	return func(ctx context.Context, r Request, progress func(Progress)) (image.Image, error) {
		if r.ModelDir == "broken" {
			return nil, errors.New("load unet /models/broken/unet/model.onnx: no such file or directory")
		}
		for i := 1; i <= steps; i++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			progress(Progress{Stage: "denoise", Step: i, Total: steps, Rate: 2.5, ETA: time.Duration(steps-i) * 400 * time.Millisecond,
				Elapsed: time.Duration(i) * 400 * time.Millisecond, Preview: flat(8, 8, color.RGBA{uint8(i * 40), 0, 0, 255})})
			if i == 1 && gate != nil {
				select {
				case <-gate:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if sleep > 0 {
				select {
				case <-time.After(sleep):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
		w, h := max(r.Width/64, 8), max(r.Height/64, 8)
		return flat(w, h, color.RGBA{0, 128, 255, 255}), nil
	}
}

func flat(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

func (f *fakeBackend) emit(e Event) {
	f.mu.Lock()
	fns := make([]func(Event), 0, len(f.subs))
	keys := make([]int, 0, len(f.subs))
	for k := range f.subs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fns = append(fns, f.subs[k])
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(e)
	}
}

func (f *fakeBackend) worker() {
	for {
		f.mu.Lock()
		for len(f.queue) == 0 {
			f.mu.Unlock()
			select {
			case <-f.wake:
			case <-f.ctx.Done():
				return
			}
			f.mu.Lock()
		}
		f.mu.Unlock()
		f.deliver.Lock()
		f.mu.Lock()
		if len(f.queue) == 0 {
			f.mu.Unlock()
			f.deliver.Unlock()
			continue
		}
		j := f.queue[0]
		f.queue = f.queue[1:]
		j.State = app.JobRunning
		ctx, cancel := context.WithCancel(f.ctx)
		f.running, f.cancel = j, cancel
		snap := *j
		f.mu.Unlock()
		f.emit(Event{Kind: app.EventStarted, Job: snap})
		f.deliver.Unlock()

		// A compare job runs both sides as app.Compare does: one group,
		// each stored side announced, every row in the final event.
		sides := []*Job{j}
		if j.Kind == app.JobCompare {
			f.mu.Lock()
			f.groups++
			j.GroupID = f.groups
			f.mu.Unlock()
			sd, jn := *j, *j
			sd.Request, jn.Request, jn.GroupIndex = j.Compare.SDXL, j.Compare.Janus, 1
			sides = []*Job{&sd, &jn}
		}
		var ev Event
		var gens []gallery.Generation
		for i, side := range sides {
			f.mu.Lock()
			f.requests = append(f.requests, side.Request)
			f.mu.Unlock()
			img, err := f.engine(ctx, side.Request, func(p Progress) {
				f.deliver.Lock()
				f.emit(Event{Kind: app.EventProgress, Job: snap, Side: i, Progress: p})
				f.deliver.Unlock()
			})
			switch {
			case ctx.Err() != nil:
				ev = Event{Kind: app.EventCancelled, Err: "cancelled"}
			case err != nil:
				ev = Event{Kind: app.EventFailed, Err: err.Error()}
			default:
				g, serr := f.save(side, img)
				if serr != nil {
					ev = Event{Kind: app.EventFailed, Err: "save image 1 of 1 to the library: " + serr.Error()}
				} else {
					gens = append(gens, g)
					ev = Event{Kind: app.EventDone}
					if len(sides) > 1 {
						f.deliver.Lock()
						f.emit(Event{Kind: app.EventSideDone, Job: snap, Side: i, Generations: []gallery.Generation{g}})
						f.deliver.Unlock()
					}
				}
			}
			if ev.Kind != app.EventDone {
				break
			}
		}
		ev.Generations = gens
		cancel()
		f.deliver.Lock() // lock order: deliver, then mu
		f.mu.Lock()
		j.State = map[app.EventKind]app.JobState{app.EventCancelled: app.JobCancelled, app.EventFailed: app.JobFailed, app.EventDone: app.JobDone}[ev.Kind]
		j.Error = ev.Err
		for _, g := range ev.Generations {
			j.Generations = append(j.Generations, g.ID)
		}
		f.running, f.cancel = nil, nil
		f.finished = append(f.finished, j)
		ev.Job = *j
		f.mu.Unlock()
		f.emit(ev)
		f.deliver.Unlock()
	}
}

func (f *fakeBackend) save(j *Job, img image.Image) (gallery.Generation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saveErr != nil {
		return gallery.Generation{}, f.saveErr
	}
	f.nextID++
	r := j.Request
	seed := r.Seed
	if seed < 0 {
		seed = 1000 + f.nextID
	}
	rel := fmt.Sprintf("images/%d.png", f.nextID)
	p := filepath.Join(f.dir, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	fh, err := os.Create(p)
	if err != nil {
		return gallery.Generation{}, err
	}
	png.Encode(fh, img)
	fh.Close()
	req := map[string]any{"prompt": r.Prompt, "negative": r.Negative, "model": r.Model, "model_dir": r.ModelDir,
		"width": r.Width, "height": r.Height, "steps": r.Steps, "scheduler": r.Scheduler, "guidance": r.Guidance,
		"cfg": r.CFG, "temperature": r.Temperature, "seed": seed}
	g := gallery.Generation{ID: f.nextID, CreatedAt: time.Now(), Engine: string(r.Model), Model: filepath.Base(r.ModelDir),
		Prompt: r.Prompt, NegativePrompt: r.Negative, Seed: uint64(seed), Steps: r.Steps, Scheduler: r.Scheduler,
		Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Guidance: r.Guidance, Device: "cpu", ExecutionProvider: "CPU",
		Timings: []gallery.StageTiming{{Stage: "denoise", Duration: 1200 * time.Millisecond}}, PeakMemoryBytes: 512 << 20,
		Status: gallery.StatusOK, GroupID: j.GroupID, GroupIndex: j.GroupIndex, Source: gallery.SourceDiptych,
		Params: map[string]any{"request": req},
		Image:  &gallery.Image{ID: f.nextID, Path: rel, ThumbPath: rel, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}}
	f.gens = append(f.gens, g)
	return g, nil
}

func (f *fakeBackend) Submit(r Request) JobID { return f.SubmitToGroup(r, 0, 0) }

func (f *fakeBackend) SubmitToGroup(r Request, group int64, index int) JobID {
	return f.enqueue(&Job{Request: r, GroupID: group, GroupIndex: index})
}

func (f *fakeBackend) enqueue(j *Job) JobID {
	f.deliver.Lock()
	defer f.deliver.Unlock()
	f.mu.Lock()
	f.seq++
	j.ID, j.State = JobID(fmt.Sprintf("job-%d", f.seq)), app.JobQueued
	f.queue = append(f.queue, j)
	snap := *j
	f.mu.Unlock()
	f.emit(Event{Kind: app.EventQueued, Job: snap})
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return snap.ID
}

func (f *fakeBackend) Compare(req app.CompareRequest) (JobID, error) {
	if req.SDXL.Seed < 0 {
		req.SDXL.Seed = 777
	}
	req, err := req.Prepare()
	if err != nil {
		return "", err
	}
	return f.enqueue(&Job{Kind: app.JobCompare, Request: req.SDXL, Compare: &req}), nil
}

func (f *fakeBackend) Refine(req app.RefineRequest) (JobID, error) {
	f.mu.Lock()
	f.refines = append(f.refines, req)
	f.mu.Unlock()
	return "refine-1", nil
}

func (f *fakeBackend) UnloadModels() (int, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unloads++
	return 2, 7 << 10
}

func (f *fakeBackend) Cancel(id JobID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running != nil && f.running.ID == id {
		f.cancel()
		return true
	}
	return false
}

func (f *fakeBackend) Remove(id JobID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, j := range f.queue {
		if j.ID == id {
			f.queue = slices.Delete(f.queue, i, i+1)
			return nil
		}
	}
	for i, j := range f.finished {
		if j.ID == id {
			f.finished = slices.Delete(f.finished, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("no job %s", id)
}

func (f *fakeBackend) Move(id JobID, pos int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, j := range f.queue {
		if j.ID == id {
			f.queue = slices.Delete(f.queue, i, i+1)
			pos = max(0, min(pos, len(f.queue)))
			f.queue = slices.Insert(f.queue, pos, j)
			return nil
		}
	}
	return fmt.Errorf("job %s is not waiting", id)
}

func (f *fakeBackend) Jobs() []Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Job
	for _, j := range f.finished {
		out = append(out, *j)
	}
	if f.running != nil {
		out = append(out, *f.running)
	}
	for _, j := range f.queue {
		out = append(out, *j)
	}
	return out
}

func (f *fakeBackend) Subscribe(fn func(Event)) func() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subSeq++
	id := f.subSeq
	f.subs[id] = fn
	return func() {
		f.mu.Lock()
		delete(f.subs, id)
		f.mu.Unlock()
	}
}

// List pages newest first with an id cursor (gallery's keyset paging);
// Limit 0 returns everything.
func (f *fakeBackend) List(ctx context.Context, q gallery.Query) (gallery.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	if d := f.listDelay; d > 0 {
		f.mu.Unlock()
		time.Sleep(d)
		f.mu.Lock()
	}
	if f.listErr != nil {
		return gallery.Page{}, f.listErr
	}
	start := len(f.gens) - 1
	if q.After != "" {
		after, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return gallery.Page{}, fmt.Errorf("bad cursor %q", q.After)
		}
		// gens are in ascending id order: start below the cursor.
		start = sort.Search(len(f.gens), func(i int) bool { return f.gens[i].ID >= after }) - 1
	}
	var out []gallery.Generation
	next := ""
	for i := start; i >= 0; i-- {
		g := f.gens[i]
		if (g.DeletedAt != nil) != q.Trash {
			continue
		}
		if q.Text != "" && !strings.Contains(strings.ToLower(g.Prompt+" "+g.NegativePrompt), strings.ToLower(q.Text)) {
			continue
		}
		if q.Board != "" && !slices.Contains(f.boards[f.boardKey(q.Board)], g.ID) {
			continue
		}
		if q.Favourite && !g.Favourite || q.Model != "" && g.Model != q.Model || q.GroupID != 0 && g.GroupID != q.GroupID {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			next = strconv.FormatInt(out[len(out)-1].ID, 10)
			break
		}
		out = append(out, g)
	}
	return gallery.Page{Items: out, Next: next}, nil
}

func (f *fakeBackend) listCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists
}

func (f *fakeBackend) EmptyTrash(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.gens[:0]
	n := 0
	for _, g := range f.gens {
		if g.DeletedAt != nil {
			n++
			continue
		}
		kept = append(kept, g)
	}
	f.gens = kept
	return n, nil
}

func (f *fakeBackend) find(id int64) *gallery.Generation {
	for i := range f.gens {
		if f.gens[i].ID == id {
			return &f.gens[i]
		}
	}
	return nil
}

func (f *fakeBackend) Get(ctx context.Context, id int64) (gallery.Generation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.find(id); g != nil {
		out := *g
		out.Boards = f.boardsOf(id)
		return out, nil
	}
	return gallery.Generation{}, gallery.ErrNotFound
}

func (f *fakeBackend) RecentPrompts(ctx context.Context, n int) ([]gallery.Prompt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []gallery.Prompt
	for i := len(f.gens) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, gallery.Prompt{Text: f.gens[i].Prompt, Negative: f.gens[i].NegativePrompt})
	}
	return out, nil
}

func (f *fakeBackend) Boards(ctx context.Context) (map[string]int, error) {
	bs, _ := f.BoardList(ctx)
	out := map[string]int{}
	for _, b := range bs {
		out[b.Name] = b.Count
	}
	return out, nil
}

// boardKey is the stored spelling of name ("" if no such board); call
// with f.mu held.
func (f *fakeBackend) boardKey(name string) string {
	for k := range f.boards {
		if strings.EqualFold(k, strings.TrimSpace(name)) {
			return k
		}
	}
	return ""
}

func (f *fakeBackend) BoardList(ctx context.Context) ([]gallery.Board, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []gallery.Board{}
	for name, ids := range f.boards {
		n := 0
		for _, id := range ids {
			if g := f.find(id); g != nil && g.DeletedAt == nil {
				n++
			}
		}
		out = append(out, gallery.Board{Name: name, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name) })
	return out, nil
}

func (f *fakeBackend) CreateBoard(ctx context.Context, name string) (gallery.Board, error) {
	n, err := gallery.ValidateBoardName(name)
	if err != nil {
		return gallery.Board{}, fmt.Errorf("create board: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.boardKey(n); k != "" {
		return gallery.Board{}, fmt.Errorf("create board %q: %w (%q)", n, gallery.ErrBoardExists, k)
	}
	f.boards[n] = nil
	return gallery.Board{Name: n}, nil
}

func (f *fakeBackend) RenameBoard(ctx context.Context, old, name string) error {
	n, err := gallery.ValidateBoardName(name)
	if err != nil {
		return fmt.Errorf("rename board %q: %w", old, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.boardKey(old)
	if k == "" {
		return fmt.Errorf("rename board: %w: %q", gallery.ErrBoardNotFound, old)
	}
	if o := f.boardKey(n); o != "" && o != k {
		return fmt.Errorf("rename board %q: %w (%q)", old, gallery.ErrBoardExists, o)
	}
	ids := f.boards[k]
	delete(f.boards, k)
	f.boards[n] = ids
	return nil
}

func (f *fakeBackend) DeleteBoard(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.boardKey(name)
	if k == "" {
		return fmt.Errorf("delete board: %w: %q", gallery.ErrBoardNotFound, name)
	}
	delete(f.boards, k)
	return nil
}

func (f *fakeBackend) BoardAdd(ctx context.Context, board string, ids ...int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.boardKey(board)
	if k == "" {
		return 0, fmt.Errorf("add to board: %w: %q", gallery.ErrBoardNotFound, board)
	}
	n := 0
	for _, id := range ids {
		if f.find(id) == nil {
			return 0, fmt.Errorf("generation %d: %w", id, gallery.ErrNotFound)
		}
	}
	for _, id := range ids {
		if !slices.Contains(f.boards[k], id) {
			f.boards[k] = append(f.boards[k], id)
			n++
		}
	}
	return n, nil
}

func (f *fakeBackend) BoardRemove(ctx context.Context, board string, ids ...int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.boardKey(board)
	if k == "" {
		return 0, fmt.Errorf("remove from board: %w: %q", gallery.ErrBoardNotFound, board)
	}
	n := 0
	f.boards[k] = slices.DeleteFunc(f.boards[k], func(id int64) bool {
		if slices.Contains(ids, id) {
			n++
			return true
		}
		return false
	})
	return n, nil
}

// boardsOf lists the boards holding id.
func (f *fakeBackend) boardsOf(id int64) []string {
	var out []string
	for k, ids := range f.boards {
		if slices.Contains(ids, id) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fakeBackend) RemoveModel(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.models {
		if m.Name == name {
			f.models = slices.Delete(f.models, i, i+1)
			f.removed = append(f.removed, name)
			return nil
		}
	}
	return fmt.Errorf("model %s is not installed", name)
}

func (f *fakeBackend) VerifyModel(ctx context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verifyErr != nil {
		return "", f.verifyErr
	}
	return name + ": 5 files, 6.9 GB: all match", nil
}

func (f *fakeBackend) CopyImage(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := os.Stat(path); err != nil {
		return err
	}
	f.copied = append(f.copied, path)
	return nil
}

func (f *fakeBackend) ShowInFolder(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shown = append(f.shown, path)
	return nil
}

func (f *fakeBackend) SetFavourite(ctx context.Context, id int64, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.find(id); g != nil {
		g.Favourite = on
		return nil
	}
	return gallery.ErrNotFound
}

func (f *fakeBackend) Delete(ctx context.Context, ids ...int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, id := range ids {
		if g := f.find(id); g != nil {
			g.DeletedAt = &now
		}
	}
	return nil
}

func (f *fakeBackend) Restore(ctx context.Context, ids ...int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		if g := f.find(id); g != nil {
			g.DeletedAt = nil
		}
	}
	return nil
}

func (f *fakeBackend) Export(ctx context.Context, ids []int64, dest string) (gallery.ExportReport, error) {
	os.MkdirAll(dest, 0o755)
	for _, id := range ids {
		b, err := os.ReadFile(filepath.Join(f.dir, fmt.Sprintf("images/%d.png", id)))
		if err != nil {
			return gallery.ExportReport{}, err
		}
		os.WriteFile(filepath.Join(dest, fmt.Sprintf("%d.png", id)), b, 0o644)
	}
	return gallery.ExportReport{Dest: dest, Images: len(ids)}, nil
}

func (f *fakeBackend) Path(rel string) string { return filepath.Join(f.dir, rel) }

func (f *fakeBackend) Models(ctx context.Context) ([]ModelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.models), nil
}

func (f *fakeBackend) InstallDemoModels(ctx context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.models = append(f.models,
		ModelInfo{Name: "demo-sdxl-tiny", Kind: KindSDXLBase, Dir: "/models/demo-sdxl-tiny", SizeMB: 8, Demo: true},
		ModelInfo{Name: "demo-janus-tiny", Kind: KindJanus, Dir: "/models/demo-janus-tiny", SizeMB: 3, Demo: true})
	f.demoDirs = []string{"/models/demo-sdxl-tiny", "/models/demo-janus-tiny"}
	return f.demoDirs, nil
}

func (f *fakeBackend) Catalog(ctx context.Context) ([]CatalogModel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.catalog)
	for i := range out {
		for _, m := range f.models {
			if m.Name == out[i].Name {
				out[i].Installed = true
			}
		}
	}
	return out, nil
}

// Download runs f.download, then installs the model as the real backend
// registers it.
func (f *fakeBackend) Download(ctx context.Context, name string, progress func(DownloadProgress)) error {
	f.mu.Lock()
	fn := f.download
	f.mu.Unlock()
	if fn != nil {
		if err := fn(ctx, name, progress); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.catalog {
		if c.Name == name {
			f.models = append(f.models, ModelInfo{Name: name, Kind: c.Kind, Params: c.Params, Dir: "/models/" + name, SizeMB: c.Size >> 20})
			return nil
		}
	}
	return fmt.Errorf("%s is not in the catalog", name)
}

func (f *fakeBackend) ImportModel(ctx context.Context, dir string) error {
	return fmt.Errorf("import %s: not a model folder", dir)
}

func (f *fakeBackend) Settings() Settings {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings
}

func (f *fakeBackend) SaveSettings(s Settings) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settings = s
	f.saved = append(f.saved, s)
	return nil
}

func (f *fakeBackend) Diagnose(ctx context.Context) Diagnosis { return f.diag }

func (f *fakeBackend) requestsSeen() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var desktopShortcutCtrlEnter = *GenerateShortcut
