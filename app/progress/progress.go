// Package progress draws the progress of a long task (a generation, a
// download, a verification) on a text stream, usually stderr.
//
// On a terminal the line is redrawn in place, at most every 100 ms:
//
//	denoise  [############..................]   40%  12/30  3.40 it/s  ETA 3.53 s
//
// Anywhere else (a log file, CI, a pipe) carriage returns would pile up into
// one enormous line, so it writes a plain line each time another 5 % of the
// task is done, and the last state when the task ends:
//
//	denoise   40%  12/30  3.40 it/s  ETA 3.53 s
//
// A Bar is safe for concurrent use.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"diptych/engine/format"
)

// Unit says what Done and Total count.
type Unit int

const (
	// Steps are denoising steps, tokens, images: shown as 12/30, 3.40 it/s.
	Steps Unit = iota
	// Bytes are shown as 1.2 GB/6.9 GB, 45.0 MB/s.
	Bytes
)

// State is where a task stands.
type State struct {
	// Task names what runs ("denoise", "sdxl denoise"); a different Task is
	// a new task, whose count starts over.
	Task        string
	Done, Total int64 // Total <= 0: unknown
	Unit        Unit
	Rate        float64       // Units per second, 0 when unknown
	ETA         time.Duration // 0 when unknown
	Detail      string        // shown last, e.g. the file being fetched
}

// Options set how a Bar draws.
type Options struct {
	// Terminal redraws one line in place; otherwise plain lines are written.
	Terminal bool
	// Width is the terminal's width in columns (default 80); longer lines are
	// cut so that they do not wrap, which would break the redraw.
	Width int
	// Interval is the least time between two redraws on a terminal
	// (default 100 ms). The end of a task is always drawn.
	Interval time.Duration
	// Step is the fraction of a task between two plain lines (default 0.05).
	Step float64
	// Now is the clock (default time.Now), for tests.
	Now func() time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth is w's width in columns, 0 when w is no terminal.
func TerminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// Bar draws one task at a time on a stream.
type Bar struct {
	mu  sync.Mutex
	w   io.Writer
	opt Options

	last    State
	started bool      // a state was given since the last Finish
	drawn   bool      // terminal: a line is on screen without its newline
	drawnAt time.Time // terminal: when it was drawn
	printed int       // plain: the 5 % step of the last line; -1 none
	pending bool      // plain: the last state is not written yet
}

// New returns a bar drawing on w.
func New(w io.Writer, opt Options) *Bar {
	if opt.Width <= 0 {
		opt.Width = 80
	}
	if opt.Interval <= 0 {
		opt.Interval = 100 * time.Millisecond
	}
	if opt.Step <= 0 || opt.Step > 1 {
		opt.Step = 0.05
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Bar{w: w, opt: opt, printed: -1}
}

// Update shows s.
func (b *Bar) Update(s State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	newTask := !b.started || s.Task != b.last.Task
	b.last, b.started = s, true
	if b.opt.Terminal {
		end := s.Total > 0 && s.Done >= s.Total
		if newTask || end || b.opt.Now().Sub(b.drawnAt) >= b.opt.Interval {
			b.draw()
		}
		return
	}
	if newTask {
		b.printed = -1
	}
	if n := b.stepOf(s); n > b.printed {
		b.printed = n
		b.pending = false
		fmt.Fprintln(b.w, line(s, false))
		return
	}
	b.pending = true
}

// Println writes a message line (a retry, a warning) and keeps the bar.
func (b *Bar) Println(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opt.Terminal && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		fmt.Fprintln(b.w, msg)
		b.draw()
		return
	}
	fmt.Fprintln(b.w, msg)
}

// Finish ends the task: the last state stays on its own line. The next
// Update starts a new line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.opt.Terminal {
		if b.drawn {
			b.draw() // the last state, which throttling may have skipped
			fmt.Fprintln(b.w)
			b.drawn = false
		}
	} else if b.started && b.pending {
		fmt.Fprintln(b.w, line(b.last, false))
	}
	b.started, b.pending, b.printed = false, false, -1
	b.drawnAt = time.Time{}
}

// draw redraws the terminal line.
func (b *Bar) draw() {
	l := []rune(line(b.last, true))
	if len(l) > b.opt.Width-1 {
		l = l[:b.opt.Width-1]
	}
	fmt.Fprint(b.w, "\r\033[K"+string(l))
	b.drawn, b.drawnAt = true, b.opt.Now()
}

// stepOf is the 5 % step s is in: 0 at the start, 20 at the end. A task of
// unknown size has one step.
func (b *Bar) stepOf(s State) int {
	if s.Total <= 0 {
		return 0
	}
	f := min(max(float64(s.Done)/float64(s.Total), 0), 1)
	return int(f/b.opt.Step + 1e-9)
}

// barWidth is the number of cells of the drawn bar.
const barWidth = 30

// line is s as text, with a drawn bar on a terminal.
func line(s State, bar bool) string {
	var parts []string
	if s.Task != "" {
		parts = append(parts, s.Task)
	}
	if s.Total > 0 {
		f := min(max(float64(s.Done)/float64(s.Total), 0), 1)
		if bar {
			n := int(f * barWidth)
			parts = append(parts, "["+strings.Repeat("#", n)+strings.Repeat(".", barWidth-n)+"]")
		}
		parts = append(parts, fmt.Sprintf("%3.0f%%", f*100), amount(s.Unit, s.Done)+"/"+amount(s.Unit, s.Total))
	} else {
		parts = append(parts, amount(s.Unit, s.Done))
	}
	if s.Rate > 0 {
		if s.Unit == Bytes {
			parts = append(parts, format.Bytes(int64(s.Rate))+"/s")
		} else {
			parts = append(parts, fmt.Sprintf("%.2f it/s", s.Rate))
		}
	}
	if s.ETA > 0 && !(s.Total > 0 && s.Done >= s.Total) {
		parts = append(parts, "ETA "+format.Duration(s.ETA))
	}
	if s.Detail != "" {
		parts = append(parts, s.Detail)
	}
	return strings.Join(parts, "  ")
}

func amount(u Unit, n int64) string {
	if u == Bytes {
		return format.Bytes(n)
	}
	return fmt.Sprint(n)
}
