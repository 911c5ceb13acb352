package app

import (
	"context"
	"errors"
	"image"
	"image/color"
	"strings"
	"sync"
	"testing"

	"diptych/gallery"
)

// fakeDescriber answers the yes/no question with yes and the caption
// question with a fixed sentence, recording every question.
type fakeDescriber struct {
	mu        sync.Mutex
	questions []string
	answer    string
	caption   string
	fail      error
}

func (f *fakeDescriber) Describe(ctx context.Context, img image.Image, question string) (string, error) {
	f.mu.Lock()
	f.questions = append(f.questions, question)
	f.mu.Unlock()
	if img == nil {
		return "", errors.New("no image")
	}
	if f.fail != nil {
		return "", f.fail
	}
	if question == CaptionQuestion {
		return f.caption, nil
	}
	return f.answer, nil
}

func TestCriticQuestion(t *testing.T) {
	for in, want := range map[string]string{
		"A red fox in the snow.":          "Does this image show a red fox in the snow? Answer yes or no.",
		"  a   lighthouse at dusk!!  ":    "Does this image show a lighthouse at dusk? Answer yes or no.",
		"NASA rocket on the pad":          "Does this image show NASA rocket on the pad? Answer yes or no.",
		"Über-modern kitchen, 8k, sharp,": "Does this image show über-modern kitchen, 8k, sharp? Answer yes or no.",
	} {
		if got := CriticQuestion(in); got != want {
			t.Errorf("CriticQuestion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseYesNo(t *testing.T) {
	for in, want := range map[string]string{
		"Yes.":                                 CriticYes,
		"yes, it shows a fox":                  CriticYes,
		"No":                                   CriticNo,
		"No, there is no fox; yes, snow":       CriticNo,
		"The image shows a fox, so yes.":       CriticYes,
		"It is hard to say, there is no fox.":  CriticNo,
		"I cannot tell":                        CriticUnclear,
		"":                                     CriticUnclear,
		"Maybe yes, maybe no":                  CriticUnclear,
		"Yesterday I saw a fox":                CriticUnclear,
		"]Bcrif\x1b]Bcrif_\v]Bcrif_\vOonow":    CriticUnclear,
		"Nope.":                                CriticNo,
		"\"Yes\" - the fox is in the snow too": CriticYes,
	} {
		if got := ParseYesNo(in); got != want {
			t.Errorf("ParseYesNo(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCritiqueStoresSearchableCaptions(t *testing.T) {
	ctx := context.Background()
	lib := openLibrary(t)
	img := solid(32, 32, color.RGBA{200, 100, 0, 255})
	saved, err := lib.Save(ctx, gallery.SaveRequest{Generation: gallery.Generation{Engine: "sdxl", Model: "base",
		Prompt: "a red fox in the snow", Status: gallery.StatusOK, Source: gallery.SourceDiptych}, Image: img})
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDescriber{answer: " Yes. ", caption: "An orange square that resembles a unicorn. "}
	v, err := Critique(ctx, d, lib, saved.ID, img, saved.Prompt, "janus-tiny")
	if err != nil {
		t.Fatal(err)
	}
	if v.Match != CriticYes || v.Answer != "Yes." || v.Caption != "An orange square that resembles a unicorn." {
		t.Fatalf("verdict %+v", v)
	}
	if want := []string{"Does this image show a red fox in the snow? Answer yes or no.", CaptionQuestion}; strings.Join(d.questions, "|") != strings.Join(want, "|") {
		t.Fatalf("questions %q, want %q", d.questions, want)
	}
	got, err := lib.Get(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Captions) != 2 {
		t.Fatalf("stored captions %+v, want 2", got.Captions)
	}
	kinds := map[string]gallery.Caption{}
	for _, c := range got.Captions {
		kinds[c.Kind] = c
	}
	if a := kinds[CaptionKindAlignment]; a.Answer != "Yes." || a.Question != v.Question || a.Model != "janus-tiny" {
		t.Fatalf("alignment caption %+v", a)
	}
	if c := kinds[CaptionKindDescribe]; c.Answer != v.Caption {
		t.Fatalf("describe caption %+v", c)
	}
	// The caption is searchable: a word only it contains finds the image.
	page, err := lib.List(ctx, gallery.Query{Text: "unicorn"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].ID != saved.ID {
		t.Fatalf("search for a caption word found %d items", len(page.Items))
	}
	// The compare view's lines show the verdict.
	lines := strings.Join(GenerationLines("SDXL", got), "\n")
	if !strings.Contains(lines, "critic: yes (Yes.)") || !strings.Contains(lines, "caption: An orange square") {
		t.Fatalf("lines:\n%s", lines)
	}
}

func TestCritiqueErrors(t *testing.T) {
	ctx := context.Background()
	img := solid(8, 8, color.RGBA{1, 2, 3, 255})
	if _, err := Critique(ctx, nil, nil, 1, img, "p", ""); err == nil || !strings.Contains(err.Error(), "no Janus model") {
		t.Fatalf("nil describer: %v", err)
	}
	if _, err := Critique(ctx, &fakeDescriber{}, nil, 5, nil, "p", ""); err == nil || !strings.Contains(err.Error(), "generation 5 has no image") {
		t.Fatalf("nil image: %v", err)
	}
	boom := errors.New("janus: out of memory")
	if _, err := Critique(ctx, &fakeDescriber{fail: boom}, nil, 6, img, "p", ""); !errors.Is(err, boom) || !strings.Contains(err.Error(), "generation 6") {
		t.Fatalf("describer failure: %v", err)
	}
}

// captionerFunc satisfies Captioner.
type captionerFunc func(ctx context.Context, dir, device string, img image.Image, q string, max int, on func(string)) (string, error)

func (f captionerFunc) Caption(ctx context.Context, dir, device string, img image.Image, q string, max int, on func(string)) (string, error) {
	return f(ctx, dir, device, img, q, max, on)
}

func TestJanusDescriberBindsFolderAndDevice(t *testing.T) {
	var gotDir, gotDev string
	var gotMax int
	d := JanusDescriber(captionerFunc(func(_ context.Context, dir, dev string, _ image.Image, q string, max int, _ func(string)) (string, error) {
		gotDir, gotDev, gotMax = dir, dev, max
		return "no: " + q, nil
	}), "/models/janus", "cuda:1")
	ans, err := d.Describe(context.Background(), solid(8, 8, color.RGBA{}), "Is it red?")
	if err != nil || ans != "no: Is it red?" || gotDir != "/models/janus" || gotDev != "cuda:1" || gotMax != criticMaxTokens {
		t.Fatalf("answer %q err %v dir %q device %q max %d", ans, err, gotDir, gotDev, gotMax)
	}
}
