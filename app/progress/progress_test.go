package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// clock is a fake time that advances by step on every reading.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

// Not a terminal: 1000 updates give one line per 5 % (21 with the start),
// no carriage return or escape, and the line of the end.
func TestPlainLinesEveryFivePercent(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{Terminal: false, Now: clock(time.Millisecond)})
	for i := 0; i <= 1000; i++ {
		b.Update(State{Task: "denoise", Done: int64(i), Total: 1000, Rate: 3.4, ETA: time.Duration(1000-i) * 300 * time.Millisecond})
	}
	b.Finish()
	out := buf.String()
	if strings.ContainsAny(out, "\r\x1b") {
		t.Fatalf("plain output has control characters: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 21 (0 %%, 5 %%, ... 100 %%):\n%s", len(lines), out)
	}
	if lines[0] != "denoise    0%  0/1000  3.40 it/s  ETA 5 min 0 s" {
		t.Errorf("first line %q", lines[0])
	}
	if lines[1] != "denoise    5%  50/1000  3.40 it/s  ETA 4 min 45 s" {
		t.Errorf("second line %q", lines[1])
	}
	if lines[20] != "denoise  100%  1000/1000  3.40 it/s" {
		t.Errorf("last line %q", lines[20])
	}
}

// A task that stops short (cancelled, failed) still logs where it stopped,
// once; a new task starts its own count.
func TestPlainFinishWritesTheLastState(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{})
	for i := int64(0); i <= 37; i++ {
		b.Update(State{Task: "tokens", Done: i, Total: 100})
	}
	b.Finish()
	b.Finish()
	b.Update(State{Task: "decode", Done: 0, Total: 1})
	b.Update(State{Task: "decode", Done: 1, Total: 1})
	b.Finish()
	want := "tokens    0%  0/100\ntokens    5%  5/100\ntokens   10%  10/100\ntokens   15%  15/100\ntokens   20%  20/100\n" +
		"tokens   25%  25/100\ntokens   30%  30/100\ntokens   35%  35/100\ntokens   37%  37/100\n" +
		"decode    0%  0/1\ndecode  100%  1/1\n"
	if got := buf.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

// Bytes: sizes and speed as people read them; the file name changing does
// not add lines, only progress does.
func TestPlainBytes(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{})
	const total = 6_900_000_000
	for i, f := range []string{"a.onnx", "b.onnx", "c.onnx", "d.onnx"} {
		b.Update(State{Done: int64(i) * 10_000_000, Total: total, Unit: Bytes, Rate: 45e6, ETA: 84 * time.Second, Detail: f})
	}
	b.Update(State{Done: total, Total: total, Unit: Bytes, Rate: 45e6, Detail: "d.onnx"})
	b.Finish()
	want := "  0%  0 B/6.9 GB  45.0 MB/s  ETA 1 min 24 s  a.onnx\n100%  6.9 GB/6.9 GB  45.0 MB/s  d.onnx\n"
	if got := buf.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A terminal: one line redrawn in place, throttled to the interval, the end
// always drawn, and a newline at Finish; messages go above the bar.
func TestTerminalRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{Terminal: true, Width: 200, Interval: 100 * time.Millisecond, Now: clock(10 * time.Millisecond)})
	for i := int64(0); i <= 30; i++ {
		b.Update(State{Task: "denoise", Done: i, Total: 30, Rate: 2})
	}
	b.Println("warning: something")
	b.Finish()
	out := buf.String()
	draws := strings.Count(out, "\r\x1b[K")
	// 31 updates 20 ms apart (the clock moves on each reading): the first, one
	// per 100 ms, the last; the message clears and redraws; Finish redraws.
	if draws < 6 || draws > 12 {
		t.Errorf("%d redraws for 31 updates, want about 7:\n%q", draws, out)
	}
	if !strings.HasSuffix(out, "\r\x1b[Kdenoise  [##############################]  100%  30/30  2.00 it/s\n") {
		t.Errorf("does not end with the full bar and a newline: %q", out)
	}
	if !strings.Contains(out, "\r\x1b[Kwarning: something\n\r\x1b[Kdenoise  [") {
		t.Errorf("message not above the bar: %q", out)
	}
	if strings.Count(out, "\n") != 2 {
		t.Errorf("want two newlines (message, end): %q", out)
	}
}

// On a narrow terminal the line is cut so that it never wraps.
func TestTerminalCutsToWidth(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, Options{Terminal: true, Width: 40})
	b.Update(State{Done: 1, Total: 2, Unit: Bytes, Detail: strings.Repeat("very/long/path/", 10)})
	for _, l := range strings.Split(buf.String(), "\r\x1b[K") {
		if n := len([]rune(l)); n > 39 {
			t.Fatalf("line of %d runes on a 40-column terminal: %q", n, l)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(&bytes.Buffer{}) || TerminalWidth(&bytes.Buffer{}) != 0 {
		t.Fatal("a buffer is a terminal")
	}
}
