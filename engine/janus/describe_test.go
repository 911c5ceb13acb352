package janus

import (
	"context"
	"errors"
	"image"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"diptych/engine/imagefile"
)

func TestTokenizerCases(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	for _, c := range m.Tokenizer {
		got := p.Tokenizer().Encode(c.Text, true)
		if !equalInts(got, c.IDs) {
			t.Errorf("%q: ids %v\nwant %v", c.Text, got, c.IDs)
		}
		if d := p.Tokenizer().Decode(got, true); d != c.Decoded {
			t.Errorf("%q: decoded %q, want %q", c.Text, d, c.Decoded)
		}
	}
}

func captionImage(t *testing.T) image.Image {
	t.Helper()
	img, err := imagefile.Load(filepath.Join(refsDir, "caption_input.png"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPreprocessParity: PIL-bicubic resize, centred padding and
// normalisation must give the reference pixel_values.
func TestPreprocessParity(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	got, err := p.cfg.preprocess(captionImage(t), p.Dims.VisionSize)
	if err != nil {
		t.Fatal(err)
	}
	want := m.f32(t, "caption_pixel_values")
	var worst float64
	for i := range got {
		worst = max(worst, float64(abs32(got[i]-want[i])))
	}
	t.Logf("pixel_values max abs diff %.3g", worst)
	// One 8-bit step is 2/255 ≈ 0.0078 after normalisation; allow float
	// rounding only (exact PIL arithmetic).
	if worst > 1e-6 {
		t.Fatalf("pixel_values differ by %.3g", worst)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// TestCaptionParity: prompt ids, embeddings and the teacher-forced lm_head
// logits of every step within 1e-4 relative, and greedy Describe gives the
// reference tokens and text, streamed.
func TestCaptionParity(t *testing.T) {
	m := readManifest(t)
	p := loadTiny(t, Options{})
	ctx := context.Background()
	_, ids, mask := p.understandingPrompt(m.Caption.Question, "")
	if !equalInts(ids, m.i64(t, "caption_input_ids")) {
		t.Fatalf("caption ids %v\nwant %v", ids, m.i64(t, "caption_input_ids"))
	}
	wantMask := m.raw(t, "caption_images_seq_mask")
	for i, b := range mask {
		if b != (wantMask[i] != 0) {
			t.Fatalf("images_seq_mask[%d] = %v", i, b)
		}
	}
	pixels, err := p.cfg.preprocess(captionImage(t), p.Dims.VisionSize)
	if err != nil {
		t.Fatal(err)
	}
	embeds, err := p.embed(ctx, [][]int{ids}, [][]bool{mask}, pixels)
	if err != nil {
		t.Fatal(err)
	}
	if d := relDiff(t, embeds, m.f32(t, "caption_inputs_embeds")); d > 1e-4 {
		t.Errorf("inputs_embeds rel diff %.3g", d)
	} else {
		t.Logf("inputs_embeds rel diff %.3g", d)
	}
	lm, err := p.newLMRun(1)
	if err != nil {
		t.Fatal(err)
	}
	defer lm.close()
	hidden, err := lm.step(ctx, embeds, len(ids))
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for i, id := range m.Caption.Generated {
		logits, err := p.head(ctx, "lm_head", hidden, 1)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, logits...)
		if i == len(m.Caption.Generated)-1 {
			break
		}
		emb, err := p.embed(ctx, [][]int{{id}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if hidden, err = lm.step(ctx, emb, 1); err != nil {
			t.Fatal(err)
		}
	}
	if d := relDiff(t, all, m.f32(t, "caption_logits")); d > 1e-4 {
		t.Errorf("caption logits rel diff %.3g > 1e-4", d)
	} else {
		t.Logf("caption logits rel diff %.3g", d)
	}

	var streamed strings.Builder
	calls := 0
	res, err := p.DescribeDetail(ctx, DescribeRequest{Image: captionImage(t), Question: m.Caption.Question,
		MaxTokens: m.Caption.MaxNew}, func(s string) { streamed.WriteString(s); calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if !equalInts(res.Tokens, m.Caption.Generated) || res.StoppedOnEOS != m.Caption.EOS {
		t.Fatalf("caption ids %v (eos %v)\nwant        %v", res.Tokens, res.StoppedOnEOS, m.Caption.Generated)
	}
	if res.Text != m.Caption.Output || streamed.String() != res.Text {
		t.Fatalf("caption %q, streamed %q, want %q", res.Text, streamed.String(), m.Caption.Output)
	}
	if calls < 2 {
		t.Fatalf("answer streamed in %d calls", calls)
	}
}

func TestDescribeBadInput(t *testing.T) {
	p := loadTiny(t, Options{})
	ctx := context.Background()
	if _, err := p.Describe(ctx, DescribeRequest{}, nil); !errors.Is(err, imagefile.ErrBadImage) {
		t.Errorf("no image: %v", err)
	}
	one := image.NewRGBA(image.Rect(0, 0, 1, 1))
	if _, err := p.Describe(ctx, DescribeRequest{Image: one}, nil); !errors.Is(err, imagefile.ErrBadImage) || !strings.Contains(err.Error(), "1×1") {
		t.Errorf("1×1 image: %v", err)
	}
	huge := image.NewGray(image.Rect(0, 0, imagefile.MaxSide+1, imagefile.MinSide))
	if _, err := p.Describe(ctx, DescribeRequest{Image: huge}, nil); !errors.Is(err, imagefile.ErrBadImage) || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge image: %v", err)
	}
	long := strings.Repeat("Why is the sky blue? ", 200)
	_, err := p.Describe(ctx, DescribeRequest{Image: captionImage(t), Question: long}, nil)
	if !errors.Is(err, ErrTooLong) || !strings.Contains(err.Error(), "context is 512") {
		t.Errorf("long question: %v", err)
	}
	if _, err := p.Describe(ctx, DescribeRequest{Image: captionImage(t), Temperature: -1}, nil); err == nil {
		t.Errorf("negative temperature accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	n := 0
	_, err = p.Describe(cctx, DescribeRequest{Image: captionImage(t), MaxTokens: 10}, func(string) {
		n++
		cancel()
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("cancel after the first token: err %v after %d tokens", err, n)
	}
}

// TestPreprocessShapes: tall, wide and tiny-aspect images are resized with
// the long side at the model's size, centred, the rest background.
func TestPreprocessShapes(t *testing.T) {
	p := loadTiny(t, Options{})
	S := p.Dims.VisionSize
	bg := float32((float64(127)/255 - 0.5) / 0.5)
	white := image.NewRGBA(image.Rect(0, 0, 10, 200)) // tall: 3×64 after resize → min 14 wide
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	px, err := p.cfg.preprocess(white, S)
	if err != nil {
		t.Fatal(err)
	}
	// Width max(int(10/200*64), 14) = 14, centred at x = (64-14)/2 = 25.
	for x := 0; x < S; x++ {
		v := px[32*S+x]
		inside := x >= 25 && x < 39
		if inside && math.Abs(float64(v-1)) > 1e-6 || !inside && math.Abs(float64(v-bg)) > 1e-6 {
			t.Fatalf("row 32, x %d: %v (inside %v)", x, v, inside)
		}
	}
}
