package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

// HF is a Hugging Face tokenizer.json tokenizer with a BPE model (the
// byte-level flavour used by DeepSeek / Janus-Pro, GPT-2, LLaMA-3 and
// others). It follows the Rust `tokenizers` pipeline: added tokens are cut
// out first, the rest is normalized, pre-tokenized, and encoded by BPE; the
// post-processor (or tokenizer_config.json's add_bos_token / add_eos_token)
// adds special tokens. An HF is safe for concurrent use.
type HF struct {
	tokens  []string       // id → token text ("" where no token has the id)
	vocab   map[string]int // model vocabulary
	added   map[string]int // added token content → id
	special map[int]bool   // ids of added tokens marked "special"

	model bpeModel

	// Added tokens with normalized=false are matched on the raw text, the
	// others on the normalized text of what is left.
	rawTokens, normTokens *tokenTrie
	addedInfo             []addedToken

	normalize   func(string) string // nil: none
	preTokenize []func([]string) []string

	prefix, suffix []int // ids the post-processor puts around a sequence

	decoders []func([]string) []string // nil: tokens joined by spaces
	cleanup  bool                      // clean_up_tokenization_spaces

	bos, eos, pad int // -1 when unknown
}

// hfFile is the subset of tokenizer.json that HF reads.
type hfFile struct {
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         hfModel         `json:"model"`
	Padding       *struct {
		PadID    *int   `json:"pad_id"`
		PadToken string `json:"pad_token"`
	} `json:"padding"`
}

type hfModel struct {
	Type                    string         `json:"type"`
	Vocab                   map[string]int `json:"vocab"`
	Merges                  []hfMerge      `json:"merges"`
	ByteFallback            bool           `json:"byte_fallback"`
	IgnoreMerges            bool           `json:"ignore_merges"`
	UnkToken                *string        `json:"unk_token"`
	FuseUnk                 bool           `json:"fuse_unk"`
	ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string        `json:"end_of_word_suffix"`
	Dropout                 *float64       `json:"dropout"`
}

// hfMerge is one merge rule, written either "a b" or ["a", "b"].
type hfMerge struct {
	a, b  string
	valid bool
}

// UnmarshalJSON accepts both merge forms; a malformed rule leaves valid false.
func (m *hfMerge) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if bytes.IndexByte(data, '\\') < 0 && len(data) >= 2 {
			s = string(data[1 : len(data)-1])
		} else if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		parts := strings.Split(s, " ")
		if len(parts) == 2 {
			m.a, m.b, m.valid = parts[0], parts[1], true
		}
		return nil
	}
	var pair []string
	if err := json.Unmarshal(data, &pair); err != nil {
		return err
	}
	if len(pair) == 2 {
		m.a, m.b, m.valid = pair[0], pair[1], true
	}
	return nil
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// hfConfig is the subset of tokenizer_config.json that HF reads.
type hfConfig struct {
	AddBOS  *bool             `json:"add_bos_token"`
	AddEOS  *bool             `json:"add_eos_token"`
	BOS     json.RawMessage   `json:"bos_token"`
	EOS     json.RawMessage   `json:"eos_token"`
	Pad     json.RawMessage   `json:"pad_token"`
	Unk     json.RawMessage   `json:"unk_token"`
	Extra   []json.RawMessage `json:"additional_special_tokens"`
	Cleanup *bool             `json:"clean_up_tokenization_spaces"`
	Class   string            `json:"tokenizer_class"`
}

// llamaClasses are the transformers tokenizer classes that rebuild the
// post-processor from add_bos_token (default true) and add_eos_token
// (default false).
var llamaClasses = map[string]bool{
	"LlamaTokenizer": true, "LlamaTokenizerFast": true,
	"CodeLlamaTokenizer": true, "CodeLlamaTokenizerFast": true,
	"GemmaTokenizer": true, "GemmaTokenizerFast": true,
}

