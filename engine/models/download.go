package models

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"diptych/engine/format"
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
	stop() // no ticker event after "done"
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
			format.Bytes(need), format.Bytes(margin), format.Bytes(int64(avail)), dir)
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
