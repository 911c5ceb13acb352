package models

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fault makes the fake Hub misbehave for one file. Counters are consumed
// one request at a time.
type fault struct {
	statuses  []int         // answer the next requests with these statuses
	dropAfter []int64       // on the next requests, close the connection after this many body bytes
	stall     []int64       // on the next requests, stop sending after this many bytes and hang
	corrupt   bool          // flip one byte of every answer
	noRange   bool          // ignore Range and answer 200 with the whole file
	retryAt   time.Duration // Retry-After for 429
}

// fakeHub behaves like the Hub API and its CDN: tree listing with
// pagination, revision lookup, resolve URLs that redirect LFS files to a
// second server, Range requests, tokens for gated repositories.
type fakeHub struct {
	t        *testing.T
	api, cdn *httptest.Server
	repo     string
	commit   string
	files    map[string][]byte
	lfs      map[string]bool
	extra    []map[string]any // raw listing entries added as is (for malicious names)
	gated    bool
	token    string
	pageSize int

	mu        sync.Mutex
	faults    map[string]*fault
	requests  []string // "METHOD path range" of file requests
	cdnAuth   []string // Authorization headers the CDN saw
	served    map[string]int64
	listCalls int
	listFail  []int // statuses for the next listing requests
}

func newFakeHub(t *testing.T, files map[string][]byte) *fakeHub {
	h := &fakeHub{t: t, repo: "acme/model", commit: strings.Repeat("ab", 20), files: files,
		lfs: map[string]bool{}, faults: map[string]*fault{}, served: map[string]int64{}, pageSize: 2}
	for p, b := range files {
		if len(b) >= 1024 {
			h.lfs[p] = true
		}
	}
	h.cdn = httptest.NewServer(http.HandlerFunc(h.serveCDN))
	h.api = httptest.NewServer(http.HandlerFunc(h.serveAPI))
	t.Cleanup(h.api.Close)
	t.Cleanup(h.cdn.Close)
	return h
}

func (h *fakeHub) hub() *Hub {
	return &Hub{Endpoint: h.api.URL, Token: h.token, Backoff: func(int) time.Duration { return time.Millisecond }}
}

func (h *fakeHub) fault(path string) *fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.faults[path]
	if f == nil {
		f = &fault{}
		h.faults[path] = f
	}
	return f
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gitSHA1(b []byte) string {
	g := sha1.New()
	fmt.Fprintf(g, "blob %d\x00", len(b))
	g.Write(b)
	return hex.EncodeToString(g.Sum(nil))
}

func (h *fakeHub) authorized(r *http.Request) bool {
	return !h.gated || r.Header.Get("Authorization") == "Bearer "+h.token && h.token != ""
}

