package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ParseMetadata reads generation settings from a PNG's text chunks. It
// recognises Diptych's own chunk, InvokeAI, ComfyUI, Fooocus (both schemes),
// SwarmUI and A1111 text, and returns the settings and the source (one of
// the Source* constants). Unknown or damaged metadata gives SourceUnknown
// and a Generation with only Status set; it never fails.
func ParseMetadata(chunks []TextChunk) (Generation, string) {
	m := textMap(chunks)
	if js, ok := m[MetaKeyword]; ok {
		var meta fileMeta
		if err := json.Unmarshal([]byte(js), &meta); err == nil && meta.Schema >= 1 && meta.App == "diptych" {
			return meta.generation(), SourceDiptych
		}
	}
	if js, ok := m["invokeai_metadata"]; ok {
		if g, ok := parseInvokeAI(js); ok {
			return g, SourceInvoke
		}
	}
	if js, ok := m["prompt"]; ok {
		if g, ok := parseComfyUI(js); ok {
			if p, ok := m["parameters"]; ok { // ComfyUI-Image-Saver adds A1111 text
				fillMissing(&g, generationFromA1111(ParseA1111(p)))
			}
			return g, SourceComfyUI
		}
	}
	if p, ok := m["parameters"]; ok {
		trimmed := strings.TrimSpace(p)
		if strings.HasPrefix(trimmed, "{") {
			var obj map[string]any
			if err := json.Unmarshal([]byte(trimmed), &obj); err == nil {
				if sui, ok := obj["sui_image_params"].(map[string]any); ok {
					return parseSwarm(sui), "swarmui"
				}
				return parseFooocusJSON(obj), SourceFooocus
			}
		}
		info := ParseA1111(p)
		if info.Prompt != "" || len(info.Params) >= 3 {
			g := generationFromA1111(info)
			if _, ok := m["fooocus_scheme"]; ok {
				return g, SourceFooocus
			}
			return g, SourceA1111
		}
	}
	return Generation{Status: StatusOK}, SourceUnknown
}

// fillMissing copies settings from b into a where a has none.
func fillMissing(a *Generation, b Generation) {
	if a.Prompt == "" {
		a.Prompt, a.NegativePrompt = b.Prompt, b.NegativePrompt
	}
	if a.Model == "" {
		a.Model = b.Model
	}
	if a.ModelHash == "" {
		a.ModelHash = b.ModelHash
	}
	if a.Steps == 0 {
		a.Steps = b.Steps
	}
	if a.Seed == 0 {
		a.Seed = b.Seed
	}
	if a.Scheduler == "" {
		a.Scheduler = b.Scheduler
	}
	if a.Guidance == 0 {
		a.Guidance = b.Guidance
	}
	if a.Width == 0 || a.Height == 0 {
		a.Width, a.Height = b.Width, b.Height
	}
}

// jsonNumber reads a JSON number or numeric string.
func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func jsonInt(v any) int {
	f, ok := jsonNumber(v)
	if !ok || math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
		return 0
	}
	return int(f)
}

func jsonSeed(v any) uint64 {
	switch x := v.(type) {
	case json.Number:
		return parseSeed(x.String())
	case string:
		return parseSeed(x)
	case float64:
		if x >= 0 && x < 1<<64 {
			return uint64(x)
		}
	}
	return 0
}

func jsonString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// decodeJSON decodes with numbers kept exact (seeds exceed 2^53).
func decodeJSON(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d.Decode(v)
}

// schedulerFromComfy maps ComfyUI/Fooocus/InvokeAI sampler + scheduler names.
func schedulerFromComfy(sampler, scheduler string) string {
	karras := scheduler == "karras"
	sampler = strings.TrimSuffix(sampler, "_gpu") // ComfyUI's GPU-noise variants
	switch sampler {
	case "euler":
		return "euler"
	case "euler_ancestral", "euler_a":
		return "euler_a"
	case "heun":
		return "heun"
	case "ddim":
		return "ddim"
	case "dpmpp_2m":
		if karras {
			return "dpmpp_2m_karras"
		}
		return "dpmpp_2m"
	case "dpmpp_2m_k":
		return "dpmpp_2m_karras"
	case "uni_pc", "unipc":
		return "unipc"
	}
	if karras && sampler != "" {
		return sampler + "_karras"
	}
	return sampler
}

