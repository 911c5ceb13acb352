package models

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// partSuffix marks a file that is still being downloaded; partStateSuffix
// is its JSON state (which byte ranges are done), kept across restarts.
const (
	partSuffix      = ".part"
	partStateSuffix = ".part.json"
	stagingSuffix   = ".partial"
)

// FileSpec is one file to download.
type FileSpec struct {
	// Path is slash-separated and relative to the destination folder.
	Path string `json:"path"`
	URL  string `json:"url"`
	// Size in bytes; -1 when unknown (the downloader then asks with HEAD).
	Size int64 `json:"size"`
	// SHA256 is the expected lowercase hex digest ("" when unknown).
	SHA256 string `json:"sha256,omitempty"`
	// GitSHA1 is the expected git blob id, which the Hub lists for files not
	// stored in LFS ("" when unknown).
	GitSHA1 string `json:"git_sha1,omitempty"`
}

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

// HTTPError is a response with an unexpected status.
type HTTPError struct {
	URL        string
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %d", redactURL(e.URL), e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (the repository may be gated or private: accept its licence on the Hub and set HF_TOKEN)"
	case http.StatusNotFound:
		msg += " (check the repository name, revision and file path)"
	}
	return msg
}

// retryable reports whether a request may succeed when repeated.
func (e *HTTPError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// ChecksumError reports a downloaded or verified file whose digest differs
// from the expected one. A downloader deletes such a file.
type ChecksumError struct {
	Path      string
	Algorithm string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s (file deleted; run the command again to download it anew)",
		e.Path, e.Algorithm, e.Want, e.Got)
}

// ErrDiskFull reports that the disk filled up or has too little free space.
var ErrDiskFull = errors.New("not enough disk space")

// ErrExists reports that the destination folder already exists.
var ErrExists = errors.New("destination already exists")

var errStalled = errors.New("no data received")

// errNoRange reports a server that answered a ranged request with the whole
// file; the file is then fetched with a single connection from the start.
var errNoRange = errors.New("server ignored the Range header")

// partFile is where downloaded bytes go. It is a seam for tests (disk full).
type partFile interface {
	io.WriterAt
	Truncate(size int64) error
	Close() error
}

// Downloader fetches files over HTTP into a staging folder, resumably and
// with verification, and renames the folder into place when all are done.
// The zero value is usable.
type Downloader struct {
	// Client defaults to a client with no overall timeout (stalls are caught
	// by StallTimeout instead).
	Client *http.Client
	// Token, when set, is sent as "Authorization: Bearer" to TokenHost (the
	// Hub). Go's client drops it on redirects to other hosts (the CDN).
	Token     string
	TokenHost string
	UserAgent string
	// Connections is how many ranges of one large file are fetched at once
	// (default 4); files smaller than SplitSize (default 64 MiB) use one.
	Connections int
	SplitSize   int64
	// StallTimeout aborts and retries a connection that received nothing for
	// this long (default 30 s).
	StallTimeout time.Duration
	// MaxRetries is how many failed attempts in a row a range may have
	// before the download gives up (default 6); an attempt that made
	// progress resets the count.
	MaxRetries int
	// Backoff returns the pause before retry n (1-based); default exponential
	// from 1 s, capped at 30 s, with jitter.
	Backoff func(n int) time.Duration
	// Progress receives events at most every ProgressInterval (default
	// 250 ms) and at every phase change. It is never called concurrently.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// FreeSpace returns the bytes free on the file system holding dir;
	// defaults to statfs. An error skips the check.
	FreeSpace func(dir string) (uint64, error)

	// openPart opens a .part file for writing (a seam for tests).
	openPart func(path string) (partFile, error)
}

