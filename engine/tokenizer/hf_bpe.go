package tokenizer

// The BPE model: vocabulary and merge ranks, the per-word cache, and merging
// a word's symbols by rank with a priority queue.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

type bpeModel struct {
	merges       map[uint64]bpeMerge // (left id, right id) → merge
	byteFallback bool
	ignoreMerges bool
	unk          int // -1: unknown characters are dropped
	fuseUnk      bool
	prefix       string // continuing_subword_prefix
	suffix       string // end_of_word_suffix
	byteIDs      [256]int
	cache        *bpeCache
}

type bpeMerge struct {
	rank, id int32
}

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (h *HF) buildModel(m *hfModel) error {
	if m.Type != "" && m.Type != "BPE" {
		return fmt.Errorf("model.type %q is not supported (want \"BPE\")", m.Type)
	}
	if m.Vocab == nil {
		return errors.New("model.vocab is missing")
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return fmt.Errorf("model.dropout %v is not supported (want null)", *m.Dropout)
	}
	maxID := -1
	for tok, id := range m.Vocab {
		if id < 0 {
			return fmt.Errorf("model.vocab[%q] = %d: ids must not be negative", tok, id)
		}
		maxID = max(maxID, id)
	}
	h.tokens = make([]string, maxID+1)
	for tok, id := range m.Vocab {
		h.tokens[id] = tok
	}
	bm := &h.model
	bm.unk = -1
	if m.UnkToken != nil {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return fmt.Errorf("model.unk_token %q is not in model.vocab", *m.UnkToken)
		}
		bm.unk = id
	}
	bm.byteFallback, bm.ignoreMerges, bm.fuseUnk = m.ByteFallback, m.IgnoreMerges, m.FuseUnk
	if m.ContinuingSubwordPrefix != nil {
		bm.prefix = *m.ContinuingSubwordPrefix
	}
	if m.EndOfWordSuffix != nil {
		bm.suffix = *m.EndOfWordSuffix
	}
	for b := range bm.byteIDs {
		bm.byteIDs[b] = -1
		if id, ok := m.Vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			bm.byteIDs[b] = id
		}
	}
	bm.merges = make(map[uint64]bpeMerge, len(m.Merges))
	for rank, mg := range m.Merges {
		if !mg.valid {
			return fmt.Errorf("model.merges[%d]: expected \"a b\" or [\"a\", \"b\"]", rank)
		}
		a, okA := m.Vocab[mg.a]
		b, okB := m.Vocab[mg.b]
		merged := mg.a + strings.TrimPrefix(mg.b, bm.prefix)
		id, okC := m.Vocab[merged]
		if !okA || !okB || !okC {
			return fmt.Errorf("model.merges[%d] %q + %q: token not in model.vocab", rank, mg.a, mg.b)
		}
		k := pairKey(a, b)
		if _, dup := bm.merges[k]; !dup {
			bm.merges[k] = bpeMerge{rank: int32(rank), id: int32(id)}
		}
	}
	bm.cache = &bpeCache{m: make(map[string][]int)}
	return nil
}

// bpeCacheSize bounds the number of cached words; bpeCacheMaxWord the
// length in bytes of a cached word.
const (
	bpeCacheSize    = 10000
	bpeCacheMaxWord = 256
)

// bpeCache remembers the ids of recently encoded words; it is emptied when
// full.
type bpeCache struct {
	mu sync.RWMutex
	m  map[string][]int
}

func (c *bpeCache) get(w string) ([]int, bool) {
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *bpeCache) put(w string, ids []int) {
	if len(w) > bpeCacheMaxWord {
		return
	}
	c.mu.Lock()
	if len(c.m) >= bpeCacheSize {
		clear(c.m)
	}
	c.m[w] = ids
	c.mu.Unlock()
}

