package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CLIP is the OpenAI CLIP BPE tokenizer as Hugging Face's slow CLIPTokenizer
// runs it without ftfy (what diffusers loads for SDXL's tokenizer/ and
// tokenizer_2/ folders). It is safe for concurrent use.
//
// Pipeline: the special tokens (BOS, EOS, UNK and PAD contents) are split out
// of the raw text verbatim; every other segment is cleaned like transformers'
// BasicTokenizer (control characters dropped, whitespace collapsed, spaces
// around CJK ideographs, NFC, Python-style lowercasing, no accent stripping
// and no HTML unescaping), split with the CLIP regex, byte-mapped and merged
// by BPE rank.
type CLIP struct {
	vocab   map[string]int
	decoder map[int]string
	ranks   map[[2]string]int
	pat     *regexp.Regexp

	bos, eos, unk, pad int
	maxLen             int
	// specials are matched verbatim before cleaning, longest first.
	specials []clipSpecial

	mu    sync.Mutex
	cache map[string][]int // byte-mapped word -> ids; bounded by clipCacheMax
}

type clipSpecial struct {
	text string
	id   int
}

const (
	clipBOS = "<|startoftext|>"
	clipEOS = "<|endoftext|>"
	// clipMaxMerges is how many merges.txt lines transformers reads
	// (49152 - 256 - 2): the rest of the file, if any, is ignored.
	clipMaxMerges = 49152 - 256 - 2
	clipCacheMax  = 1 << 14
	// clipDefaultMaxLen is CLIP's context length (model_max_length).
	clipDefaultMaxLen = 77
)

// clipPattern is CLIP's pre-tokenizer: special tokens, ASCII contractions,
// letter runs, single digits, and runs of anything else but whitespace.
var clipPattern = regexp.MustCompile(`(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`)

// LoadCLIP reads a CLIP tokenizer folder: vocab.json, merges.txt and, when
// present, special_tokens_map.json and tokenizer_config.json for the special
// tokens (pad defaults to <|endoftext|>; SDXL's tokenizer_2/ sets "!") and
// model_max_length (default 77).
func LoadCLIP(dir string) (*CLIP, error) {
	c := &CLIP{pat: clipPattern, maxLen: clipDefaultMaxLen, cache: make(map[string][]int)}
	vocabPath := filepath.Join(dir, "vocab.json")
	if err := c.loadVocab(vocabPath); err != nil {
		return nil, err
	}
	if err := c.loadMerges(filepath.Join(dir, "merges.txt")); err != nil {
		return nil, err
	}

	names := clipTokenNames{bos: clipBOS, eos: clipEOS, unk: clipEOS, pad: clipEOS}
	// tokenizer_config.json first, special_tokens_map.json overrides it (as
	// transformers' from_pretrained does).
	for _, name := range []string{"tokenizer_config.json", "special_tokens_map.json"} {
		if err := names.read(filepath.Join(dir, name), &c.maxLen); err != nil {
			return nil, err
		}
	}
	lookup := func(role, tok string) (int, error) {
		id, ok := c.vocab[tok]
		if !ok {
			return 0, fmt.Errorf("load CLIP tokenizer %s: %s token %q is not in %s", dir, role, tok, vocabPath)
		}
		return id, nil
	}
	var err error
	if c.bos, err = lookup("bos", names.bos); err != nil {
		return nil, err
	}
	if c.eos, err = lookup("eos", names.eos); err != nil {
		return nil, err
	}
	if c.unk, err = lookup("unk", names.unk); err != nil {
		return nil, err
	}
	if c.pad, err = lookup("pad", names.pad); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, s := range []clipSpecial{{names.bos, c.bos}, {names.eos, c.eos}, {names.unk, c.unk}, {names.pad, c.pad}} {
		if s.text != "" && !seen[s.text] {
			seen[s.text] = true
			c.specials = append(c.specials, s)
		}
	}
	// Longest first, so a special that is a prefix of another never wins.
	for i := 1; i < len(c.specials); i++ {
		for j := i; j > 0 && len(c.specials[j].text) > len(c.specials[j-1].text); j-- {
			c.specials[j], c.specials[j-1] = c.specials[j-1], c.specials[j]
		}
	}
	return c, nil
}

func (c *CLIP) loadVocab(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load CLIP vocabulary: %w", err)
	}
	if err := json.Unmarshal(data, &c.vocab); err != nil {
		return fmt.Errorf("load CLIP vocabulary %s: not a JSON object of token -> id: %w", path, err)
	}
	if len(c.vocab) == 0 {
		return fmt.Errorf("load CLIP vocabulary %s: vocabulary is empty", path)
	}
	c.decoder = make(map[int]string, len(c.vocab))
	for tok, id := range c.vocab {
		if id < 0 {
			return fmt.Errorf("load CLIP vocabulary %s: token %q has negative id %d", path, tok, id)
		}
		if prev, dup := c.decoder[id]; dup {
			return fmt.Errorf("load CLIP vocabulary %s: id %d is used by both %q and %q", path, id, prev, tok)
		}
		c.decoder[id] = tok
	}
	return nil
}

