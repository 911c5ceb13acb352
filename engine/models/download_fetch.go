package models

// Fetching one file: its byte ranges over several connections, each range
// resumed, retried with backoff and aborted when it stalls.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// partFile is where downloaded bytes go. It is a seam for tests (disk full).
type partFile interface {
	io.WriterAt
	Truncate(size int64) error
	Close() error
}

// fetchFile downloads one file into staging (resuming), then verifies it.
func (d *Downloader) fetchFile(ctx context.Context, staging string, f FileSpec, tr *tracker) (ManifestFile, error) {
	final := filepath.Join(staging, filepath.FromSlash(f.Path))
	if st, err := os.Stat(final); err == nil && (f.Size < 0 || st.Size() == f.Size) {
		return d.verifyFile(ctx, final, f, tr)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return ManifestFile{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	statePath := final + partStateSuffix
	state, err := loadPartState(statePath, f)
	if err != nil {
		state = newPartState(f, d.connections(), d.splitSize())
		state.path = statePath
		os.Remove(final + partSuffix)
	}
	tr.setFile(f.Path, f.Size, state.done())
	err = d.fetchParts(ctx, final, f, state, tr)
	if errors.Is(err, errNoRange) {
		tr.done.Add(-state.done())
		state = newPartState(f, 1, d.splitSize())
		state.path = statePath
		state.noRange = true
		os.Remove(final + partSuffix)
		tr.setFile(f.Path, f.Size, 0)
		err = d.fetchParts(ctx, final, f, state, tr)
	}
	if err != nil {
		return ManifestFile{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := os.Rename(final+partSuffix, final); err != nil {
		return ManifestFile{}, fmt.Errorf("%s: %w", f.Path, err)
	}
	os.Remove(statePath)
	return d.verifyFile(ctx, final, f, tr)
}

// fetchParts runs every unfinished range of a file, each on its own
// connection, and saves the state when they stop.
func (d *Downloader) fetchParts(ctx context.Context, final string, f FileSpec, st *partState, tr *tracker) error {
	file, err := d.open(final + partSuffix)
	if err != nil {
		return err
	}
	if f.Size >= 0 {
		if err := file.Truncate(f.Size); err != nil {
			file.Close()
			return diskErr(err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(st.Parts))
	for i := range st.Parts {
		if st.complete(i) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.runPart(ctx, f, file, st, i, tr); err != nil {
				errs[i] = err
				cancel() // one range failing for good stops the others
			}
		}()
	}
	wg.Wait()
	st.save()
	cerr := file.Close()
	for _, e := range errs {
		if e != nil && !errors.Is(e, context.Canceled) {
			return e
		}
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	if cerr != nil {
		return diskErr(cerr)
	}
	if f.Size < 0 {
		return nil
	}
	for i := range st.Parts {
		if !st.complete(i) {
			return fmt.Errorf("range %d incomplete", i)
		}
	}
	return nil
}

// runPart fetches one range, retrying with backoff.
func (d *Downloader) runPart(ctx context.Context, f FileSpec, file partFile, st *partState, i int, tr *tracker) error {
	failures := 0
	for !st.complete(i) {
		n, err := d.attempt(ctx, f, file, st, i, tr)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he *HTTPError
		if errors.Is(err, ErrDiskFull) || errors.Is(err, errNoRange) || (errors.As(err, &he) && !he.retryable()) {
			return err
		}
		if n > 0 {
			failures = 0
		}
		failures++
		if failures > d.maxRetries() {
			return fmt.Errorf("giving up after %d attempts: %w", failures, err)
		}
		wait := d.backoff(failures)
		if he != nil && he.RetryAfter > 0 {
			wait = min(he.RetryAfter, 2*time.Minute)
		}
		tr.emit(Progress{Phase: PhaseRetry, File: f.Path,
			Message: fmt.Sprintf("%s: %v; retry %d/%d in %s", f.Path, err, failures, d.maxRetries(), wait.Round(time.Millisecond))})
		st.save()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil
}

// attempt makes one request for the rest of range i and copies the body. It
// returns the bytes written.
func (d *Downloader) attempt(ctx context.Context, f FileSpec, file partFile, st *partState, i int, tr *tracker) (int64, error) {
	start, end, dropped := st.next(i)
	tr.done.Add(-dropped)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := d.request(actx, http.MethodGet, f.URL)
	if err != nil {
		return 0, err
	}
	ranged := f.Size >= 0 && !st.noRange
	if ranged {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end))
	}

	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var stalled atomic.Bool
	go func() {
		tick := time.NewTicker(max(d.stallTimeout()/4, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-actx.Done():
				return
			case <-tick.C:
				if time.Since(time.Unix(0, last.Load())) > d.stallTimeout() {
					stalled.Store(true)
					cancel()
					return
				}
			}
		}
	}()

	resp, err := d.client().Do(req)
	if err != nil {
		if stalled.Load() {
			return 0, errStalled
		}
		return 0, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && ranged:
		if err := checkContentRange(resp.Header.Get("Content-Range"), start, f.Size); err != nil {
			return 0, err
		}
	case resp.StatusCode == http.StatusOK:
		if start != 0 || st.Parts[i].End != f.Size-1 && f.Size >= 0 {
			return 0, errNoRange
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && f.Size == 0:
		st.advance(i, 0, true)
		return 0, nil
	default:
		return 0, httpError(resp)
	}

	want := end - start + 1
	if f.Size < 0 {
		want = -1
	}
	buf := make([]byte, 256<<10)
	off := start
	var written int64
	for want < 0 || written < want {
		chunk := buf
		if want >= 0 && want-written < int64(len(chunk)) {
			chunk = chunk[:want-written]
		}
		n, rerr := resp.Body.Read(chunk)
		if n > 0 {
			last.Store(time.Now().UnixNano())
			if _, werr := file.WriteAt(chunk[:n], off); werr != nil {
				return written, diskErr(werr)
			}
			off += int64(n)
			written += int64(n)
			tr.add(int64(n))
			st.advance(i, int64(n), false)
			if want >= 0 && written == want {
				return written, nil
			}
		}
		if rerr == io.EOF {
			if want < 0 {
				st.advance(i, 0, true)
				return written, nil
			}
			return written, io.ErrUnexpectedEOF
		}
		if rerr != nil {
			if stalled.Load() {
				return written, fmt.Errorf("%w for %s", errStalled, d.stallTimeout())
			}
			return written, rerr
		}
	}
	return written, nil
}

func checkContentRange(h string, start, size int64) error {
	// "bytes START-END/TOTAL"
	var s, e int64
	var total string
	if _, err := fmt.Sscanf(strings.Replace(h, "/", " ", 1), "bytes %d-%d %s", &s, &e, &total); err != nil {
		return fmt.Errorf("bad Content-Range %q", h)
	}
	if s != start {
		return fmt.Errorf("Content-Range %q does not start at %d", h, start)
	}
	if total != "*" && total != strconv.FormatInt(size, 10) {
		return fmt.Errorf("Content-Range %q: the file is %d bytes in the listing (the file changed on the server?)", h, size)
	}
	return nil
}