func parseInvokeAI(js string) (Generation, bool) {
	var m map[string]any
	if err := decodeJSON(js, &m); err != nil {
		return Generation{}, false
	}
	g := Generation{Status: StatusOK, Engine: SourceInvoke, Params: map[string]any{"invokeai": m}}
	g.Prompt = jsonString(m["positive_prompt"])
	g.NegativePrompt = jsonString(m["negative_prompt"])
	g.Width, g.Height = jsonInt(m["width"]), jsonInt(m["height"])
	g.Seed = jsonSeed(m["seed"])
	g.Guidance, _ = jsonNumber(m["cfg_scale"])
	g.Steps = jsonInt(m["steps"])
	g.Scheduler = schedulerFromComfy(jsonString(m["scheduler"]), "")
	g.RNG = jsonString(m["rand_device"])
	switch model := m["model"].(type) {
	case string:
		g.Model = model
	case map[string]any:
		g.Model = jsonString(model["name"])
		if g.Model == "" {
			g.Model = jsonString(model["model_name"])
		}
		g.ModelHash = jsonString(model["hash"])
	}
	return g, true
}

type comfyNode struct {
	ClassType string         `json:"class_type"`
	Inputs    map[string]any `json:"inputs"`
}

// parseComfyUI reads an API-format graph: it finds the sampler node and
// follows its links to the prompts, the latent size and the checkpoint.
func parseComfyUI(js string) (Generation, bool) {
	var graph map[string]comfyNode
	if err := decodeJSON(js, &graph); err != nil || len(graph) == 0 {
		return Generation{}, false
	}
	ids := make([]string, 0, len(graph))
	for id, n := range graph {
		if n.ClassType == "" {
			return Generation{}, false // not an API graph
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var sampler *comfyNode
	for _, id := range ids {
		n := graph[id]
		if strings.HasPrefix(n.ClassType, "KSampler") || strings.HasPrefix(n.ClassType, "SamplerCustom") {
			sampler = &n
			break
		}
	}
	g := Generation{Status: StatusOK, Engine: SourceComfyUI, Params: map[string]any{"comfyui_prompt": json.RawMessage(js)}}
	if sampler == nil {
		return g, true
	}
	in := sampler.Inputs
	// resolve follows a link ["node", output] to a literal input of the
	// linked node, trying the given input names, at most a few hops deep.
	var resolve func(v any, names []string, depth int) any
	resolve = func(v any, names []string, depth int) any {
		link, ok := v.([]any)
		if !ok {
			return v
		}
		if depth > 8 || len(link) != 2 {
			return nil
		}
		n, ok := graph[jsonString(link[0])]
		if !ok {
			return nil
		}
		for _, name := range names {
			if x, ok := n.Inputs[name]; ok {
				return resolve(x, names, depth+1)
			}
		}
		return nil
	}
	seedV := in["seed"]
	if seedV == nil {
		seedV = in["noise_seed"]
	}
	g.Seed = jsonSeed(resolve(seedV, []string{"seed", "noise_seed", "value", "int"}, 0))
	g.Steps = jsonInt(resolve(in["steps"], []string{"steps", "value", "int"}, 0))
	g.Guidance, _ = jsonNumber(resolve(in["cfg"], []string{"cfg", "value", "float"}, 0))
	g.Scheduler = schedulerFromComfy(
		jsonString(resolve(in["sampler_name"], []string{"sampler_name", "value"}, 0)),
		jsonString(resolve(in["scheduler"], []string{"scheduler", "value"}, 0)))
	textNames := []string{"text", "text_g", "string", "value", "conditioning", "conditioning_1", "positive"}
	g.Prompt = jsonString(resolve(in["positive"], textNames, 0))
	g.NegativePrompt = jsonString(resolve(in["negative"], textNames, 0))
	g.Width = jsonInt(resolve(in["latent_image"], []string{"width", "samples", "latent_image", "value"}, 0))
	g.Height = jsonInt(resolve(in["latent_image"], []string{"height", "samples", "latent_image", "value"}, 0))
	g.Model = jsonString(resolve(in["model"], []string{"ckpt_name", "unet_name", "model_name", "model"}, 0))
	return g, true
}

func parseFooocusJSON(m map[string]any) Generation {
	g := Generation{Status: StatusOK, Engine: SourceFooocus, Params: map[string]any{"fooocus": m}}
	g.Prompt = jsonString(m["prompt"])
	g.NegativePrompt = jsonString(m["negative_prompt"])
	g.Width, g.Height = parseSize(jsonString(m["resolution"]))
	g.Guidance, _ = jsonNumber(m["guidance_scale"])
	g.Steps = jsonInt(m["steps"])
	g.Seed = jsonSeed(m["seed"])
	g.Scheduler = schedulerFromComfy(jsonString(m["sampler"]), jsonString(m["scheduler"]))
	g.Model = jsonString(m["base_model"])
	g.ModelHash = jsonString(m["base_model_hash"])
	return g
}

func parseSwarm(m map[string]any) Generation {
	g := Generation{Status: StatusOK, Engine: "swarmui", Params: map[string]any{"swarmui": m}}
	g.Prompt = jsonString(m["prompt"])
	g.NegativePrompt = jsonString(m["negativeprompt"])
	g.Width, g.Height = jsonInt(m["width"]), jsonInt(m["height"])
	g.Guidance, _ = jsonNumber(m["cfgscale"])
	g.Steps = jsonInt(m["steps"])
	g.Seed = jsonSeed(m["seed"])
	g.Scheduler = schedulerFromComfy(jsonString(m["sampler"]), jsonString(m["scheduler"]))
	g.Model = jsonString(m["model"])
	return g
}

// ImportReport says what Import did.
type ImportReport struct {
	Scanned  int             `json:"scanned"`
	Imported int             `json:"imported"`
	Skipped  int             `json:"skipped"` // already in the library (same SHA-256)
	Formats  map[string]int  `json:"formats"` // source → files imported
	Failed   []ImportFailure `json:"failed,omitempty"`
	Items    []ImportedItem  `json:"items,omitempty"`
}

// ImportFailure is a file that could not be imported and why.
type ImportFailure struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// ImportedItem is one imported file and its new generation id.
type ImportedItem struct {
	Path   string `json:"path"`
	ID     int64  `json:"id"`
	Source string `json:"source"`
}

// maxImportFile bounds the size of a PNG Import reads.
const maxImportFile = 512 << 20

// Import copies every PNG under dir (recursively) into the library as
// history rows, with prompt and settings parsed from its metadata; files
// with unknown metadata keep the image with no settings. Files are copied
// byte for byte (their own metadata stays). A file already in the library is
// skipped; a file that is not a readable PNG is reported, not fatal.
func (s *Store) Import(ctx context.Context, dir string) (ImportReport, error) {
	rep := ImportReport{Formats: map[string]int{}}
	info, err := os.Stat(dir)
	if err != nil {
		return rep, fmt.Errorf("import %s: %w", dir, err)
	}
	if !info.IsDir() {
		return rep, fmt.Errorf("import %s: not a folder", dir)
	}
	absDir, _ := filepath.Abs(dir)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			rep.Failed = append(rep.Failed, ImportFailure{p, err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if abs, _ := filepath.Abs(p); abs == s.root && abs != absDir {
				return fs.SkipDir // never import the library into itself
			}
			return nil
		}
		if !strings.EqualFold(filepath.Ext(p), ".png") || !d.Type().IsRegular() {
			return nil
		}
		rep.Scanned++
		id, source, skipped, err := s.importFile(ctx, p)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.Failed = append(rep.Failed, ImportFailure{p, err.Error()})
		case skipped:
			rep.Skipped++
		default:
			rep.Imported++
			rep.Formats[source]++
			rep.Items = append(rep.Items, ImportedItem{Path: p, ID: id, Source: source})
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("import %s: %w", dir, err)
	}
	return rep, nil
}

// importFile imports one PNG; skipped is true when its bytes are already in
// the library.
func (s *Store) importFile(ctx context.Context, p string) (id int64, source string, skipped bool, err error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, "", false, err
	}
	if st.Size() > maxImportFile {
		return 0, "", false, fmt.Errorf("%s: %d bytes, more than the %d allowed", p, st.Size(), maxImportFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxImportFile))
	if err != nil {
		return 0, "", false, fmt.Errorf("read %s: %w", p, err)
	}
	sum := sha256.Sum256(data)
	if dup, err := s.hasImage(ctx, hex.EncodeToString(sum[:])); err != nil {
		return 0, "", false, err
	} else if dup {
		return 0, "", true, nil
	}
	g, source := generationFromPNG(data)
	if g.CreatedAt.IsZero() {
		g.CreatedAt = st.ModTime()
	}
	if g.Params == nil {
		g.Params = map[string]any{}
	}
	g.Params["imported_from"] = p
	out, err := s.save(ctx, g, nil, data, true)
	if err != nil {
		return 0, "", false, fmt.Errorf("%s: %w", p, err)
	}
	return out.ID, source, false, nil
}

// generationFromPNG parses the metadata of PNG bytes; damaged text chunks
// count as no metadata.
func generationFromPNG(data []byte) (Generation, string) {
	chunks, _ := ReadPNGText(bytes.NewReader(data)) // keep whatever was read before an error
	g, source := ParseMetadata(chunks)
	g.Source = source
	if g.Engine == "" {
		g.Engine = source
	}
	g.ID, g.PromptID, g.GroupID = 0, 0, 0
	return g, source
}

func (s *Store) hasImage(ctx context.Context, sha string) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM images WHERE sha256 = ?`, sha).Scan(&n); err != nil {
		return false, fmt.Errorf("look up image %s: %w", sha, err)
	}
	return n > 0, nil
}