func (c *CLIP) loadMerges(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load CLIP merges: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if !strings.HasPrefix(lines[0], "#version") {
		return fmt.Errorf("load CLIP merges %s: line 1 is %q, want a \"#version\" header", path, clipShorten(lines[0]))
	}
	lines = lines[1:]
	if len(lines) > clipMaxMerges {
		lines = lines[:clipMaxMerges]
	}
	if len(lines) == 0 || (len(lines) == 1 && strings.TrimSpace(lines[0]) == "") {
		return fmt.Errorf("load CLIP merges %s: no merges after the header", path)
	}
	c.ranks = make(map[[2]string]int, len(lines))
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 {
			return fmt.Errorf("load CLIP merges %s: line %d is %q, want two space-separated symbols", path, i+2, clipShorten(line))
		}
		k := [2]string{f[0], f[1]}
		if _, dup := c.ranks[k]; !dup {
			c.ranks[k] = i
		}
	}
	return nil
}

func clipShorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

type clipTokenNames struct{ bos, eos, unk, pad string }

// read applies the special tokens of one optional JSON file (tokenizer_config
// or special_tokens_map); a missing file is not an error.
func (n *clipTokenNames) read(path string, maxLen *int) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load CLIP tokenizer config: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("load CLIP tokenizer config %s: not a JSON object: %w", path, err)
	}
	for key, dst := range map[string]*string{"bos_token": &n.bos, "eos_token": &n.eos, "unk_token": &n.unk, "pad_token": &n.pad} {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			continue
		}
		tok, err := clipTokenContent(v)
		if err != nil {
			return fmt.Errorf("load CLIP tokenizer config %s: field %q: %w", path, key, err)
		}
		*dst = tok
	}
	if v, ok := raw["model_max_length"]; ok {
		var m float64 // HF writes huge floats (1e30) for "no limit"
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("load CLIP tokenizer config %s: field \"model_max_length\" = %s, want a number", path, v)
		}
		if m >= 2 && m <= 1<<20 {
			*maxLen = int(m)
		}
	}
	return nil
}

// clipTokenContent accepts "tok" or {"content": "tok", ...} (AddedToken).
func clipTokenContent(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(v, &obj); err != nil || obj.Content == nil {
		return "", fmt.Errorf("value %s is neither a string nor an object with \"content\"", clipShorten(string(v)))
	}
	return *obj.Content, nil
}

// BOS returns the id of <|startoftext|>.
func (c *CLIP) BOS() int { return c.bos }

// EOS returns the id of <|endoftext|>.
func (c *CLIP) EOS() int { return c.eos }

// PadID returns the padding id (49407 for SDXL's tokenizer/, 0 for tokenizer_2/).
func (c *CLIP) PadID() int { return c.pad }

// MaxLength returns model_max_length (77 for CLIP).
func (c *CLIP) MaxLength() int { return c.maxLen }

// VocabSize returns the number of entries in vocab.json.
func (c *CLIP) VocabSize() int { return len(c.vocab) }

// Encode returns BOS + the token ids of text + EOS, without padding or
// truncation (tokenizer(text).input_ids).
func (c *CLIP) Encode(text string) []int {
	ids := []int{c.bos}
	ids = c.appendTokens(ids, text)
	return append(ids, c.eos)
}

// EncodePadded returns exactly maxLen ids as tokenizer(text,
// padding="max_length", max_length=maxLen, truncation=True) does: BOS, at
// most maxLen-2 content ids, EOS, then the pad id. truncated reports whether
// content ids were dropped. maxLen below 2 is treated as 2.
func (c *CLIP) EncodePadded(text string, maxLen int) (ids []int64, truncated bool) {
	if maxLen < 2 {
		maxLen = 2
	}
	content := c.appendTokens(nil, text)
	if len(content) > maxLen-2 {
		content = content[:maxLen-2]
		truncated = true
	}
	ids = make([]int64, 0, maxLen)
	ids = append(ids, int64(c.bos))
	for _, id := range content {
		ids = append(ids, int64(id))
	}
	ids = append(ids, int64(c.eos))
	for len(ids) < maxLen {
		ids = append(ids, int64(c.pad))
	}
	return ids, truncated
}

// Decode turns ids back into text: BOS and EOS ids are skipped, word ends
// (</w>) become spaces, the bytes are read as UTF-8 (invalid bytes become
// U+FFFD) and the result is trimmed. Unknown ids are skipped. The text is the
// cleaned, lowercased form the tokenizer saw, not the original prompt.
func (c *CLIP) Decode(ids []int) string {
	var sb strings.Builder
	for _, id := range ids {
		if id == c.bos || id == c.eos {
			continue
		}
		if tok, ok := c.decoder[id]; ok {
			sb.WriteString(tok)
		}
	}
	b := symbolsToBytes(sb.String())
	b = bytes.ReplaceAll(b, []byte("</w>"), []byte(" "))
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out.WriteRune(r) // RuneError for an invalid byte
		b = b[n:]
	}
	return strings.TrimSpace(out.String())
}

