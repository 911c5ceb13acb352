package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"diptych/gallery"
)

// Describer answers a question about an image (Janus-Pro's understanding
// side). Bind the local engine with JanusDescriber; tests fake it.
type Describer interface {
	Describe(ctx context.Context, img image.Image, question string) (string, error)
}

// Captioner is the engine method JanusDescriber binds; *LocalEngine has it.
type Captioner interface {
	Caption(ctx context.Context, modelDir, device string, img image.Image, question string,
		maxTokens int, onToken func(string)) (string, error)
}

// critic answers are short: a yes/no and one sentence.
const criticMaxTokens = 96

// JanusDescriber binds an engine's Janus captioning to a model folder and
// device.
func JanusDescriber(c Captioner, modelDir, device string) Describer {
	return boundDescriber{c: c, dir: modelDir, device: device}
}

type boundDescriber struct {
	c           Captioner
	dir, device string
}

func (b boundDescriber) Describe(ctx context.Context, img image.Image, question string) (string, error) {
	return b.c.Caption(ctx, b.dir, b.device, img, question, criticMaxTokens, nil)
}

// CaptionStore keeps Janus answers with generations; *gallery.Store has it.
type CaptionStore interface {
	AddCaption(ctx context.Context, id int64, c gallery.Caption) (gallery.Caption, error)
}

// CaptionQuestion is what the critic asks for a caption.
const CaptionQuestion = "Describe this image in one sentence."

// Caption kinds the critic stores.
const (
	CaptionKindAlignment = "alignment"
	CaptionKindDescribe  = "describe"
)

// Verdicts of the critic.
const (
	CriticYes     = "yes"
	CriticNo      = "no"
	CriticUnclear = "unclear"
)

// CriticVerdict is what the critic said about one image.
type CriticVerdict struct {
	GenerationID int64  `json:"generation_id"`
	Question     string `json:"question"`
	Answer       string `json:"answer"`  // Janus's words
	Match        string `json:"match"`   // CriticYes, CriticNo or CriticUnclear
	Caption      string `json:"caption"` // one-sentence description
}

// CriticQuestion builds the yes/no question for a prompt: "Does this image
// show a red fox in the snow? Answer yes or no."
func CriticQuestion(prompt string) string {
	p := strings.Join(strings.Fields(prompt), " ")
	p = strings.TrimRightFunc(p, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
	// Lower-case a capitalised first word ("A fox" → "a fox") but keep
	// acronyms and "I" ("NASA rocket").
	word, _, _ := strings.Cut(p, " ")
	if r, n := utf8.DecodeRuneInString(word); unicode.IsUpper(r) && word != "I" && strings.ToLower(word[n:]) == word[n:] {
		p = string(unicode.ToLower(r)) + p[n:]
	}
	return "Does this image show " + p + "? Answer yes or no."
}

// ParseYesNo reads a yes/no answer: its first word when that is yes or no,
// else the only one of the two words it contains; CriticUnclear otherwise.
func ParseYesNo(answer string) string {
	words := strings.FieldsFunc(strings.ToLower(answer), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(words) == 0 {
		return CriticUnclear
	}
	switch words[0] {
	case "yes", "yeah", "yep":
		return CriticYes
	case "no", "nope":
		return CriticNo
	}
	yes, no := false, false
	for _, w := range words {
		yes = yes || w == "yes"
		no = no || w == "no"
	}
	switch {
	case yes && !no:
		return CriticYes
	case no && !yes:
		return CriticNo
	}
	return CriticUnclear
}

// Critique asks d whether img shows prompt and for a caption, and stores
// both with generation id (when store is not nil) so that they are searchable.
// model names the critic in the stored captions.
func Critique(ctx context.Context, d Describer, store CaptionStore, id int64, img image.Image, prompt, model string) (CriticVerdict, error) {
	if d == nil {
		return CriticVerdict{}, errors.New("critic: no Janus model to ask")
	}
	if img == nil {
		return CriticVerdict{}, fmt.Errorf("critic: generation %d has no image", id)
	}
	v := CriticVerdict{GenerationID: id, Question: CriticQuestion(prompt)}
	var err error
	if v.Answer, err = d.Describe(ctx, img, v.Question); err != nil {
		return v, fmt.Errorf("critic: ask about generation %d: %w", id, err)
	}
	v.Answer = strings.TrimSpace(v.Answer)
	v.Match = ParseYesNo(v.Answer)
	if v.Caption, err = d.Describe(ctx, img, CaptionQuestion); err != nil {
		return v, fmt.Errorf("critic: caption generation %d: %w", id, err)
	}
	v.Caption = strings.TrimSpace(v.Caption)
	if store == nil || id == 0 {
		return v, nil
	}
	for _, c := range []gallery.Caption{
		{Kind: CaptionKindAlignment, Question: v.Question, Answer: v.Answer, Model: model},
		{Kind: CaptionKindDescribe, Question: CaptionQuestion, Answer: v.Caption, Model: model},
	} {
		if _, err := store.AddCaption(ctx, id, c); err != nil {
			return v, fmt.Errorf("critic: store the answer for generation %d: %w", id, err)
		}
	}
	return v, nil
}

// CriticLibrary is what CritiqueGroup reads and writes; *gallery.Store has it.
type CriticLibrary interface {
	CaptionStore
	List(ctx context.Context, q gallery.Query) (gallery.Page, error)
	Path(rel string) string
}

// CritiqueGroup is the critic's batch form: it scores every image of a
// gallery group (a sweep, a compare pair), in group order, and stores the
// answers. Failed runs (no image) are skipped.
func CritiqueGroup(ctx context.Context, d Describer, lib CriticLibrary, groupID int64, model string) ([]CriticVerdict, error) {
	var gens []gallery.Generation
	q := gallery.Query{GroupID: groupID, Limit: 500}
	for {
		page, err := lib.List(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("critic: list group %d: %w", groupID, err)
		}
		gens = append(gens, page.Items...)
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("critic: group %d has no generations", groupID)
	}
	sortByGroupIndex(gens)
	var out []CriticVerdict
	for _, g := range gens {
		if g.Image == nil {
			continue
		}
		img, err := LoadImage(lib.Path(g.Image.Path))
		if err != nil {
			return out, fmt.Errorf("critic: generation %d: %w", g.ID, err)
		}
		v, err := Critique(ctx, d, lib, g.ID, img, g.Prompt, model)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

func sortByGroupIndex(gens []gallery.Generation) {
	slices.SortStableFunc(gens, func(a, b gallery.Generation) int {
		if c := cmp.Compare(a.GroupIndex, b.GroupIndex); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// criticModelName names a Janus folder in stored captions.
func criticModelName(dir string) string {
	if dir == "" {
		return "janus"
	}
	return filepath.Base(filepath.Clean(dir))
}
