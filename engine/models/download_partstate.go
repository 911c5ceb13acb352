package models

// The .part.json state that records which byte ranges of a .part file are
// written, so a restarted process resumes where the last one stopped.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// partSuffix marks a file that is still being downloaded; partStateSuffix
// is its JSON state (which byte ranges are done), kept across restarts.
const (
	partSuffix      = ".part"
	partStateSuffix = ".part.json"
	stagingSuffix   = ".partial"
)

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