// encodeWord appends the BPE ids of one pre-tokenized piece to dst.
func (h *HF) encodeWord(dst []int, w string) []int {
	bm := &h.model
	if ids, ok := bm.cache.get(w); ok {
		return append(dst, ids...)
	}
	if bm.ignoreMerges {
		if id, ok := h.vocab[w]; ok {
			bm.cache.put(w, []int{id})
			return append(dst, id)
		}
	}
	syms := h.wordSymbols(w)
	ids := bm.merge(syms)
	bm.cache.put(w, ids)
	return append(dst, ids...)
}

// wordSymbols maps each character of w to its vocabulary id, falling back to
// byte tokens or the unknown token.
func (h *HF) wordSymbols(w string) []int {
	bm := &h.model
	syms := make([]int, 0, len(w))
	lastUnk := false
	for i, r := range w {
		s := string(r)
		if i > 0 && bm.prefix != "" {
			s = bm.prefix + s
		}
		if bm.suffix != "" && i+utf8.RuneLen(r) == len(w) {
			s += bm.suffix
		}
		if id, ok := h.vocab[s]; ok {
			syms = append(syms, id)
			lastUnk = false
			continue
		}
		if bm.byteFallback && h.allBytesKnown(string(r)) {
			for _, b := range []byte(string(r)) {
				syms = append(syms, bm.byteIDs[b])
			}
			lastUnk = false
			continue
		}
		if bm.unk >= 0 {
			if !(bm.fuseUnk && lastUnk) {
				syms = append(syms, bm.unk)
			}
			lastUnk = true
		}
	}
	return syms
}

func (h *HF) allBytesKnown(s string) bool {
	for i := 0; i < len(s); i++ {
		if h.model.byteIDs[s[i]] < 0 {
			return false
		}
	}
	return true
}

// merge applies merges lowest rank first (leftmost among equal ranks), as
// the Rust implementation does, and returns the resulting ids.
func (bm *bpeModel) merge(ids []int) []int {
	n := len(ids)
	if n < 2 {
		return ids
	}
	prev := make([]int, n)
	next := make([]int, n)
	alive := make([]bool, n)
	for i := range ids {
		prev[i], next[i], alive[i] = i-1, i+1, true
	}
	next[n-1] = -1
	var q mergeQueue
	for i := 0; i+1 < n; i++ {
		if m, ok := bm.merges[pairKey(ids[i], ids[i+1])]; ok {
			q.push(mergeCand{rank: m.rank, pos: int32(i), id: m.id})
		}
	}
	for len(q) > 0 {
		c := q.pop()
		p := int(c.pos)
		if !alive[p] || next[p] < 0 {
			continue
		}
		r := next[p]
		if m, ok := bm.merges[pairKey(ids[p], ids[r])]; !ok || m.id != c.id {
			continue
		}
		ids[p] = int(c.id)
		alive[r] = false
		next[p] = next[r]
		if next[r] >= 0 {
			prev[next[r]] = p
		}
		if pp := prev[p]; pp >= 0 {
			if m, ok := bm.merges[pairKey(ids[pp], ids[p])]; ok {
				q.push(mergeCand{rank: m.rank, pos: int32(pp), id: m.id})
			}
		}
		if nn := next[p]; nn >= 0 {
			if m, ok := bm.merges[pairKey(ids[p], ids[nn])]; ok {
				q.push(mergeCand{rank: m.rank, pos: int32(p), id: m.id})
			}
		}
	}
	out := make([]int, 0, n)
	for i := 0; i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	return out
}

type mergeCand struct {
	rank, pos, id int32
}

func (a mergeCand) less(b mergeCand) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// mergeQueue is a binary min-heap of merge candidates.
type mergeQueue []mergeCand

func (q *mergeQueue) push(c mergeCand) {
	*q = append(*q, c)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *mergeQueue) pop() mergeCand {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h) && h[l].less(h[m]) {
			m = l
		}
		if r < len(h) && h[r].less(h[m]) {
			m = r
		}
		if m == i {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
