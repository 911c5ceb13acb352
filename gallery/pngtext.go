package gallery

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

// pngSignature starts every PNG file.
var pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}

// Limits that keep hostile files from using unbounded memory.
const (
	maxChunkLen     = 1<<31 - 1 // PNG spec limit on a chunk's data length
	maxTextChunkLen = 64 << 20  // largest text chunk we read
	maxInflatedText = 64 << 20  // largest decompressed zTXt/iTXt text
	maxTotalText    = 128 << 20 // all text chunks of one file together
	maxKeywordLen   = 79        // PNG spec
	maxTextChunks   = 1024      // more than any real tool writes
)

// TextChunk is one PNG text entry. Text is always UTF-8 here; the chunk type
// records how it was (or will be) stored: "tEXt" (Latin-1), "zTXt" (Latin-1,
// compressed) or "iTXt" (UTF-8, maybe compressed).
type TextChunk struct {
	Keyword string
	Text    string
	Type    string
}

// ErrNotPNG is returned for data without the PNG signature.
var ErrNotPNG = errors.New("not a PNG file (bad signature)")

// ReadPNGText returns the text chunks of a PNG stream in file order. It checks
// every chunk's CRC and stops at IEND. Image data is skipped, not decoded.
func ReadPNGText(r io.Reader) ([]TextChunk, error) {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil {
		return nil, fmt.Errorf("read PNG signature: %w", ErrNotPNG)
	}
	if !bytes.Equal(sig[:], pngSignature) {
		return nil, ErrNotPNG
	}
	var out []TextChunk
	total := 0
	for n := 0; ; n++ {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return out, fmt.Errorf("PNG chunk %d: truncated header: %w", n, err)
		}
		length := binary.BigEndian.Uint32(hdr[:4])
		typ := string(hdr[4:8])
		if length > maxChunkLen {
			return out, fmt.Errorf("PNG chunk %d (%q): length %d exceeds the PNG limit of %d", n, typ, length, maxChunkLen)
		}
		if !validChunkType(hdr[4:8]) {
			return out, fmt.Errorf("PNG chunk %d: invalid chunk type %q", n, typ)
		}
		isText := typ == "tEXt" || typ == "zTXt" || typ == "iTXt"
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:8])
		if !isText {
			if _, err := io.CopyN(crc, r, int64(length)); err != nil {
				return out, fmt.Errorf("PNG chunk %d (%s): truncated data: %w", n, typ, err)
			}
			if err := checkCRC(r, crc.Sum32(), n, typ); err != nil {
				return out, err
			}
			if typ == "IEND" {
				return out, nil
			}
			continue
		}
		if length > maxTextChunkLen {
			return out, fmt.Errorf("PNG chunk %d (%s): %d bytes is more than the %d we read", n, typ, length, maxTextChunkLen)
		}
		total += int(length)
		if total > maxTotalText || len(out) >= maxTextChunks {
			return out, fmt.Errorf("PNG chunk %d (%s): too much text in one file", n, typ)
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(r, data); err != nil {
			return out, fmt.Errorf("PNG chunk %d (%s): truncated data: %w", n, typ, err)
		}
		crc.Write(data)
		if err := checkCRC(r, crc.Sum32(), n, typ); err != nil {
			return out, err
		}
		tc, err := parseTextChunk(typ, data)
		if err != nil {
			return out, fmt.Errorf("PNG chunk %d (%s): %w", n, typ, err)
		}
		out = append(out, tc)
	}
}

func checkCRC(r io.Reader, want uint32, n int, typ string) error {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fmt.Errorf("PNG chunk %d (%s): truncated CRC: %w", n, typ, err)
	}
	if got := binary.BigEndian.Uint32(b[:]); got != want {
		return fmt.Errorf("PNG chunk %d (%s): CRC %08x, expected %08x", n, typ, got, want)
	}
	return nil
}

func validChunkType(t []byte) bool {
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func parseTextChunk(typ string, data []byte) (TextChunk, error) {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return TextChunk{}, errors.New("keyword is not NUL-terminated")
	}
	if i == 0 || i > maxKeywordLen {
		return TextChunk{}, fmt.Errorf("keyword length %d, expected 1 to %d", i, maxKeywordLen)
	}
	keyword := latin1ToUTF8(data[:i])
	rest := data[i+1:]
	switch typ {
	case "tEXt":
		return TextChunk{Keyword: keyword, Text: latin1ToUTF8(rest), Type: typ}, nil
	case "zTXt":
		if len(rest) < 1 {
			return TextChunk{}, errors.New("missing compression method")
		}
		if rest[0] != 0 {
			return TextChunk{}, fmt.Errorf("compression method %d, expected 0 (zlib)", rest[0])
		}
		text, err := inflate(rest[1:])
		if err != nil {
			return TextChunk{}, fmt.Errorf("keyword %q: %w", keyword, err)
		}
		return TextChunk{Keyword: keyword, Text: latin1ToUTF8(text), Type: typ}, nil
	case "iTXt":
		if len(rest) < 2 {
			return TextChunk{}, errors.New("missing compression flag/method")
		}
		flag, method := rest[0], rest[1]
		rest = rest[2:]
		j := bytes.IndexByte(rest, 0) // language tag
		if j < 0 {
			return TextChunk{}, errors.New("language tag is not NUL-terminated")
		}
		rest = rest[j+1:]
		j = bytes.IndexByte(rest, 0) // translated keyword
		if j < 0 {
			return TextChunk{}, errors.New("translated keyword is not NUL-terminated")
		}
		text := rest[j+1:]
		switch flag {
		case 0:
		case 1:
			if method != 0 {
				return TextChunk{}, fmt.Errorf("compression method %d, expected 0 (zlib)", method)
			}
			var err error
			if text, err = inflate(text); err != nil {
				return TextChunk{}, fmt.Errorf("keyword %q: %w", keyword, err)
			}
		default:
			return TextChunk{}, fmt.Errorf("compression flag %d, expected 0 or 1", flag)
		}
		if !utf8.Valid(text) {
			return TextChunk{}, fmt.Errorf("keyword %q: text is not valid UTF-8", keyword)
		}
		return TextChunk{Keyword: keyword, Text: string(text), Type: typ}, nil
	}
	return TextChunk{}, fmt.Errorf("not a text chunk type")
}