// LoadHF reads a tokenizer.json file, or the tokenizer.json inside the folder
// path. A tokenizer_config.json beside it, when present, supplies the bos /
// eos / pad tokens, clean_up_tokenization_spaces and, as Python transformers
// does for the Llama-family tokenizer_class values (Janus and DeepSeek use
// LlamaTokenizer[Fast]), add_bos_token (default true) and add_eos_token
// (default false), which then replace the file's post-processor. Without a
// tokenizer_class, explicit add_bos_token / add_eos_token are honoured too;
// other classes ignore them, like transformers.
func LoadHF(path string) (*HF, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	cfgPath := filepath.Join(filepath.Dir(path), "tokenizer_config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("load tokenizer: %w", err)
		}
		cfg = nil
	}
	h, err := parseHF(data, cfg)
	if err != nil {
		var ce configError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("load %s: %w", cfgPath, ce.err)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return h, nil
}

// ParseHF builds a tokenizer from the bytes of a tokenizer.json and,
// optionally (nil to skip), of its tokenizer_config.json.
func ParseHF(tokenizerJSON, configJSON []byte) (*HF, error) {
	h, err := parseHF(tokenizerJSON, configJSON)
	if err != nil {
		var ce configError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("tokenizer_config.json: %w", ce.err)
		}
		return nil, err
	}
	return h, nil
}

// configError marks a problem in tokenizer_config.json rather than tokenizer.json.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

func parseHF(data, cfgData []byte) (*HF, error) {
	var f hfFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(err)
	}
	var cfg hfConfig
	if cfgData != nil {
		if err := json.Unmarshal(cfgData, &cfg); err != nil {
			return nil, configError{jsonError(err)}
		}
	}
	h := &HF{
		vocab:   f.Model.Vocab,
		added:   make(map[string]int, len(f.AddedTokens)),
		special: make(map[int]bool),
		bos:     -1, eos: -1, pad: -1,
	}
	if err := h.buildModel(&f.Model); err != nil {
		return nil, err
	}
	if err := h.buildAdded(f.AddedTokens); err != nil {
		return nil, err
	}
	var err error
	if h.normalize, err = parseNormalizer(f.Normalizer, "normalizer"); err != nil {
		return nil, err
	}
	if err := h.buildTries(); err != nil {
		return nil, err
	}
	if err := h.parsePreTokenizer(f.PreTokenizer, "pre_tokenizer"); err != nil {
		return nil, err
	}
	if h.prefix, h.suffix, err = h.parsePostProcessor(f.PostProcessor, "post_processor"); err != nil {
		return nil, err
	}
	if h.decoders, err = parseDecoder(f.Decoder, "decoder"); err != nil {
		return nil, err
	}
	if len(h.prefix) == 1 {
		h.bos = h.prefix[0]
	}
	if len(h.suffix) == 1 {
		h.eos = h.suffix[0]
	}
	if f.Padding != nil {
		if f.Padding.PadID != nil {
			h.pad = *f.Padding.PadID
		} else if id, ok := h.TokenID(f.Padding.PadToken); ok {
			h.pad = id
		}
	}
	if err := h.applyConfig(&cfg); err != nil {
		return nil, configError{err}
	}
	return h, nil
}

// jsonError describes a JSON decoding error with its byte offset when known.
func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("invalid JSON: field %q holds a %s at byte %d, expected %s", te.Field, te.Value, te.Offset, te.Type)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// applyConfig applies tokenizer_config.json. Its special tokens count as
// special (skipped by Decode), as transformers registers them so.
func (h *HF) applyConfig(cfg *hfConfig) error {
	var unk int
	type named struct {
		raw   json.RawMessage
		dst   *int
		field string
	}
	list := []named{{cfg.BOS, &h.bos, "bos_token"}, {cfg.EOS, &h.eos, "eos_token"}, {cfg.Pad, &h.pad, "pad_token"}, {cfg.Unk, &unk, "unk_token"}}
	for i, raw := range cfg.Extra {
		list = append(list, named{raw, new(int), fmt.Sprintf("additional_special_tokens[%d]", i)})
	}
	for _, t := range list {
		content, err := configToken(t.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", t.field, err)
		}
		if content == "" {
			continue
		}
		id, ok := h.TokenID(content)
		if !ok {
			return fmt.Errorf("%s %q is not in the vocabulary", t.field, content)
		}
		*t.dst = id
		h.special[id] = true
	}
	addBOS, addEOS := cfg.AddBOS, cfg.AddEOS
	override := cfg.Class == "" && (addBOS != nil || addEOS != nil)
	if llamaClasses[cfg.Class] {
		override = true
		if addBOS == nil {
			addBOS = new(true)
		}
	}
	if override {
		h.prefix, h.suffix = nil, nil
		if addBOS != nil && *addBOS {
			if h.bos < 0 {
				return errors.New("add_bos_token is true but bos_token is not set")
			}
			h.prefix = []int{h.bos}
		}
		if addEOS != nil && *addEOS {
			if h.eos < 0 {
				return errors.New("add_eos_token is true but eos_token is not set")
			}
			h.suffix = []int{h.eos}
		}
	}
	if cfg.Cleanup != nil {
		h.cleanup = *cfg.Cleanup
	}
	return nil
}

