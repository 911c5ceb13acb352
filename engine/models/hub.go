package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
)

// DefaultEndpoint is the Hugging Face Hub.
const DefaultEndpoint = "https://huggingface.co"

// Hub talks to the Hugging Face Hub's public HTTP API.
type Hub struct {
	// Endpoint is the Hub's base URL, without a trailing slash.
	Endpoint string
	// Token is sent as a bearer token to the Endpoint host only.
	Token  string
	Client *http.Client
	// MaxRetries for listing requests that fail with 429 or 5xx (default 4).
	MaxRetries int
	// Backoff returns the pause before retry n (default 1 s, 2 s, 4 s, ...).
	Backoff func(n int) time.Duration
}

// NewHub returns a Hub configured from HF_ENDPOINT and HF_TOKEN (also
// HUGGING_FACE_HUB_TOKEN), as the official clients are.
func NewHub() *Hub {
	h := &Hub{Endpoint: DefaultEndpoint}
	if e := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"); e != "" {
		h.Endpoint = e
	}
	h.Token = os.Getenv("HF_TOKEN")
	if h.Token == "" {
		h.Token = os.Getenv("HUGGING_FACE_HUB_TOKEN")
	}
	return h
}

// RemoteFile is one file of a Hub repository listing.
type RemoteFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	// SHA256 is the LFS object id, "" for files kept in git itself.
	SHA256 string `json:"sha256,omitempty"`
	// GitSHA1 is the git blob id (the listing's "oid").
	GitSHA1 string `json:"git_sha1,omitempty"`
}

var repoRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ParseRepo splits "owner/name[@revision]"; the revision defaults to "main".
func ParseRepo(s string) (repo, revision string, err error) {
	repo, revision, _ = strings.Cut(s, "@")
	if revision == "" {
		revision = "main"
	}
	if !repoRe.MatchString(repo) || strings.Contains(repo, "..") {
		return "", "", fmt.Errorf("bad repository %q: expected OWNER/NAME[@REVISION]", s)
	}
	if strings.ContainsAny(revision, " \\") || strings.Contains(revision, "..") {
		return "", "", fmt.Errorf("bad revision %q in %q", revision, s)
	}
	return repo, revision, nil
}

func (h *Hub) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

func (h *Hub) endpoint() string {
	if h.Endpoint == "" {
		return DefaultEndpoint
	}
	return strings.TrimRight(h.Endpoint, "/")
}

// Host is the host:port of the endpoint (where the token may be sent).
func (h *Hub) Host() string {
	u, err := url.Parse(h.endpoint())
	if err != nil {
		return ""
	}
	return u.Host
}