func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxInflatedText+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(out) > maxInflatedText {
		return nil, fmt.Errorf("decompressed text exceeds %d bytes", maxInflatedText)
	}
	return out, nil
}

func latin1ToUTF8(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// isLatin1 reports whether s encodes in Latin-1 (every rune <= U+00FF), the
// test Pillow uses to choose tEXt over iTXt.
func isLatin1(s string) bool {
	for _, r := range s {
		if r > 0xff || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// encodeTextChunk builds one complete chunk (length, type, data, CRC): tEXt
// when keyword and text are Latin-1, uncompressed iTXt otherwise.
func encodeTextChunk(keyword, text string) ([]byte, error) {
	if keyword == "" || len(keyword) > maxKeywordLen || !isLatin1(keyword) {
		return nil, fmt.Errorf("PNG text keyword %q: expected 1 to %d Latin-1 characters", keyword, maxKeywordLen)
	}
	for _, r := range keyword {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa1) {
			return nil, fmt.Errorf("PNG text keyword %q: contains a control character", keyword)
		}
	}
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("PNG text %q: value is not valid UTF-8", keyword)
	}
	if bytes.IndexByte([]byte(text), 0) >= 0 {
		return nil, fmt.Errorf("PNG text %q: value contains a NUL byte", keyword)
	}
	var data bytes.Buffer
	data.Write(toLatin1(keyword))
	data.WriteByte(0)
	typ := "tEXt"
	if isLatin1(text) {
		data.Write(toLatin1(text))
	} else {
		typ = "iTXt"
		data.Write([]byte{0, 0}) // uncompressed
		data.WriteByte(0)        // empty language tag
		data.WriteByte(0)        // empty translated keyword
		data.WriteString(text)
	}
	if data.Len() > maxTextChunkLen {
		return nil, fmt.Errorf("PNG text %q: %d bytes is more than %d", keyword, data.Len(), maxTextChunkLen)
	}
	return makeChunk(typ, data.Bytes()), nil
}

func makeChunk(typ string, data []byte) []byte {
	out := make([]byte, 0, 12+len(data))
	out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
	out = append(out, typ...)
	out = append(out, data...)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	return binary.BigEndian.AppendUint32(out, crc.Sum32())
}

func toLatin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out
}

// SetPNGText returns a copy of the PNG with every existing tEXt/zTXt/iTXt
// chunk removed and the given chunks inserted just before the first IDAT,
// in order. Other chunks are copied unchanged; CRCs are checked.
func SetPNGText(png []byte, chunks []TextChunk) ([]byte, error) {
	if len(png) < 8 || !bytes.Equal(png[:8], pngSignature) {
		return nil, ErrNotPNG
	}
	var encoded [][]byte
	size := 0
	for _, c := range chunks {
		b, err := encodeTextChunk(c.Keyword, c.Text)
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, b)
		size += len(b)
	}
	out := make([]byte, 0, len(png)+size)
	out = append(out, pngSignature...)
	inserted := false
	pos := 8
	for n := 0; ; n++ {
		if pos+8 > len(png) {
			return nil, fmt.Errorf("PNG chunk %d: truncated header at byte %d", n, pos)
		}
		length := int(binary.BigEndian.Uint32(png[pos:]))
		typ := string(png[pos+4 : pos+8])
		end := pos + 12 + length
		if length > maxChunkLen || end > len(png) || end < pos {
			return nil, fmt.Errorf("PNG chunk %d (%q): length %d runs past the end of the file", n, typ, length)
		}
		want := crc32.ChecksumIEEE(png[pos+4 : end-4])
		if got := binary.BigEndian.Uint32(png[end-4:]); got != want {
			return nil, fmt.Errorf("PNG chunk %d (%s): CRC %08x, expected %08x", n, typ, got, want)
		}
		if (typ == "IDAT" || typ == "IEND") && !inserted {
			for _, b := range encoded {
				out = append(out, b...)
			}
			inserted = true
		}
		if typ != "tEXt" && typ != "zTXt" && typ != "iTXt" {
			out = append(out, png[pos:end]...)
		}
		pos = end
		if typ == "IEND" {
			return out, nil
		}
	}
}

// textMap turns chunks into keyword → text; the first chunk of a keyword wins.
func textMap(chunks []TextChunk) map[string]string {
	m := make(map[string]string, len(chunks))
	for _, c := range chunks {
		if _, ok := m[c.Keyword]; !ok {
			m[c.Keyword] = c.Text
		}
	}
	return m
}