// configToken reads a special token written as "text", {"content": "text"} or null.
func configToken(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if raw[0] == '"' {
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("expected a string or an object with \"content\": %w", err)
	}
	return obj.Content, nil
}

// ---- BPE model ----

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

// ---- added tokens ----

func (h *HF) buildAdded(list []addedToken) error {
	h.addedInfo = list
	for i, t := range list {
		if t.ID < 0 {
			return fmt.Errorf("added_tokens[%d] %q: id %d is negative", i, t.Content, t.ID)
		}
		if t.Content == "" {
			return fmt.Errorf("added_tokens[%d]: content is empty", i)
		}
		for t.ID >= len(h.tokens) {
			h.tokens = append(h.tokens, "")
		}
		h.tokens[t.ID] = t.Content
		h.added[t.Content] = t.ID
		if t.Special {
			h.special[t.ID] = true
		}
	}
	return nil
}

// tokenTrie finds the longest added token starting at a position.
type tokenTrie struct {
	nodes []trieNode
}

type trieNode struct {
	next map[byte]int32
	tok  int32 // index into HF.addedInfo, -1 if none ends here
}

func (t *tokenTrie) insert(s string, tok int) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{tok: -1})
	}
	n := int32(0)
	for i := 0; i < len(s); i++ {
		nx, ok := t.nodes[n].next[s[i]]
		if !ok {
			if t.nodes[n].next == nil {
				t.nodes[n].next = make(map[byte]int32)
			}
			nx = int32(len(t.nodes))
			t.nodes[n].next[s[i]] = nx
			t.nodes = append(t.nodes, trieNode{tok: -1})
		}
		n = nx
	}
	t.nodes[n].tok = int32(tok)
}

// longest returns the added token index and end of the longest token that
// starts at s[i:], or -1.
func (t *tokenTrie) longest(s string, i int) (tok, end int) {
	tok = -1
	if t == nil || len(t.nodes) == 0 {
		return -1, 0
	}
	n := int32(0)
	for j := i; j < len(s); j++ {
		nx, ok := t.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = nx
		if t.nodes[n].tok >= 0 {
			tok, end = int(t.nodes[n].tok), j+1
		}
	}
	return tok, end
}

func (h *HF) buildTries() error {
	for i, t := range h.addedInfo {
		if t.Normalized {
			content := t.Content
			if h.normalize != nil {
				content = h.normalize(content)
			}
			if content == "" {
				continue
			}
			if h.normTokens == nil {
				h.normTokens = &tokenTrie{}
			}
			h.normTokens.insert(content, i)
		} else {
			if h.rawTokens == nil {
				h.rawTokens = &tokenTrie{}
			}
			h.rawTokens.insert(t.Content, i)
		}
	}
	return nil
}

// segment is a piece of input text, or an added token's id when id >= 0.
type segment struct {
	text string
	id   int
}

// splitAdded cuts the added tokens of trie out of s, honouring single_word,
// lstrip and rstrip the way the Rust AddedVocabulary does.
func (h *HF) splitAdded(dst []segment, s string, trie *tokenTrie) []segment {
	if trie == nil {
		return append(dst, segment{s, -1})
	}
	start := 0 // end of the previous emitted piece
	for i := 0; i < len(s); {
		tok, end := trie.longest(s, i)
		if tok < 0 {
			i++
			continue
		}
		t := h.addedInfo[tok]
		mStart, mEnd := i, end
		i = end
		if t.SingleWord && (endsWithWordChar(s[:mStart]) || startsWithWordChar(s[mEnd:])) {
			continue
		}
		if t.LStrip {
			mStart = max(start, len(strings.TrimRightFunc(s[:mStart], unicode.IsSpace)))
		}
		if t.RStrip {
			mEnd = len(s) - len(strings.TrimLeftFunc(s[mEnd:], unicode.IsSpace))
			i = mEnd
		}
		if start < mStart {
			dst = append(dst, segment{s[start:mStart], -1})
		}
		dst = append(dst, segment{"", t.ID})
		start = mEnd
	}
	if start < len(s) {
		dst = append(dst, segment{s[start:], -1})
	}
	return dst
}

