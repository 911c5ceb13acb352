package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"diptych/gallery"
)

// StudioOptions are what a Studio is built from.
type StudioOptions struct {
	Engine Engine
	// Library is where results go; a *gallery.Store (a DraftLibrary) also
	// lets the Studio refine drafts.
	Library  Library
	Settings Settings
	// QueuePath is the file the waiting jobs are kept in across restarts;
	// empty keeps the queue in memory only.
	QueuePath string
	// AppVersion is recorded with every saved generation.
	AppVersion string
	// KeepFinished is how many finished jobs Jobs still lists (default 50).
	KeepFinished int
}

// Studio runs generation jobs one after another on a single worker
// goroutine, saves their results to the gallery and tells subscribers
// about every change. Its methods are safe for concurrent use and never
// block on the engine or the disk.
type Studio struct {
	engine  Engine
	lib     Library
	opts    StudioOptions
	ctx     context.Context
	stop    context.CancelFunc
	workers sync.WaitGroup // worker and persister
	dispWG  sync.WaitGroup // dispatcher

	mu        sync.Mutex
	settings  Settings
	queue     []*Job // waiting, in run order
	running   *Job
	cancelRun context.CancelCauseFunc
	finished  []*Job
	warnings  []string
	started   bool
	closed    bool
	wake      chan struct{}
	saveReq   chan struct{}

	subMu  sync.Mutex
	subs   map[int]func(Event)
	subSeq int

	evMu     sync.Mutex
	evCond   *sync.Cond
	events   []Event
	evClosed bool
}

// errClosing is the cancel cause when the Studio shuts down.
var errClosing = errors.New("the app was closed during the run")

// errCancelled is the cancel cause of Cancel.
var errCancelled = errors.New("cancelled")

// NewStudio builds a Studio and restores the saved queue. An unreadable
// queue file does not stop it: the file is kept aside and the problem is
// listed in Warnings. Call Start to begin running jobs and Close to stop.
func NewStudio(o StudioOptions) (*Studio, error) {
	if o.Engine == nil {
		return nil, errors.New("new studio: no engine")
	}
	if o.Library == nil {
		return nil, errors.New("new studio: no library")
	}
	if o.KeepFinished <= 0 {
		o.KeepFinished = 50
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Studio{
		engine: o.Engine, lib: o.Library, opts: o, ctx: ctx, stop: stop,
		settings: o.Settings,
		wake:     make(chan struct{}, 1),
		saveReq:  make(chan struct{}, 1),
		subs:     map[int]func(Event){},
	}
	s.evCond = sync.NewCond(&s.evMu)
	if o.QueuePath != "" {
		jobs, err := LoadQueue(o.QueuePath, time.Now())
		if err != nil {
			s.warnings = append(s.warnings, err.Error())
		}
		for i := range jobs {
			j := jobs[i]
			s.queue = append(s.queue, &j)
		}
	}
	return s, nil
}

// Start begins running queued jobs (and delivering events). Subscribe
// first to see the restored jobs start.
func (s *Studio) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return
	}
	s.started = true
	s.workers.Add(2)
	s.dispWG.Add(1)
	go s.worker()
	go s.persister()
	go s.dispatcher()
	s.poke()
}

// Close cancels the running job, waits for it to stop, writes the queue
// (waiting jobs stay for the next start) and delivers the last events.
func (s *Studio) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.cancelRun != nil {
		s.cancelRun(errClosing)
	}
	started := s.started
	s.mu.Unlock()
	s.stop()
	if started {
		s.workers.Wait()
	}
	err := s.persistNow()
	s.evMu.Lock()
	s.evClosed = true
	s.evCond.Broadcast()
	s.evMu.Unlock()
	s.dispWG.Wait()
	return err
}

// Warnings lists problems met while starting (an unreadable queue file) or
// keeping the queue file.
func (s *Studio) Warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.warnings)
}

// Settings returns the settings jobs are run with.
func (s *Studio) Settings() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// SetSettings changes the settings for jobs that start from now on.
func (s *Studio) SetSettings(st Settings) {
	s.mu.Lock()
	s.settings = st
	s.mu.Unlock()
}