// client returns the HTTP client, made to drop the Authorization header on
// a redirect to any other host: the Hub's CDN gets signed URLs and must not
// see the token (Go's own rule would still send it to a subdomain).
func (d *Downloader) client() *http.Client {
	c := http.Client{}
	if d.Client != nil {
		c = *d.Client
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Host != via[0].URL.Host {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

func (d *Downloader) connections() int {
	if d.Connections > 0 {
		return d.Connections
	}
	return 4
}

func (d *Downloader) splitSize() int64 {
	if d.SplitSize > 0 {
		return d.SplitSize
	}
	return 64 << 20
}

func (d *Downloader) stallTimeout() time.Duration {
	if d.StallTimeout > 0 {
		return d.StallTimeout
	}
	return 30 * time.Second
}

func (d *Downloader) maxRetries() int {
	if d.MaxRetries > 0 {
		return d.MaxRetries
	}
	return 6
}

func (d *Downloader) backoff(n int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(n)
	}
	wait := time.Second << min(n-1, 5)
	wait = min(wait, 30*time.Second)
	return wait/2 + rand.N(wait/2+1)
}

func (d *Downloader) open(p string) (partFile, error) {
	if d.openPart != nil {
		return d.openPart(p)
	}
	return os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
}

// StagingDir is where Download assembles dest before renaming it into place.
// It survives restarts so that a later Download resumes.
func StagingDir(dest string) string {
	return filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+stagingSuffix)
}

// CheckPath rejects a listed file path that is empty, absolute, not clean or
// would escape the destination folder.
func CheckPath(p string) error {
	bad := func(why string) error { return fmt.Errorf("file path %q rejected: %s", p, why) }
	switch {
	case p == "":
		return bad("empty")
	case strings.HasPrefix(p, "/") || strings.ContainsRune(p, '\\') || (len(p) > 1 && p[1] == ':'):
		return bad("absolute paths and backslashes are not allowed")
	case strings.ContainsRune(p, 0):
		return bad("NUL byte")
	case path.Clean(p) != p:
		return bad("not a clean relative path")
	case p == ".." || strings.HasPrefix(p, "../") || !filepath.IsLocal(filepath.FromSlash(p)):
		return bad("it escapes the destination folder")
	case strings.HasSuffix(p, partSuffix) || strings.HasSuffix(p, partStateSuffix) || p == ManifestName:
		return bad("the name is reserved for the downloader")
	}
	return nil
}

// Download fetches files into dest. It works in StagingDir(dest), resuming
// whatever an earlier, interrupted call left there, verifies every file's
// SHA-256 (or git blob id), and renames the staging folder to dest only when
// every file is complete. When m is not nil its Files are filled with the
// digests and it is written into the folder as ManifestName before the
// rename. Cancelling ctx stops the download; calling Download again resumes.
func (d *Downloader) Download(ctx context.Context, dest string, files []FileSpec, m *Manifest) error {
	seen := map[string]bool{}
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return fmt.Errorf("download to %s: %w", dest, err)
		}
		if seen[f.Path] {
			return fmt.Errorf("download to %s: file %q listed twice", dest, f.Path)
		}
		seen[f.Path] = true
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("download to %s: %w", dest, ErrExists)
	}
	staging := StagingDir(dest)
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return fmt.Errorf("download to %s: %w", dest, err)
	}
	for i := range files {
		if files[i].Size < 0 {
			if size, err := d.headSize(ctx, files[i].URL); err == nil {
				files[i].Size = size
			}
		}
	}

	tr := newTracker(d.Progress, d.ProgressInterval)
	var need int64
	for _, f := range files {
		have := haveBytes(staging, f)
		tr.total += max(f.Size, 0)
		tr.done.Add(have)
		need += max(f.Size, 0) - have
	}
	if err := d.checkFree(staging, need); err != nil {
		return fmt.Errorf("download to %s: %w", dest, err)
	}
	stop := tr.start()
	defer stop()

	var errs []error
	digests := make([]ManifestFile, 0, len(files))
	for _, f := range files {
		mf, err := d.fetchFile(ctx, staging, f, tr)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("download to %s: %w (run again to resume)", dest, ctx.Err())
			}
			if errors.Is(err, ErrDiskFull) {
				return fmt.Errorf("download to %s: %w", dest, err)
			}
			errs = append(errs, err)
			continue
		}
		digests = append(digests, mf)
	}
	if len(errs) > 0 {
		return fmt.Errorf("download to %s: %d of %d files failed (finished files are kept in %s; run again to resume): %w",
			dest, len(errs), len(files), staging, errors.Join(errs...))
	}
	if m != nil {
		m.Files = digests
		if err := m.Write(staging); err != nil {
			return fmt.Errorf("download to %s: %w", dest, err)
		}
	}
	if err := os.Rename(staging, dest); err != nil {
		return fmt.Errorf("download to %s: move into place: %w", dest, err)
	}
	tr.emit(Progress{Phase: PhaseDone, Message: "complete"})
	return nil
}

