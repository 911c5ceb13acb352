package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
