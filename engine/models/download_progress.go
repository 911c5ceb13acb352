package models

// Progress events, and the tracker that turns byte counts into
// rate-limited events with speed and ETA.

import (
	"sync"
	"sync/atomic"
	"time"
)

// Phase says what a Progress event is about.
type Phase string

// Progress phases.
const (
	PhaseDownload Phase = "download"
	PhaseVerify   Phase = "verify"
	PhaseRetry    Phase = "retry"
	PhaseDone     Phase = "done"
)

// Progress is one progress event of a download or a verification.
type Progress struct {
	Phase Phase  `json:"phase"`
	File  string `json:"file,omitempty"`
	// FileDone/FileSize are bytes of the current file.
	FileDone int64 `json:"file_done"`
	FileSize int64 `json:"file_size"`
	// Done/Total are bytes over all files (resumed bytes count as done).
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Speed is bytes per second over the last few seconds; ETA is derived
	// from it (0 when unknown).
	Speed   float64       `json:"speed"`
	ETA     time.Duration `json:"eta"`
	Message string        `json:"message,omitempty"`
}

// tracker turns byte counts into rate-limited Progress events.
type tracker struct {
	fn       func(Progress)
	interval time.Duration
	total    int64
	done     atomic.Int64 // all bytes, resumed ones included
	net      atomic.Int64 // bytes received in this run

	mu       sync.Mutex // serialises fn and guards the fields below
	file     string
	fileSize int64
	fileBase int64 // done when the file started
	fileHave int64 // file bytes resumed
	samples  []sample
}

type sample struct {
	t time.Time
	n int64
}

func newTracker(fn func(Progress), interval time.Duration) *tracker {
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	return &tracker{fn: fn, interval: interval}
}

func (t *tracker) add(n int64) {
	t.done.Add(n)
	t.net.Add(n)
}

func (t *tracker) setFile(name string, size, have int64) {
	t.mu.Lock()
	t.file, t.fileSize, t.fileHave = name, size, have
	t.fileBase = t.done.Load() - have
	t.mu.Unlock()
	t.emit(Progress{Phase: PhaseDownload})
}

// start emits download progress on a ticker until the returned func is
// called; the func may be called more than once, and once it returns no
// ticker event follows.
func (t *tracker) start() func() {
	if t.fn == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(t.interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				t.emit(Progress{Phase: PhaseDownload})
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(stop); wg.Wait() }) }
}

// emit fills in the byte counts, speed and ETA of p and sends it.
func (t *tracker) emit(p Progress) {
	if t.fn == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.samples = append(t.samples, sample{now, t.net.Load()})
	for len(t.samples) > 2 && now.Sub(t.samples[0].t) > 5*time.Second {
		t.samples = t.samples[1:]
	}
	first := t.samples[0]
	if dt := now.Sub(first.t).Seconds(); dt > 0.2 {
		p.Speed = float64(t.net.Load()-first.n) / dt
	}
	p.Done, p.Total = t.done.Load(), t.total
	if p.File == "" {
		p.File = t.file
	}
	if p.File == t.file {
		p.FileSize = t.fileSize
		p.FileDone = p.Done - t.fileBase
	}
	if p.Speed > 0 && p.Total > p.Done {
		p.ETA = time.Duration(float64(p.Total-p.Done) / p.Speed * float64(time.Second)).Round(time.Second)
	}
	t.fn(p)
}