// Subscribe calls fn with every event, in order, on one goroutine of the
// Studio's (fn must not block for long). It returns a function that stops
// the calls.
func (s *Studio) Subscribe(fn func(Event)) (unsubscribe func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = fn
	return func() {
		s.subMu.Lock()
		delete(s.subs, id)
		s.subMu.Unlock()
	}
}

// Submit queues a generation and returns its id at once.
func (s *Studio) Submit(req Request) JobID {
	return s.SubmitToGroup(req, 0, 0)
}

// SubmitToGroup queues a generation that belongs to a gallery group at the
// given position (used to re-run one side of a compare pair).
func (s *Studio) SubmitToGroup(req Request, groupID int64, index int) JobID {
	return s.enqueue(&Job{Request: req, GroupID: groupID, GroupIndex: index})
}

// enqueue puts j at the end of the queue.
func (s *Studio) enqueue(j *Job) JobID {
	j.ID, j.State, j.Created = newJobID(), JobQueued, time.Now()
	s.mu.Lock()
	s.queue = append(s.queue, j)
	ev := Event{Kind: EventQueued, Job: *j}
	s.emit(ev) // under mu, so events keep the order of the changes
	s.mu.Unlock()
	s.poke()
	s.requestSave()
	return ev.Job.ID
}

// Compare queues one compare (app.Compare, the same function the CLI runs)
// as a single job: its progress events say which side (Event.Side), each
// stored side arrives as an EventSideDone, and the final event carries every
// side's row in group order. A bad compare is refused here, before queueing.
func (s *Studio) Compare(req CompareRequest) (JobID, error) {
	req, err := req.Prepare()
	if err != nil {
		return "", err
	}
	req.Critic = nil // a critic is not kept in the queue file
	return s.enqueue(&Job{Kind: JobCompare, Request: req.SDXL, Compare: &req}), nil
}

// Refine queues "Janus draft → SDXL refine" of a stored Janus image
// (app.Refine, the hybrid side the CLI's compare --hybrid runs).
func (s *Studio) Refine(req RefineRequest) (JobID, error) {
	if _, ok := s.lib.(DraftLibrary); !ok {
		return "", errors.New("refine: the library cannot read drafts")
	}
	if req.DraftID <= 0 {
		return "", fmt.Errorf("refine: draft id %d: expected a stored Janus generation", req.DraftID)
	}
	r := req.SDXL
	r.Model = ModelSDXL
	return s.enqueue(&Job{Kind: JobRefine, Request: r, Refine: &req}), nil
}

// Cancel stops a running job or takes a waiting one off the queue. It
// reports whether the job was found unfinished.
func (s *Studio) Cancel(id JobID) bool {
	s.mu.Lock()
	if s.running != nil && s.running.ID == id {
		s.cancelRun(errCancelled)
		s.mu.Unlock()
		return true
	}
	i := s.queuedIndex(id)
	if i < 0 {
		s.mu.Unlock()
		return false
	}
	j := s.queue[i]
	s.queue = slices.Delete(s.queue, i, i+1)
	j.State, j.Error, j.Finished = JobCancelled, errCancelled.Error(), time.Now()
	s.addFinished(j)
	ev := Event{Kind: EventCancelled, Job: *j, Err: j.Error}
	s.emit(ev) // under mu, so events keep the order of the changes
	s.mu.Unlock()
	s.requestSave()
	return true
}

// Remove takes a waiting job off the queue, or a finished one off the list.
// A running job must be cancelled instead.
func (s *Studio) Remove(id JobID) error {
	s.mu.Lock()
	if s.running != nil && s.running.ID == id {
		s.mu.Unlock()
		return fmt.Errorf("job %s is running: cancel it instead", id)
	}
	var j *Job
	if i := s.queuedIndex(id); i >= 0 {
		j = s.queue[i]
		s.queue = slices.Delete(s.queue, i, i+1)
	} else if i := slices.IndexFunc(s.finished, func(f *Job) bool { return f.ID == id }); i >= 0 {
		j = s.finished[i]
		s.finished = slices.Delete(s.finished, i, i+1)
	}
	if j == nil {
		s.mu.Unlock()
		return fmt.Errorf("no job %s", id)
	}
	ev := Event{Kind: EventRemoved, Job: *j}
	s.emit(ev) // under mu, so events keep the order of the changes
	s.mu.Unlock()
	s.requestSave()
	return nil
}

