package tokenizer

// Decoders (ByteLevel, ByteFallback, Fuse, Replace, Strip, Sequence) and the
// lossy UTF-8 decoding of byte tokens.

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

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
