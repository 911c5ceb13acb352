package tokenizer

// Normalizers (NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace, Strip,
// Sequence), the Split/Replace patterns, and the helpers that read the typed
// JSON objects of every pipeline stage.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/dlclark/regexp2"
	"golang.org/x/text/unicode/norm"
)

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