// Move puts a waiting job at position pos of the queue (0 runs next);
// positions past the end mean last.
func (s *Studio) Move(id JobID, pos int) error {
	s.mu.Lock()
	i := s.queuedIndex(id)
	if i < 0 {
		s.mu.Unlock()
		return fmt.Errorf("move: job %s is not waiting in the queue", id)
	}
	j := s.queue[i]
	s.queue = slices.Delete(s.queue, i, i+1)
	pos = max(0, min(pos, len(s.queue)))
	s.queue = slices.Insert(s.queue, pos, j)
	ev := Event{Kind: EventMoved, Job: *j}
	s.emit(ev) // under mu, so events keep the order of the changes
	s.mu.Unlock()
	s.requestSave()
	return nil
}

// Jobs lists the recently finished jobs (oldest first), the running one and
// the waiting ones in run order.
func (s *Studio) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.finished)+1+len(s.queue))
	for _, j := range s.finished {
		out = append(out, *j)
	}
	if s.running != nil {
		out = append(out, *s.running)
	}
	for _, j := range s.queue {
		out = append(out, *j)
	}
	return out
}

// Busy reports whether a job is running.
func (s *Studio) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running != nil
}

func (s *Studio) queuedIndex(id JobID) int {
	return slices.IndexFunc(s.queue, func(j *Job) bool { return j.ID == id })
}

func (s *Studio) addFinished(j *Job) {
	s.finished = append(s.finished, j)
	if n := len(s.finished) - s.opts.KeepFinished; n > 0 {
		s.finished = slices.Delete(s.finished, 0, n)
	}
}

func (s *Studio) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Studio) worker() {
	defer s.workers.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 || !s.started {
			s.mu.Unlock()
			select {
			case <-s.wake:
			case <-s.ctx.Done():
				return
			}
			s.mu.Lock()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		j := s.queue[0]
		s.queue = s.queue[1:]
		j.State, j.Started = JobRunning, time.Now()
		ctx, cancel := context.WithCancelCause(s.ctx)
		s.running, s.cancelRun = j, cancel
		settings := s.settings
		ev := Event{Kind: EventStarted, Job: *j}
		s.emit(ev)
		s.mu.Unlock()
		s.requestSave()

		snapshot := *j
		final := s.run(ctx, &snapshot, settings)
		cancel(nil)

		s.mu.Lock()
		*j = snapshot
		s.running, s.cancelRun = nil, nil
		s.addFinished(j)
		final.Job = *j
		s.emit(final)
		s.mu.Unlock()
		s.requestSave()
	}
}