// ResolveURL is the download URL of a file; the Hub answers it with a
// redirect to its CDN for large files.
func (h *Hub) ResolveURL(repo, revision, file string) string {
	var segs []string
	for _, s := range strings.Split(file, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	return fmt.Sprintf("%s/%s/resolve/%s/%s", h.endpoint(), repo, url.PathEscape(revision), strings.Join(segs, "/"))
}

// Commit resolves a revision (branch, tag or commit) to its commit id.
func (h *Hub) Commit(ctx context.Context, repo, revision string) (string, error) {
	var info struct {
		SHA string `json:"sha"`
	}
	u := fmt.Sprintf("%s/api/models/%s/revision/%s", h.endpoint(), repo, url.PathEscape(revision))
	if _, err := h.getJSON(ctx, u, &info); err != nil {
		return "", fmt.Errorf("resolve %s@%s: %w", repo, revision, err)
	}
	if info.SHA == "" {
		return "", fmt.Errorf("resolve %s@%s: the Hub returned no commit id", repo, revision)
	}
	return info.SHA, nil
}

// List returns every file of a repository at a revision, with sizes and
// digests, following the listing's pagination. A listing with a path that
// is absolute or escapes the repository is rejected as a whole.
func (h *Hub) List(ctx context.Context, repo, revision string) ([]RemoteFile, error) {
	next := fmt.Sprintf("%s/api/models/%s/tree/%s?recursive=true", h.endpoint(), repo, url.PathEscape(revision))
	var files []RemoteFile
	for page := 0; next != ""; page++ {
		if page > 1000 {
			return nil, fmt.Errorf("list %s@%s: too many pages", repo, revision)
		}
		var entries []struct {
			Type string `json:"type"`
			Path string `json:"path"`
			Size int64  `json:"size"`
			OID  string `json:"oid"`
			LFS  *struct {
				OID  string `json:"oid"`
				Size int64  `json:"size"`
			} `json:"lfs"`
		}
		resp, err := h.getJSON(ctx, next, &entries)
		if err != nil {
			return nil, fmt.Errorf("list %s@%s: %w", repo, revision, err)
		}
		for _, e := range entries {
			if e.Type != "file" {
				continue
			}
			if err := CheckPath(e.Path); err != nil {
				return nil, fmt.Errorf("list %s@%s: %w", repo, revision, err)
			}
			f := RemoteFile{Path: e.Path, Size: e.Size, GitSHA1: e.OID}
			if e.LFS != nil {
				f.SHA256 = strings.TrimPrefix(e.LFS.OID, "sha256:")
				if e.LFS.Size > 0 {
					f.Size = e.LFS.Size
				}
			}
			if e.Size < 0 {
				return nil, fmt.Errorf("list %s@%s: %s has negative size %d", repo, revision, e.Path, e.Size)
			}
			files = append(files, f)
		}
		next, err = nextLink(resp.Header.Get("Link"), resp.Request.URL)
		if err != nil {
			return nil, fmt.Errorf("list %s@%s: %w", repo, revision, err)
		}
		if next != "" {
			if u, _ := url.Parse(next); u == nil || u.Host != h.Host() {
				return nil, fmt.Errorf("list %s@%s: pagination link %q leaves %s", repo, revision, next, h.Host())
			}
		}
	}
	return files, nil
}

var linkRe = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

func nextLink(h string, base *url.URL) (string, error) {
	m := linkRe.FindStringSubmatch(h)
	if m == nil {
		return "", nil
	}
	u, err := base.Parse(m[1])
	if err != nil {
		return "", fmt.Errorf("bad Link header %q: %w", h, err)
	}
	return u.String(), nil
}

// getJSON fetches u into v, retrying 429 and 5xx answers.
func (h *Hub) getJSON(ctx context.Context, u string, v any) (*http.Response, error) {
	retries := h.MaxRetries
	if retries <= 0 {
		retries = 4
	}
	for try := 0; ; try++ {
		resp, err := h.getOnce(ctx, u, v)
		if err == nil {
			return resp, nil
		}
		var he *HTTPError
		if ctx.Err() != nil || try >= retries || (errors.As(err, &he) && !he.retryable()) {
			return nil, err
		}
		wait := time.Second << min(try, 5)
		if h.Backoff != nil {
			wait = h.Backoff(try + 1)
		}
		if he != nil && he.RetryAfter > 0 {
			wait = min(he.RetryAfter, 2*time.Minute)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func (h *Hub) getOnce(ctx context.Context, u string, v any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "diptych")
	if h.Token != "" && req.URL.Host == h.Host() {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	resp, err := h.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, httpError(resp)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("GET %s: bad JSON: %w", redactURL(u), err)
	}
	return resp, nil
}

// Downloader returns a Downloader that sends the Hub token to the Hub host.
func (h *Hub) Downloader() *Downloader {
	return &Downloader{Token: h.Token, TokenHost: h.Host()}
}

// FileSpecs turns listed files into download specs.
func (h *Hub) FileSpecs(repo, revision string, files []RemoteFile) []FileSpec {
	out := make([]FileSpec, 0, len(files))
	for _, f := range files {
		spec := FileSpec{Path: f.Path, URL: h.ResolveURL(repo, revision, f.Path), Size: f.Size, SHA256: f.SHA256}
		if f.SHA256 == "" {
			spec.GitSHA1 = f.GitSHA1
		}
		out = append(out, spec)
	}
	return out
}

// globRe turns an fnmatch pattern (as `hf download --include` takes) into a
// regexp: '*' matches any run of characters including '/', '?' one
// character, '[...]' a class.
func globRe(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				return nil, fmt.Errorf("bad pattern %q: unclosed [", pattern)
			}
			class := pattern[i+1 : i+1+j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// FilterFiles keeps the files whose path matches any of the patterns (all
// files when there are none).
func FilterFiles(files []RemoteFile, patterns []string) ([]RemoteFile, error) {
	if len(patterns) == 0 {
		return files, nil
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		re, err := globRe(p)
		if err != nil {
			return nil, err
		}
		res = append(res, re)
	}
	var out []RemoteFile
	for _, f := range files {
		for _, re := range res {
			if re.MatchString(f.Path) {
				out = append(out, f)
				break
			}
		}
	}
	return out, nil
}