// haveBytes is how much of f an earlier run already left in staging.
func haveBytes(staging string, f FileSpec) int64 {
	final := filepath.Join(staging, filepath.FromSlash(f.Path))
	if st, err := os.Stat(final); err == nil && st.Size() == f.Size {
		return f.Size
	}
	st, err := loadPartState(final+partStateSuffix, f)
	if err != nil {
		return 0
	}
	return st.done()
}

func (d *Downloader) checkFree(dir string, need int64) error {
	free := d.FreeSpace
	if free == nil {
		free = freeSpace
	}
	avail, err := free(dir)
	if err != nil {
		return nil // unknown: the write itself reports a full disk
	}
	const margin = 64 << 20
	if uint64(need)+margin > avail {
		return fmt.Errorf("%w: %s needed (plus %s margin), %s free in %s", ErrDiskFull,
			FormatBytes(need), FormatBytes(margin), FormatBytes(int64(avail)), dir)
	}
	return nil
}

// headSize asks the server for a file's size.
func (d *Downloader) headSize(ctx context.Context, url string) (int64, error) {
	req, err := d.request(ctx, http.MethodHead, url)
	if err != nil {
		return -1, err
	}
	resp, err := d.client().Do(req)
	if err != nil {
		return -1, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength < 0 {
		return -1, fmt.Errorf("HEAD %s: HTTP %d", redactURL(url), resp.StatusCode)
	}
	if n, err := strconv.ParseInt(resp.Header.Get("X-Linked-Size"), 10, 64); err == nil {
		return n, nil
	}
	return resp.ContentLength, nil
}

func (d *Downloader) request(ctx context.Context, method, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	if d.Token != "" && d.TokenHost != "" && req.URL.Host == d.TokenHost {
		req.Header.Set("Authorization", "Bearer "+d.Token)
	}
	ua := d.UserAgent
	if ua == "" {
		ua = "diptych"
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
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

func httpError(resp *http.Response) error {
	he := &HTTPError{URL: resp.Request.URL.String(), Status: resp.StatusCode}
	if msg := resp.Header.Get("X-Error-Message"); msg != "" {
		he.Message = msg
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		var j struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &j) == nil && j.Error != "" {
			he.Message = j.Error
		} else {
			he.Message = strings.TrimSpace(string(body))
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil {
			he.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			he.RetryAfter = time.Until(t)
		}
	}
	return he
}

func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

// verifyFile hashes a complete file and compares it with the expected
// digests; a mismatching file is deleted.
func (d *Downloader) verifyFile(ctx context.Context, p string, f FileSpec, tr *tracker) (ManifestFile, error) {
	tr.emit(Progress{Phase: PhaseVerify, File: f.Path, FileSize: f.Size, Message: "verifying " + f.Path})
	sum, gitSum, size, err := hashFile(ctx, p, f.GitSHA1 != "")
	if err != nil {
		return ManifestFile{}, fmt.Errorf("%s: verify: %w", f.Path, err)
	}
	if f.Size >= 0 && size != f.Size {
		os.Remove(p)
		return ManifestFile{}, fmt.Errorf("%s: size %d, expected %d (file deleted)", f.Path, size, f.Size)
	}
	if f.SHA256 != "" && !strings.EqualFold(sum, f.SHA256) {
		os.Remove(p)
		return ManifestFile{}, &ChecksumError{Path: f.Path, Algorithm: "SHA-256", Want: strings.ToLower(f.SHA256), Got: sum}
	}
	if f.GitSHA1 != "" && !strings.EqualFold(gitSum, f.GitSHA1) {
		os.Remove(p)
		return ManifestFile{}, &ChecksumError{Path: f.Path, Algorithm: "git blob SHA-1", Want: strings.ToLower(f.GitSHA1), Got: gitSum}
	}
	return ManifestFile{Path: f.Path, Size: size, SHA256: sum}, nil
}

// hashFile returns the SHA-256 of a file and, if asked, its git blob id.
func hashFile(ctx context.Context, p string, git bool) (sum, gitSum string, size int64, err error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", "", 0, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return "", "", 0, err
	}
	h := sha256.New()
	var g hash.Hash
	w := io.Writer(h)
	if git {
		g = sha1.New()
		fmt.Fprintf(g, "blob %d\x00", st.Size())
		w = io.MultiWriter(h, g)
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", "", 0, err
		}
		n, rerr := fh.Read(buf)
		w.Write(buf[:n])
		size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", "", 0, rerr
		}
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if g != nil {
		gitSum = hex.EncodeToString(g.Sum(nil))
	}
	return sum, gitSum, size, nil
}

// partState records which bytes of a .part file are written. It is saved
// as JSON next to it so a restarted process resumes.
type partState struct {
	Size    int64       `json:"size"`
	SHA256  string      `json:"sha256,omitempty"`
	GitSHA1 string      `json:"git_sha1,omitempty"`
	Parts   []partRange `json:"parts"`
	path    string      // where it is saved
	noRange bool        // the server ignores Range: one part, always from 0
	mu      sync.Mutex  // guards Parts and saved
	saved   time.Time   // last save
}

// partRange is bytes Start..End (inclusive) of which Done are written.
type partRange struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
	Done  int64 `json:"done"`
	// Finished marks a range of unknown length that reached EOF.
	Finished bool `json:"finished,omitempty"`
}