func isWordChar(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r) }

func endsWithWordChar(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWordChar(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}

// ---- normalizers ----

// typed reads the "type" of a JSON object; ok is false for null or absent.
func typed(raw json.RawMessage, field string) (typ string, obj map[string]json.RawMessage, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, false, nil
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", nil, false, fmt.Errorf("%s: expected an object: %w", field, err)
	}
	if t, found := obj["type"]; found {
		if err := json.Unmarshal(t, &typ); err != nil {
			return "", nil, false, fmt.Errorf("%s.type: expected a string: %w", field, err)
		}
	}
	return typ, obj, true, nil
}

// field decodes obj[key] into dst; absent keys leave dst unchanged.
func field(obj map[string]json.RawMessage, key, path string, dst any) error {
	raw, ok := obj[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s.%s: %w", path, key, err)
	}
	return nil
}

// listField decodes obj[key] as a JSON array of raw elements.
func listField(obj map[string]json.RawMessage, key, path string) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if err := field(obj, key, path, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// pattern is a Split / Replace pattern: {"String": "..."} or {"Regex": "..."}.
type pattern struct {
	literal string
	re      *regexp2.Regexp
}

func parsePattern(obj map[string]json.RawMessage, path string) (*pattern, error) {
	var p struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := field(obj, "pattern", path, &p); err != nil {
		return nil, err
	}
	switch {
	case p.String != nil:
		if *p.String == "" {
			return nil, fmt.Errorf("%s.pattern.String is empty", path)
		}
		return &pattern{literal: *p.String}, nil
	case p.Regex != nil:
		re, err := regexp2.Compile(*p.Regex, regexp2.None)
		if err != nil {
			return nil, fmt.Errorf("%s.pattern.Regex %q: %w", path, *p.Regex, err)
		}
		return &pattern{re: re}, nil
	}
	return nil, fmt.Errorf("%s.pattern: expected {\"String\": ...} or {\"Regex\": ...}", path)
}

// find returns the byte ranges of the non-overlapping matches in s.
func (p *pattern) find(s string) [][2]int {
	var out [][2]int
	if p.re == nil {
		for i := 0; ; {
			j := strings.Index(s[i:], p.literal)
			if j < 0 {
				return out
			}
			out = append(out, [2]int{i + j, i + j + len(p.literal)})
			i += j + len(p.literal)
		}
	}
	runes := []rune(s)
	var offs []int // rune index → byte offset, built lazily
	m, err := p.re.FindRunesMatch(runes)
	for err == nil && m != nil {
		if offs == nil {
			offs = make([]int, 0, len(runes)+1)
			for i := range s {
				offs = append(offs, i)
			}
			offs = append(offs, len(s))
		}
		out = append(out, [2]int{offs[m.Index], offs[m.Index+m.Length]})
		m, err = p.re.FindNextMatch(m)
	}
	return out
}

func parseNormalizer(raw json.RawMessage, path string) (func(string) string, error) {
	typ, obj, ok, err := typed(raw, path)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "Sequence":
		list, err := listField(obj, "normalizers", path)
		if err != nil {
			return nil, err
		}
		var fns []func(string) string
		for i, r := range list {
			fn, err := parseNormalizer(r, fmt.Sprintf("%s.normalizers[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if fn != nil {
				fns = append(fns, fn)
			}
		}
		if len(fns) == 0 {
			return nil, nil
		}
		return func(s string) string {
			for _, fn := range fns {
				s = fn(s)
			}
			return s
		}, nil
	case "NFC":
		return norm.NFC.String, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Lowercase":
		return lowercase, nil
	case "Prepend":
		var pre string
		if err := field(obj, "prepend", path, &pre); err != nil {
			return nil, err
		}
		return func(s string) string {
			if s == "" {
				return s
			}
			return pre + s
		}, nil
	case "Replace":
		p, err := parsePattern(obj, path)
		if err != nil {
			return nil, err
		}
		var content string
		if err := field(obj, "content", path, &content); err != nil {
			return nil, err
		}
		return func(s string) string { return p.replace(s, content) }, nil
	case "Strip":
		left, right := true, true
		if err := field(obj, "strip_left", path, &left); err != nil {
			return nil, err
		}
		if err := field(obj, "strip_right", path, &right); err != nil {
			return nil, err
		}
		return func(s string) string {
			if left {
				s = strings.TrimLeftFunc(s, unicode.IsSpace)
			}
			if right {
				s = strings.TrimRightFunc(s, unicode.IsSpace)
			}
			return s
		}, nil
	}
	return nil, fmt.Errorf("%s.type %q is not supported (want NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Strip or Sequence)", path, typ)
}

// replace substitutes content (literally) for every match of p in s.
func (p *pattern) replace(s, content string) string {
	if p.re == nil {
		return strings.ReplaceAll(s, p.literal, content)
	}
	var b strings.Builder
	last := 0
	for _, m := range p.find(s) {
		b.WriteString(s[last:m[0]])
		b.WriteString(content)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// lowercase lowercases s with Unicode's full mappings (İ becomes i + U+0307).
func lowercase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == 'İ' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// ---- pre-tokenizers ----

// gpt2Pattern is the ByteLevel pre-tokenizer's regex (use_regex=true).
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

func (h *HF) parsePreTokenizer(raw json.RawMessage, path string) error {
	typ, obj, ok, err := typed(raw, path)
	if err != nil || !ok {
		return err
	}
	switch typ {
	case "Sequence":
		list, err := listField(obj, "pretokenizers", path)
		if err != nil {
			return err
		}
		for i, r := range list {
			if err := h.parsePreTokenizer(r, fmt.Sprintf("%s.pretokenizers[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case "Split":
		p, err := parsePattern(obj, path)
		if err != nil {
			return err
		}
		var behavior string
		invert := false
		if err := field(obj, "behavior", path, &behavior); err != nil {
			return err
		}
		if err := field(obj, "invert", path, &invert); err != nil {
			return err
		}
		switch behavior {
		case "Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous":
		default:
			return fmt.Errorf("%s.behavior %q is not supported (want Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)", path, behavior)
		}
		h.preTokenize = append(h.preTokenize, func(pieces []string) []string {
			return splitPieces(pieces, func(s string) []span { return matchSpans(s, p.find(s), invert) }, behavior)
		})
		return nil
	case "Digits":
		individual := false
		if err := field(obj, "individual_digits", path, &individual); err != nil {
			return err
		}
		behavior := "Contiguous"
		if individual {
			behavior = "Isolated"
		}
		h.preTokenize = append(h.preTokenize, func(pieces []string) []string {
			return splitPieces(pieces, digitSpans, behavior)
		})
		return nil
	case "ByteLevel":
		addPrefix, useRegex := true, true
		if err := field(obj, "add_prefix_space", path, &addPrefix); err != nil {
			return err
		}
		if err := field(obj, "use_regex", path, &useRegex); err != nil {
			return err
		}
		var re *pattern
		if useRegex {
			re = &pattern{re: regexp2.MustCompile(gpt2Pattern, regexp2.None)}
		}
		h.preTokenize = append(h.preTokenize, func(pieces []string) []string {
			if addPrefix {
				for i, s := range pieces {
					if !strings.HasPrefix(s, " ") {
						pieces[i] = " " + s
					}
				}
			}
			if re != nil {
				pieces = splitPieces(pieces, func(s string) []span { return matchSpans(s, re.find(s), false) }, "Isolated")
			}
			for i, s := range pieces {
				pieces[i] = strings.Join(bytesToSymbols(s), "")
			}
			return pieces
		})
		return nil
	}
	return fmt.Errorf("%s.type %q is not supported (want Split, ByteLevel, Digits or Sequence)", path, typ)
}

// span is a byte range of a piece and whether it matched the split pattern.
type span struct {
	start, end int
	match      bool
}

// matchSpans turns match ranges into alternating gap/match spans covering s.
func matchSpans(s string, matches [][2]int, invert bool) []span {
	out := make([]span, 0, 2*len(matches)+1)
	prev := 0
	for _, m := range matches {
		if m[0] > prev {
			out = append(out, span{prev, m[0], invert})
		}
		out = append(out, span{m[0], m[1], !invert})
		prev = m[1]
	}
	if prev < len(s) {
		out = append(out, span{prev, len(s), invert})
	}
	return out
}

// digitSpans marks every numeric character as its own match and keeps each
// run of other characters whole, like the Rust Digits pre-tokenizer's
// split on a character predicate.
func digitSpans(s string) []span {
	var out []span
	for i, r := range s {
		num := unicode.IsNumber(r)
		if n := len(out); !num && n > 0 && !out[n-1].match {
			out[n-1].end = i + utf8.RuneLen(r)
			continue
		}
		out = append(out, span{i, i + utf8.RuneLen(r), num})
	}
	return out
}

// splitPieces splits each piece per the Split behaviour and drops empties.
func splitPieces(pieces []string, spans func(string) []span, behavior string) []string {
	out := make([]string, 0, len(pieces))
	for _, s := range pieces {
		for _, sp := range applyBehavior(spans(s), behavior) {
			if sp.end > sp.start {
				out = append(out, s[sp.start:sp.end])
			}
		}
	}
	return out
}

// applyBehavior merges or removes spans the way the Rust
// SplitDelimiterBehavior does.
func applyBehavior(spans []span, behavior string) []span {
	switch behavior {
	case "Isolated":
		return spans
	case "Removed":
		out := spans[:0:0]
		for _, sp := range spans {
			if !sp.match {
				out = append(out, sp)
			}
		}
		return out
	case "MergedWithPrevious":
		var out []span
		prevMatch := false
		for _, sp := range spans {
			if sp.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		return out
	case "MergedWithNext":
		var rev []span
		prevMatch := false
		for i := len(spans) - 1; i >= 0; i-- {
			sp := spans[i]
			if sp.match && !prevMatch && len(rev) > 0 {
				rev[len(rev)-1].start = sp.start
			} else {
				rev = append(rev, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		return rev
	case "Contiguous":
		var out []span
		prevMatch := false
		for i, sp := range spans {
			if i > 0 && sp.match == prevMatch {
				out[len(out)-1].end = sp.end
			} else {
				out = append(out, span{sp.start, sp.end, false})
			}
			prevMatch = sp.match
		}
		return out
	}
	return spans
}

// ---- post-processors ----

func (h *HF) parsePostProcessor(raw json.RawMessage, path string) (prefix, suffix []int, err error) {
	typ, obj, ok, err := typed(raw, path)
	if err != nil || !ok {
		return nil, nil, err
	}
	switch typ {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		list, err := listField(obj, "processors", path)
		if err != nil {
			return nil, nil, err
		}
		for i, r := range list {
			p, s, err := h.parsePostProcessor(r, fmt.Sprintf("%s.processors[%d]", path, i))
			if err != nil {
				return nil, nil, err
			}
			prefix = append(p, prefix...)
			suffix = append(suffix, s...)
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		var single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		}
		var specials map[string]struct {
			IDs []int `json:"ids"`
		}
		if err := field(obj, "single", path, &single); err != nil {
			return nil, nil, err
		}
		if err := field(obj, "special_tokens", path, &specials); err != nil {
			return nil, nil, err
		}
		seen := false
		for i, piece := range single {
			switch {
			case piece.Sequence != nil:
				if seen {
					return nil, nil, fmt.Errorf("%s.single[%d]: more than one sequence", path, i)
				}
				seen = true
			case piece.SpecialToken != nil:
				sp, ok := specials[piece.SpecialToken.ID]
				if !ok {
					return nil, nil, fmt.Errorf("%s.single[%d]: special token %q missing from special_tokens", path, i, piece.SpecialToken.ID)
				}
				if seen {
					suffix = append(suffix, sp.IDs...)
				} else {
					prefix = append(prefix, sp.IDs...)
				}
			default:
				return nil, nil, fmt.Errorf("%s.single[%d]: expected SpecialToken or Sequence", path, i)
			}
		}
		if !seen {
			return nil, nil, fmt.Errorf("%s.single: no Sequence entry", path)
		}
		return prefix, suffix, nil
	case "BertProcessing", "RobertaProcessing":
		var cls, sep [2]json.RawMessage
		if err := field(obj, "cls", path, &cls); err != nil {
			return nil, nil, err
		}
		if err := field(obj, "sep", path, &sep); err != nil {
			return nil, nil, err
		}
		var clsID, sepID int
		if err := json.Unmarshal(cls[1], &clsID); err != nil {
			return nil, nil, fmt.Errorf("%s.cls: expected [token, id]: %w", path, err)
		}
		if err := json.Unmarshal(sep[1], &sepID); err != nil {
			return nil, nil, fmt.Errorf("%s.sep: expected [token, id]: %w", path, err)
		}
		return []int{clsID}, []int{sepID}, nil
	}
	return nil, nil, fmt.Errorf("%s.type %q is not supported (want TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing or Sequence)", path, typ)
}

// ---- decoders ----

func parseDecoder(raw json.RawMessage, path string) ([]func([]string) []string, error) {
	typ, obj, ok, err := typed(raw, path)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "Sequence":
		list, err := listField(obj, "decoders", path)
		if err != nil {
			return nil, err
		}
		out := []func([]string) []string{}
		for i, r := range list {
			d, err := parseDecoder(r, fmt.Sprintf("%s.decoders[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, d...)
		}
		return out, nil
	case "ByteLevel":
		return []func([]string) []string{decodeByteLevel}, nil
	case "ByteFallback":
		return []func([]string) []string{decodeByteFallback}, nil
	case "Fuse":
		return []func([]string) []string{func(toks []string) []string { return []string{strings.Join(toks, "")} }}, nil
	case "Replace":
		p, err := parsePattern(obj, path)
		if err != nil {
			return nil, err
		}
		var content string
		if err := field(obj, "content", path, &content); err != nil {
			return nil, err
		}
		return []func([]string) []string{func(toks []string) []string {
			for i, t := range toks {
				toks[i] = p.replace(t, content)
			}
			return toks
		}}, nil
	case "Strip":
		var content string
		var start, stop int
		if err := field(obj, "content", path, &content); err != nil {
			return nil, err
		}
		if err := field(obj, "start", path, &start); err != nil {
			return nil, err
		}
		if err := field(obj, "stop", path, &stop); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(content) != 1 {
			return nil, fmt.Errorf("%s.content %q: expected one character", path, content)
		}
		c, _ := utf8.DecodeRuneInString(content)
		return []func([]string) []string{func(toks []string) []string {
			for i, t := range toks {
				toks[i] = stripRune(t, c, start, stop)
			}
			return toks
		}}, nil
	}
	return nil, fmt.Errorf("%s.type %q is not supported (want ByteLevel, ByteFallback, Fuse, Replace, Strip or Sequence)", path, typ)
}

// stripRune removes up to start leading and stop trailing copies of c from s.
func stripRune(s string, c rune, start, stop int) string {
	rs := []rune(s)
	lo, hi := 0, len(rs)
	for lo < start && lo < hi && rs[lo] == c {
		lo++
	}
	for k := 0; k < stop && hi > lo && rs[hi-1] == c; k++ {
		hi--
	}
	return string(rs[lo:hi])
}

// decodeByteLevel maps byte symbols back to bytes; a token with a character
// outside the byte table is kept as its UTF-8 text. Invalid UTF-8 becomes
// U+FFFD.
func decodeByteLevel(toks []string) []string {
	var buf []byte
	for _, t := range toks {
		mapped := true
		for _, r := range t {
			if _, ok := byteDecoder[r]; !ok {
				mapped = false
				break
			}
		}
		if mapped {
			buf = append(buf, symbolsToBytes(t)...)
		} else {
			buf = append(buf, t...)
		}
	}
	return []string{lossyUTF8(buf)}
}

// decodeByteFallback turns runs of <0xNN> tokens into text; a run that is
// not valid UTF-8 becomes one U+FFFD per byte.
func decodeByteFallback(toks []string) []string {
	out := make([]string, 0, len(toks))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range toks {
		var b byte
		if len(t) == 6 && strings.HasPrefix(t, "<0x") && t[5] == '>' {
			if _, err := fmt.Sscanf(t[3:5], "%02X", &b); err == nil {
				run = append(run, b)
				continue
			}
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// lossyUTF8 converts b to a string, replacing each maximal invalid
// subsequence with U+FFFD (the WHATWG / Rust from_utf8_lossy rule).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += invalidPrefixLen(b[i:])
	}
	return sb.String()
}

// invalidPrefixLen returns the length of the maximal prefix of b that could
// start a valid sequence (at least 1); b does not start with a valid rune.
func invalidPrefixLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c == 0xED:
		need, hi = 2, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		need = 2
	case c == 0xF0:
		need, lo = 3, 0x90
	case c == 0xF4:
		need, hi = 3, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
		n++
	}
	return n
}

// cleanupSpaces is transformers' clean_up_tokenization.
var cleanupSpaces = strings.NewReplacer(" .", ".", " ?", "?", " !", "!", " ,", ",", " ' ", "'",
	" n't", "n't", " 'm", "'m", " 's", "'s", " 've", "'ve", " 're", "'re")

// ---- public API ----

// Encode returns the token ids of text. With addSpecial the post-processor's
// special tokens (for Janus / DeepSeek: BOS) are added.
func (h *HF) Encode(text string, addSpecial bool) []int {
	text = strings.ToValidUTF8(text, "\uFFFD")
	ids := make([]int, 0, len(text)/3+len(h.prefix)+len(h.suffix)+1)
	if addSpecial {
		ids = append(ids, h.prefix...)
	}
	for _, seg := range h.splitAdded(nil, text, h.rawTokens) {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		s := seg.text
		if h.normalize != nil {
			s = h.normalize(s)
		}
		for _, sub := range h.splitAdded(nil, s, h.normTokens) {
			if sub.id >= 0 {
				ids = append(ids, sub.id)
				continue
			}
			ids = h.encodeText(ids, sub.text)
		}
	}
	if addSpecial {
		ids = append(ids, h.suffix...)
	}
	return ids
}

// encodeText pre-tokenizes normalized text free of added tokens and appends
// the BPE ids of every piece.
func (h *HF) encodeText(dst []int, s string) []int {
	if s == "" {
		return dst
	}
	pieces := []string{s}
	for _, pt := range h.preTokenize {
		pieces = pt(pieces)
	}
	for _, p := range pieces {
		dst = h.encodeWord(dst, p)
	}
	return dst
}

// Decode turns ids back into text; with skipSpecial the added tokens marked
// special (BOS, EOS, pad, ...) are left out. Unknown ids are skipped.
func (h *HF) Decode(ids []int, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if id < 0 || id >= len(h.tokens) || h.tokens[id] == "" {
			continue
		}
		if skipSpecial && h.special[id] {
			continue
		}
		toks = append(toks, h.tokens[id])
	}
	if h.decoders == nil {
		return strings.Join(toks, " ")
	}
	for _, d := range h.decoders {
		toks = d(toks)
	}
	s := strings.Join(toks, "")
	if h.cleanup {
		s = cleanupSpaces.Replace(s)
	}
	return s
}

// TokenID returns the id of a token (added tokens included).
func (h *HF) TokenID(token string) (int, bool) {
	if id, ok := h.added[token]; ok {
		return id, true
	}
	id, ok := h.vocab[token]
	return id, ok
}

// Token returns the text of token id ("" when no token has that id).
func (h *HF) Token(id int) string {
	if id < 0 || id >= len(h.tokens) {
		return ""
	}
	return h.tokens[id]
}

// VocabSize returns one more than the largest token id (added tokens
// included).
func (h *HF) VocabSize() int { return len(h.tokens) }

// BOS returns the beginning-of-sequence id, from tokenizer_config.json's
// bos_token or else the post-processor's single leading special token.
func (h *HF) BOS() (int, bool) { return h.bos, h.bos >= 0 }

// EOS returns the end-of-sequence id, from tokenizer_config.json's eos_token
// or else the post-processor's single trailing special token.
func (h *HF) EOS() (int, bool) { return h.eos, h.eos >= 0 }

// PadID returns the padding id from tokenizer_config.json's pad_token or
// tokenizer.json's padding section.
func (h *HF) PadID() (int, bool) { return h.pad, h.pad >= 0 }

// IsSpecial reports whether id is an added token marked special.
func (h *HF) IsSpecial(id int) bool { return h.special[id] }