// run runs one job through the use case of its kind and saves its images;
// it fills j (a copy owned by the worker) with the final state and returns
// the event to send.
func (s *Studio) run(ctx context.Context, j *Job, settings Settings) Event {
	fill := settings.Apply
	snapshot := *j
	progress := func(side int) func(Progress) {
		return func(p Progress) { s.emit(Event{Kind: EventProgress, Job: snapshot, Side: side, Progress: p}) }
	}
	var gens []gallery.Generation
	var res *Result
	var err error
	switch j.Kind {
	case JobCompare:
		req := *j.Compare
		req.SDXL, req.Janus, req.AppVersion = fill(req.SDXL), fill(req.Janus), s.opts.AppVersion
		var out CompareResult
		out, err = Compare(ctx, s.engine, s.lib, req, func(p CompareProgress) {
			if p.Saved != nil {
				s.emit(Event{Kind: EventSideDone, Job: snapshot, Side: p.Index, Generations: []gallery.Generation{*p.Saved}})
				return
			}
			progress(p.Index)(p.Progress)
		})
		j.GroupID = out.Group.ID
		for _, side := range out.Sides {
			if side.Generation.ID != 0 {
				gens = append(gens, side.Generation)
			}
		}
	case JobRefine:
		lib, _ := s.lib.(DraftLibrary)
		req := *j.Refine
		req.SDXL = fill(req.SDXL)
		var g Generated
		g, err = Refine(ctx, s.engine, lib, req, s.opts.AppVersion, progress(2))
		gens, res = g.Generations, &g.Result
		if len(gens) > 0 {
			j.GroupID, j.GroupIndex = gens[0].GroupID, gens[0].GroupIndex
		}
	default:
		var g Generated
		g, err = Generate(ctx, s.engine, fill(j.Request),
			RecordOptions{Library: s.lib, AppVersion: s.opts.AppVersion, GroupID: j.GroupID, GroupIndex: j.GroupIndex, JobID: j.ID},
			progress(0))
		gens, res = g.Generations, &g.Result
	}
	for _, g := range gens {
		if g.ID != 0 && g.Status != gallery.StatusFailed {
			j.Generations = append(j.Generations, g.ID)
		}
	}
	j.Finished = time.Now()
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			j.State, j.Error = JobCancelled, cause.Error()
			return Event{Kind: EventCancelled, Err: j.Error, Generations: gens}
		}
		j.State, j.Error = JobFailed, err.Error()
		return Event{Kind: EventFailed, Err: j.Error, Generations: gens, Result: res}
	}
	j.State = JobDone
	return Event{Kind: EventDone, Result: res, Generations: gens}
}

// emit queues an event for the dispatcher.
func (s *Studio) emit(e Event) {
	s.evMu.Lock()
	if !s.evClosed {
		s.events = append(s.events, e)
		s.evCond.Signal()
	}
	s.evMu.Unlock()
}

// dispatcher delivers events to subscribers in order, on one goroutine.
func (s *Studio) dispatcher() {
	defer s.dispWG.Done()
	for {
		s.evMu.Lock()
		for len(s.events) == 0 && !s.evClosed {
			s.evCond.Wait()
		}
		batch := s.events
		s.events = nil
		s.evMu.Unlock()
		if len(batch) == 0 {
			return // closed and drained
		}
		s.subMu.Lock()
		fns := make([]func(Event), 0, len(s.subs))
		for _, id := range sortedKeys(s.subs) {
			fns = append(fns, s.subs[id])
		}
		s.subMu.Unlock()
		for _, e := range batch {
			for _, fn := range fns {
				fn(e)
			}
		}
	}
}

func sortedKeys(m map[int]func(Event)) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Studio) requestSave() {
	if s.opts.QueuePath == "" {
		return
	}
	select {
	case s.saveReq <- struct{}{}:
	default:
	}
}

// persister writes the queue file off the callers' goroutines.
func (s *Studio) persister() {
	defer s.workers.Done()
	for {
		select {
		case <-s.saveReq:
			if err := s.persistNow(); err != nil {
				s.mu.Lock()
				s.warnings = append(s.warnings, err.Error())
				s.mu.Unlock()
				s.emit(Event{Kind: EventWarning, Err: err.Error()})
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// persistNow writes the running and waiting jobs to the queue file.
func (s *Studio) persistNow() error {
	if s.opts.QueuePath == "" {
		return nil
	}
	s.mu.Lock()
	var jobs []Job
	if s.running != nil && !s.closed {
		jobs = append(jobs, *s.running)
	}
	for _, j := range s.queue {
		jobs = append(jobs, *j)
	}
	s.mu.Unlock()
	if err := SaveQueue(s.opts.QueuePath, jobs); err != nil {
		return fmt.Errorf("keep the queue: %w", err)
	}
	return nil
}

func newJobID() JobID {
	var b [6]byte
	rand.Read(b[:])
	return JobID(time.Now().Format("20060102-150405") + "-" + hex.EncodeToString(b[:]))
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