func (h *fakeHub) serveAPI(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	treePrefix := "/api/models/" + h.repo + "/tree/"
	revPrefix := "/api/models/" + h.repo + "/revision/"
	resolvePrefix := "/" + h.repo + "/resolve/"
	switch {
	case strings.HasPrefix(p, "/api/models/") && !strings.HasPrefix(p, "/api/models/"+h.repo+"/"):
		w.Header().Set("X-Error-Message", "Repository not found")
		http.Error(w, `{"error":"Repository not found"}`, http.StatusNotFound)
	case !h.authorized(r):
		w.Header().Set("X-Error-Message", "Access to model "+h.repo+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		w.WriteHeader(http.StatusUnauthorized)
	case strings.HasPrefix(p, revPrefix):
		rev := strings.TrimPrefix(p, revPrefix)
		if rev != "main" && rev != h.commit {
			http.Error(w, `{"error":"Invalid rev id: `+rev+`"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": h.repo, "sha": h.commit})
	case strings.HasPrefix(p, treePrefix):
		h.serveTree(w, r, strings.TrimPrefix(p, treePrefix))
	case strings.HasPrefix(p, resolvePrefix):
		rest := strings.TrimPrefix(p, resolvePrefix)
		rev, file, _ := strings.Cut(rest, "/")
		if rev != "main" && rev != h.commit {
			http.Error(w, "Revision Not Found", http.StatusNotFound)
			return
		}
		if _, ok := h.files[file]; !ok {
			w.Header().Set("X-Error-Code", "EntryNotFound")
			http.Error(w, "Entry not found", http.StatusNotFound)
			return
		}
		if h.lfs[file] {
			// Like the Hub: a redirect to a signed CDN URL on another host.
			http.Redirect(w, r, h.cdn.URL+"/blobs/"+file+"?X-Amz-Signature=secret", http.StatusFound)
			return
		}
		h.serveFile(w, r, file)
	default:
		http.NotFound(w, r)
	}
}

func (h *fakeHub) serveTree(w http.ResponseWriter, r *http.Request, rev string) {
	h.mu.Lock()
	h.listCalls++
	var fail int
	if len(h.listFail) > 0 {
		fail, h.listFail = h.listFail[0], h.listFail[1:]
	}
	h.mu.Unlock()
	if fail != 0 {
		if fail == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(fail)
		return
	}
	if rev != "main" && rev != h.commit {
		http.Error(w, `{"error":"Invalid rev id"}`, http.StatusNotFound)
		return
	}
	var entries []map[string]any
	var paths []string
	for p := range h.files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	dirs := map[string]bool{}
	for _, p := range paths {
		b := h.files[p]
		if i := strings.LastIndexByte(p, '/'); i > 0 && !dirs[p[:i]] {
			dirs[p[:i]] = true
			entries = append(entries, map[string]any{"type": "directory", "oid": "0", "size": 0, "path": p[:i]})
		}
		e := map[string]any{"type": "file", "oid": gitSHA1(b), "size": len(b), "path": p}
		if h.lfs[p] {
			e["oid"] = gitSHA1([]byte("pointer " + p))
			e["lfs"] = map[string]any{"oid": sha256hex(b), "size": len(b), "pointerSize": 134}
		}
		entries = append(entries, e)
	}
	entries = append(entries, h.extra...)
	start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
	end := min(start+h.pageSize, len(entries))
	if end < len(entries) {
		w.Header().Set("Link", fmt.Sprintf(`<%s%s?recursive=true&cursor=%d>; rel="next"`, h.api.URL, r.URL.Path, end))
	}
	json.NewEncoder(w).Encode(entries[start:end])
}

func (h *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.cdnAuth = append(h.cdnAuth, r.Header.Get("Authorization"))
	h.mu.Unlock()
	if r.URL.Query().Get("X-Amz-Signature") != "secret" {
		http.Error(w, "AccessDenied", http.StatusForbidden)
		return
	}
	h.serveFile(w, r, strings.TrimPrefix(r.URL.Path, "/blobs/"))
}

// serveFile answers a file request, honouring Range and the file's faults.
func (h *fakeHub) serveFile(w http.ResponseWriter, r *http.Request, file string) {
	data, ok := h.files[file]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.mu.Lock()
	h.requests = append(h.requests, r.Method+" "+file+" "+r.Header.Get("Range"))
	f := h.faults[file]
	var status int
	drop, stall := int64(-1), int64(-1)
	var corrupt, noRange bool
	var retryAt time.Duration
	if f != nil && r.Method != http.MethodHead {
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		if status == 0 && len(f.dropAfter) > 0 {
			drop, f.dropAfter = f.dropAfter[0], f.dropAfter[1:]
		}
		if status == 0 && drop < 0 && len(f.stall) > 0 {
			stall, f.stall = f.stall[0], f.stall[1:]
		}
		corrupt, noRange, retryAt = f.corrupt, f.noRange, f.retryAt
	}
	h.mu.Unlock()
	if status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", strconv.Itoa(int(retryAt/time.Second)))
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	if corrupt {
		data = append([]byte(nil), data...)
		data[len(data)/2] ^= 0xff
	}
	start, end := int64(0), int64(len(data))-1
	code := http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" && !noRange {
		var s, e int64
		if _, err := fmt.Sscanf(rg, "bytes=%d-%d", &s, &e); err != nil || s > e || e >= int64(len(data)) {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		start, end, code = s, e, http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", s, e, len(data)))
	}
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	body := data[start : end+1]
	cut := int64(len(body))
	if drop >= 0 {
		cut = min(cut, drop)
	}
	if stall >= 0 {
		cut = min(cut, stall)
	}
	w.Write(body[:cut])
	h.mu.Lock()
	h.served[file] += cut
	h.mu.Unlock()
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	switch {
	case drop >= 0 && cut < int64(len(body)):
		panic(http.ErrAbortHandler) // the server closes the connection mid-body
	case stall >= 0 && cut < int64(len(body)):
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		panic(http.ErrAbortHandler)
	}
}

func (h *fakeHub) fileRequests(file string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.requests {
		if strings.Fields(r)[1] == file {
			out = append(out, r)
		}
	}
	return out
}

func (h *fakeHub) servedBytes(file string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.served[file]
}

// testBytes returns n deterministic pseudo-random bytes.
func testBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
