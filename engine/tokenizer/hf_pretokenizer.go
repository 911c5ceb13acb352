package tokenizer

// Pre-tokenizers (ByteLevel, Split, Digits, Sequence) and the split
// behaviours that turn matches into pieces.

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

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