// appendTokens appends the content ids of text (no BOS/EOS).
func (c *CLIP) appendTokens(dst []int, text string) []int {
	for len(text) > 0 {
		at, sp := c.nextSpecial(text)
		if at < 0 {
			return c.appendSegment(dst, text)
		}
		dst = c.appendSegment(dst, text[:at])
		dst = append(dst, sp.id)
		text = text[at+len(sp.text):]
	}
	return dst
}

// nextSpecial finds the leftmost verbatim special token in s.
func (c *CLIP) nextSpecial(s string) (int, clipSpecial) {
	best, bestSp := -1, clipSpecial{}
	for _, sp := range c.specials {
		if i := strings.Index(s, sp.text); i >= 0 && (best < 0 || i < best) {
			best, bestSp = i, sp
		}
	}
	return best, bestSp
}

func (c *CLIP) appendSegment(dst []int, seg string) []int {
	text := clipNormalize(seg)
	if text == "" {
		return dst
	}
	for _, piece := range c.pat.FindAllString(text, -1) {
		if piece == clipBOS || piece == clipEOS {
			// transformers' BPE cache returns these two unchanged.
			if id, ok := c.vocab[piece]; ok {
				dst = append(dst, id)
				continue
			}
		}
		dst = append(dst, c.word(piece)...)
	}
	return dst
}

// word returns the ids of one pre-tokenized piece, through the cache.
func (c *CLIP) word(piece string) []int {
	var sb strings.Builder
	for i := 0; i < len(piece); i++ {
		sb.WriteRune(byteEncoder[piece[i]])
	}
	key := sb.String()
	c.mu.Lock()
	ids, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return ids
	}
	syms := c.bpe(key)
	ids = make([]int, len(syms))
	for i, s := range syms {
		id, ok := c.vocab[s]
		if !ok {
			id = c.unk
		}
		ids[i] = id
	}
	c.mu.Lock()
	if len(c.cache) >= clipCacheMax {
		clear(c.cache)
	}
	c.cache[key] = ids
	c.mu.Unlock()
	return ids
}

// bpe merges the symbols of w (one per rune, "</w>" appended to the last)
// by lowest merge rank until no ranked pair remains.
func (c *CLIP) bpe(w string) []string {
	var word []string
	for _, r := range w {
		word = append(word, string(r))
	}
	if len(word) == 0 {
		return nil
	}
	word[len(word)-1] += "</w>"
	for len(word) > 1 {
		best, bestRank := [2]string{}, -1
		for i := 0; i+1 < len(word); i++ {
			k := [2]string{word[i], word[i+1]}
			if r, ok := c.ranks[k]; ok && (bestRank < 0 || r < bestRank) {
				best, bestRank = k, r
			}
		}
		if bestRank < 0 {
			break
		}
		merged := word[:0:0]
		for i := 0; i < len(word); {
			if i+1 < len(word) && word[i] == best[0] && word[i+1] == best[1] {
				merged = append(merged, best[0]+best[1])
				i += 2
			} else {
				merged = append(merged, word[i])
				i++
			}
		}
		word = merged
	}
	return word
}

// clipNormalize is transformers' BasicTokenizer(strip_accents=False,
// do_split_on_punc=False) followed by " ".join: drop NUL, U+FFFD and control
// or unassigned characters, map whitespace to spaces, pad CJK ideographs
// with spaces, NFC, split on whitespace, lowercase each word as Python's
// str.lower does.
func clipNormalize(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == 0 || r == utf8.RuneError || clipIsControl(r):
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.Zs, r):
			sb.WriteByte(' ')
		case clipIsCJK(r):
			sb.WriteByte(' ')
			sb.WriteRune(r)
			sb.WriteByte(' ')
		default:
			sb.WriteRune(r)
		}
	}
	words := strings.Fields(norm.NFC.String(sb.String()))
	for i, w := range words {
		words[i] = pythonLower(w)
	}
	return strings.Join(words, " ")
}

// clipIsControl reports Unicode category C* (Cc, Cf, Cs, Co and unassigned
// Cn) except tab, newline and carriage return.
func clipIsControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) {
		return true
	}
	return !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
}

// clipIsCJK reports the CJK ideograph blocks BERT's tokenizer pads with spaces.
func clipIsCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// pythonLower lowercases like Python's str.lower: simple mappings plus the
// unconditional İ -> i̇ and the Final_Sigma rule for Σ.
func pythonLower(s string) string {
	rs := []rune(s)
	var sb strings.Builder
	sb.Grow(len(s))
	for i, r := range rs {
		switch r {
		case 'İ':
			sb.WriteString("i\u0307")
		case 'Σ':
			if clipFinalSigma(rs, i) {
				sb.WriteRune('ς')
			} else {
				sb.WriteRune('σ')
			}
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// clipFinalSigma: Σ preceded by a cased letter and not followed by one,
// skipping case-ignorable characters either way (Unicode Final_Sigma).
func clipFinalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && clipCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !clipCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && clipCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !clipCased(rs[j])
}

func clipCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

func clipCaseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', 0x00B7, 0x0387, 0x055F, 0x05F4, 0x2018, 0x2019, 0x2024, 0x2027,
		0xFE13, 0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