func newPartState(f FileSpec, conns int, split int64) *partState {
	st := &partState{Size: f.Size, SHA256: f.SHA256, GitSHA1: f.GitSHA1}
	n := 1
	if f.Size >= split && conns > 1 {
		n = conns
	}
	if f.Size < 0 {
		st.Parts = []partRange{{Start: 0, End: -1}}
		return st
	}
	chunk := f.Size / int64(n)
	for i := 0; i < n; i++ {
		s := int64(i) * chunk
		e := s + chunk - 1
		if i == n-1 {
			e = f.Size - 1
		}
		st.Parts = append(st.Parts, partRange{Start: s, End: e})
	}
	return st
}

func loadPartState(p string, f FileSpec) (*partState, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var st partState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("parse %s: %w", p, err)
	}
	if st.Size != f.Size || st.SHA256 != f.SHA256 || st.GitSHA1 != f.GitSHA1 || f.Size < 0 || len(st.Parts) == 0 {
		return nil, fmt.Errorf("%s describes another version of the file", p)
	}
	for _, r := range st.Parts {
		if r.Start < 0 || r.End >= f.Size || r.Done < 0 || r.Done > r.End-r.Start+1 {
			return nil, fmt.Errorf("%s: bad range %+v", p, r)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(p, partStateSuffix) + partSuffix); err != nil {
		return nil, err
	}
	st.path = p
	return &st, nil
}

func (s *partState) done() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, r := range s.Parts {
		n += r.Done
	}
	return n
}

func (s *partState) complete(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.Parts[i]
	if r.End < 0 {
		return r.Finished
	}
	return r.Done == r.End-r.Start+1
}

// next returns the byte range still to fetch for range i, and how many
// bytes it dropped: a file of unknown length or from a server that ignores
// Range is always fetched from the start.
func (s *partState) next(i int) (start, end, dropped int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.Parts[i]
	if r.End < 0 || s.noRange {
		s.Parts[i].Done = 0
		return 0, r.End, r.Done
	}
	return r.Start + r.Done, r.End, 0
}

// advance records n more bytes of range i and saves at most once a second.
func (s *partState) advance(i int, n int64, finished bool) {
	s.mu.Lock()
	s.Parts[i].Done += n
	if finished {
		s.Parts[i].Finished = true
	}
	due := time.Since(s.saved) > time.Second
	s.mu.Unlock()
	if due {
		s.save()
	}
}

// save writes the state atomically. Data is written before the state that
// claims it, so a crash loses at most the bytes since the last save.
func (s *partState) save() {
	if s.path == "" || s.Size < 0 {
		return
	}
	s.mu.Lock()
	b, _ := json.Marshal(s)
	s.saved = time.Now()
	s.mu.Unlock()
	tmp := s.path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, s.path)
	}
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

// start emits download progress on a ticker until the returned func is called.
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
	return func() { close(stop); wg.Wait() }
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

// FormatBytes writes n as "1.2 GB" (decimal units, as the Hub shows sizes).
func FormatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTP"[exp])
}

// redactURL drops the query (signed CDN URLs carry credentials there).
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
