package tokenizer

// Added tokens: the tries that cut special and added tokens out of the text
// before the rest of the pipeline sees it.

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
