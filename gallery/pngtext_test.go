package gallery

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func encodePNG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(8, 6, 1)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chunkTypes lists the chunk types of a PNG in order.
func chunkTypes(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for pos := 8; pos+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[pos:]))
		out = append(out, string(data[pos+4:pos+8]))
		pos += 12 + n
	}
	return out
}

func TestSetPNGTextRoundTrip(t *testing.T) {
	orig := encodePNG(t)
	chunks := []TextChunk{
		{Keyword: "parameters", Text: "café au lait\nSteps: 1"}, // Latin-1 → tEXt
		{Keyword: "diptych", Text: `{"prompt":"☕ 日本"}`},         // not Latin-1 → iTXt
	}
	out, err := SetPNGText(orig, chunks)
	if err != nil {
		t.Fatal(err)
	}
	// Go's decoder checks every chunk's CRC: the file must still decode.
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("PNG with our chunks does not decode: %v", err)
	}
	if img.Bounds().Dx() != 8 {
		t.Errorf("width %d", img.Bounds().Dx())
	}
	types := chunkTypes(t, out)
	want := []string{"IHDR", "tEXt", "iTXt", "IDAT", "IEND"}
	if strings.Join(types, " ") != strings.Join(want, " ") {
		t.Errorf("chunks %v, want %v (text before IDAT)", types, want)
	}
	// The tEXt payload is Latin-1 bytes, not UTF-8.
	if !bytes.Contains(out, []byte("caf\xe9 au lait")) {
		t.Error("tEXt text is not Latin-1 encoded")
	}
	got, err := ReadPNGText(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != "tEXt" || got[1].Type != "iTXt" ||
		got[0].Text != chunks[0].Text || got[1].Text != chunks[1].Text {
		t.Errorf("read back %+v", got)
	}
	// Setting again replaces, never duplicates.
	again, err := SetPNGText(out, chunks[:1])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(strings.Join(chunkTypes(t, again), " "), "Xt"); n != 1 {
		t.Errorf("after replacing: %d text chunks, want 1", n)
	}
}

// TestReadPillowSamples reads files Pillow wrote (testdata/make_samples.py):
// tEXt, iTXt (plain and compressed) and zTXt.
func TestReadPillowSamples(t *testing.T) {
	cases := []struct {
		file, keyword, typ, prefix string
	}{
		{"a1111.png", "parameters", "tEXt", "masterpiece, a cozy cabin in the woods, (snow:1.2)\nNegative prompt: lowres, blurry\nSteps: 30,"},
		{"a1111_old_utf8.png", "parameters", "iTXt", "café ☕ au lait,\nlatte art\n"},
		{"a1111_ztxt.png", "parameters", "zTXt", "a lighthouse at dusk\nSteps: 25, Sampler: DPM++ 2M Karras"},
		{"a1111_itxt_zip.png", "parameters", "iTXt", "日本の庭園, 桜\nSteps: 12"},
		{"comfyui.png", "prompt", "tEXt", `{"3": {"class_type": "KSampler"`},
	}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join("testdata", "import", c.file))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := ReadPNGText(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		var found *TextChunk
		for i := range chunks {
			if chunks[i].Keyword == c.keyword {
				found = &chunks[i]
			}
		}
		if found == nil || found.Type != c.typ || !strings.HasPrefix(found.Text, c.prefix) {
			t.Errorf("%s: chunk %+v, want %s %s starting %q", c.file, found, c.typ, c.keyword, c.prefix)
		}
	}
}

// rawChunk builds a chunk with a correct CRC from parts.
func rawChunk(typ string, data []byte) []byte { return makeChunk(typ, data) }

func pngWith(chunks ...[]byte) []byte {
	orig := func() []byte {
		var buf bytes.Buffer
		png.Encode(&buf, testImage(2, 2, 0))
		return buf.Bytes()
	}()
	// Insert after IHDR (8 + 25 bytes).
	out := append([]byte{}, orig[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, orig[33:]...)
}

func zlibBytes(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestReadPNGTextHostile(t *testing.T) {
	good := pngWith(rawChunk("tEXt", []byte("k\x00v")))
	badCRC := append([]byte{}, good...)
	badCRC[33+12+2] ^= 0xff // flip a CRC byte of the tEXt chunk
	bomb := zlibBytes(bytes.Repeat([]byte("A"), maxInflatedText+10))
	huge := append(append([]byte{}, good[:33]...), 0x7f, 0xff, 0xff, 0xff, 't', 'E', 'X', 't')
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"not png", []byte("GIF89a......"), "not a PNG"},
		{"empty", nil, "not a PNG"},
		{"truncated header", good[:35], "truncated"},
		{"truncated data", good[:33+8+1], "truncated"},
		{"bad crc", badCRC, "CRC"},
		{"no keyword terminator", pngWith(rawChunk("tEXt", []byte("keyword only"))), "NUL-terminated"},
		{"empty keyword", pngWith(rawChunk("tEXt", []byte("\x00v"))), "keyword length 0"},
		{"long keyword", pngWith(rawChunk("tEXt", append(bytes.Repeat([]byte("k"), 80), 0, 'v'))), "keyword length 80"},
		{"ztxt bad method", pngWith(rawChunk("zTXt", []byte("k\x00\x05xx"))), "compression method 5"},
		{"ztxt bad zlib", pngWith(rawChunk("zTXt", []byte("k\x00\x00notzlib"))), "zlib"},
		{"itxt bad flag", pngWith(rawChunk("iTXt", []byte("k\x00\x07\x00\x00\x00v"))), "compression flag 7"},
		{"itxt missing lang", pngWith(rawChunk("iTXt", []byte("k\x00\x00\x00en"))), "language tag"},
		{"itxt bad utf8", pngWith(rawChunk("iTXt", []byte("k\x00\x00\x00\x00\x00\xff\xfe"))), "UTF-8"},
		{"zip bomb", pngWith(rawChunk("zTXt", append([]byte("k\x00\x00"), bomb...))), "exceeds"},
		{"huge length", huge, "more than"},
		{"bad chunk type", pngWith(rawChunk("t\x00Xt", []byte("k\x00v"))), "invalid chunk type"},
	}
	for _, c := range cases {
		_, err := ReadPNGText(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if chunks, err := ReadPNGText(bytes.NewReader(good)); err != nil || len(chunks) != 1 || chunks[0].Text != "v" {
		t.Errorf("good file: %v %v", chunks, err)
	}
}

func TestEncodeTextChunkRejects(t *testing.T) {
	for _, c := range []struct{ k, v, want string }{
		{"", "v", "keyword"},
		{strings.Repeat("k", 80), "v", "keyword"},
		{"kéy☕", "v", "Latin-1"},
		{"new\nline", "v", "control"},
		{"k", "a\x00b", "NUL"},
		{"k", "\xff\xfe", "UTF-8"},
	} {
		if _, err := encodeTextChunk(c.k, c.v); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("encodeTextChunk(%q, %q): err = %v, want %q", c.k, c.v, err, c.want)
		}
	}
	// The CRC covers type and data.
	b, err := encodeTextChunk("k", "v")
	if err != nil {
		t.Fatal(err)
	}
	if crc := binary.BigEndian.Uint32(b[len(b)-4:]); crc != crc32.ChecksumIEEE(b[4:len(b)-4]) {
		t.Error("bad CRC")
	}
	if _, err := SetPNGText([]byte("nope"), nil); err != ErrNotPNG {
		t.Errorf("SetPNGText on junk: %v", err)
	}
}
