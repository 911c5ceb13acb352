// Package tokenizer implements the two tokenizers Diptych needs: CLIP's BPE
// (vocab.json + merges.txt, used by SDXL) and Hugging Face tokenizer.json
// byte-level BPE (used by Janus-Pro).
package tokenizer

// byteEncoder maps each byte to the printable rune GPT-2's bytes_to_unicode
// assigns it; byteDecoder is its inverse. Both byte-level BPE flavours use it.
var byteEncoder, byteDecoder = buildByteTables()

func buildByteTables() ([256]rune, map[rune]byte) {
	var enc [256]rune
	dec := make(map[rune]byte, 256)
	printable := func(b int) bool {
		return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
	}
	next := 0
	for b := 0; b < 256; b++ {
		r := rune(b)
		if !printable(b) {
			r = rune(256 + next)
			next++
		}
		enc[b] = r
		dec[r] = byte(b)
	}
	return enc, dec
}

// bytesToSymbols returns the byte-level symbols of s, one per byte.
func bytesToSymbols(s string) []string {
	out := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = string(byteEncoder[s[i]])
	}
	return out
}

// symbolsToBytes reverses the byte-level mapping; runes outside the table are
// written as UTF-8 unchanged.
func symbolsToBytes(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if b, ok := byteDecoder[r]; ok {
			out = append(out, b)
		} else {
			out = append(out, string(r)...)
		}
	}
	return out
}
