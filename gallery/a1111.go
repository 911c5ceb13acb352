package gallery

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Param is one "Key: value" entry of an A1111 parameters line, in order.
type Param struct {
	Key   string
	Value string
}

// A1111Info is the content of an A1111 "parameters" text.
type A1111Info struct {
	Prompt   string
	Negative string
	Params   []Param // in file order, values unquoted
}

// Get returns the value of key and whether it was present.
func (a A1111Info) Get(key string) (string, bool) {
	for _, p := range a.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// A1111's infotext regex (modules/infotext_utils.py re_param), with Python's
// Unicode \w spelled out for RE2.
var reA1111Param = regexp.MustCompile(`\s*([\p{L}\p{N}_][\p{L}\p{N}_ \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`)

// FormatA1111 writes the text exactly as A1111's create_infotext does:
// prompt, "Negative prompt: ..." only when the negative is non-empty, then the
// params joined by ", ". A value equal to its key is written bare; a value
// with ',', '\n' or ':' is written as a JSON string (Python json.dumps with
// ensure_ascii=False). Params with an empty value are dropped.
func FormatA1111(info A1111Info) string {
	var b strings.Builder
	b.WriteString(info.Prompt)
	if info.Negative != "" {
		b.WriteString("\nNegative prompt: ")
		b.WriteString(info.Negative)
	}
	b.WriteString("\n")
	first := true
	for _, p := range info.Params {
		if p.Value == "" {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		if p.Key == p.Value {
			b.WriteString(p.Key)
			continue
		}
		b.WriteString(p.Key)
		b.WriteString(": ")
		b.WriteString(a1111Quote(p.Value))
	}
	return strings.TrimSpace(b.String())
}

// a1111Quote mirrors infotext_utils.quote: JSON-quote values that contain
// ',', '\n' or ':'.
func a1111Quote(s string) string {
	if !strings.ContainsAny(s, ",\n:") {
		return s
	}
	return pyJSONString(s)
}

// pyJSONString is Python's json.dumps(s, ensure_ascii=False) for a string:
// only '"', '\\' and control characters below 0x20 are escaped.
func pyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ParseA1111 reads an A1111 parameters text the way A1111's
// parse_generation_parameters does: the last line is the params line only if
// it has at least 3 "Key: value" matches; lines from one starting with
// "Negative prompt:" on are the negative; every line is trimmed; quoted values
// are JSON-decoded. It never fails: text without params is all prompt.
func ParseA1111(text string) A1111Info {
	var info A1111Info
	lines := strings.Split(pyStrip(text), "\n")
	last := lines[len(lines)-1]
	lines = lines[:len(lines)-1]
	if len(reA1111Param.FindAllStringSubmatchIndex(last, 3)) < 3 {
		lines = append(lines, last)
		last = ""
	}
	var prompt, negative []string
	done := false
	for _, line := range lines {
		line = pyStrip(line)
		if strings.HasPrefix(line, "Negative prompt:") {
			done = true
			line = pyStrip(line[len("Negative prompt:"):])
		}
		if done {
			negative = append(negative, line)
		} else {
			prompt = append(prompt, line)
		}
	}
	info.Prompt = joinSkippingFirstEmpty(prompt)
	info.Negative = joinSkippingFirstEmpty(negative)
	for _, m := range reA1111Param.FindAllStringSubmatch(last, -1) {
		k, v := m[1], m[2]
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			var s string
			if err := json.Unmarshal([]byte(v), &s); err == nil {
				v = s
			}
		}
		info.Params = append(info.Params, Param{Key: k, Value: v})
	}
	return info
}

// joinSkippingFirstEmpty mirrors A1111's `s += ("" if s == "" else "\n") + line`:
// empty leading lines vanish, later ones are kept.
func joinSkippingFirstEmpty(lines []string) string {
	s := ""
	for _, l := range lines {
		if s != "" {
			s += "\n"
		}
		s += l
	}
	return s
}

// pyStrip is Python's str.strip() for the whitespace that matters here.
func pyStrip(s string) string { return strings.TrimSpace(s) }

// samplerLabels maps Diptych scheduler names to A1111 sampler labels and, when
// it differs from A1111's automatic choice, the schedule type.
var samplerLabels = map[string]struct{ sampler, schedule string }{
	"euler":           {"Euler", ""},
	"euler_a":         {"Euler a", ""},
	"heun":            {"Heun", ""},
	"ddim":            {"DDIM", ""},
	"dpmpp_2m":        {"DPM++ 2M", "Uniform"}, // A1111's automatic schedule for DPM++ 2M is Karras
	"dpmpp_2m_karras": {"DPM++ 2M", "Karras"},
	"unipc":           {"UniPC", ""},
	"janus":           {"Janus-AR", ""},
}

// A1111Sampler returns the A1111 sampler label and schedule type (empty when
// A1111's automatic choice matches) for a Diptych scheduler name. Unknown
// names are returned unchanged.
func A1111Sampler(scheduler string) (sampler, schedule string) {
	if l, ok := samplerLabels[scheduler]; ok {
		return l.sampler, l.schedule
	}
	return scheduler, ""
}

// SchedulerFromA1111 maps an A1111 sampler label (old "DPM++ 2M Karras" or new
// label + "Schedule type") back to a Diptych scheduler name. Labels without a
// Diptych twin come back lower-cased with spaces as underscores.
func SchedulerFromA1111(sampler, schedule string) string {
	s := strings.TrimSpace(sampler)
	karras := strings.EqualFold(schedule, "karras")
	if strings.HasSuffix(s, " Karras") {
		karras = true
		s = strings.TrimSuffix(s, " Karras")
	}
	switch strings.ToLower(s) {
	case "euler":
		return "euler"
	case "euler a", "euler_a", "euler_ancestral":
		return "euler_a"
	case "heun":
		return "heun"
	case "ddim":
		return "ddim"
	case "dpm++ 2m", "dpmpp_2m":
		if karras {
			return "dpmpp_2m_karras"
		}
		return "dpmpp_2m"
	case "unipc", "uni_pc":
		return "unipc"
	case "janus-ar":
		return "janus"
	}
	out := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s, "++", "pp"), " ", "_"))
	if karras {
		out += "_karras"
	}
	return out
}

// a1111RNG maps our generator kinds to A1111's RNG values ("GPU" is A1111's
// default and is left out).
func a1111RNG(kind string) string {
	switch strings.ToLower(kind) {
	case "", "gpu", "cuda":
		return ""
	case "cpu", "torch-cpu", "mt19937":
		return "CPU"
	case "nv", "philox":
		return "NV"
	}
	return kind
}

func rngFromA1111(v string) string {
	switch v {
	case "CPU":
		return "cpu"
	case "NV":
		return "philox"
	case "", "GPU":
		return "gpu"
	}
	return strings.ToLower(v)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// A1111FromGeneration builds the parameters text for g in A1111's key order:
// Steps, Sampler, Schedule type, CFG scale, Seed, Size, Model hash, Model,
// Denoising strength, RNG, then our extra keys (Temperature, ONNX EP,
// Precision), then Version.
func A1111FromGeneration(g Generation) A1111Info {
	info := A1111Info{Prompt: g.Prompt, Negative: g.NegativePrompt}
	add := func(k, v string) { info.Params = append(info.Params, Param{k, v}) }
	sampler, schedule := A1111Sampler(g.Scheduler)
	if g.Steps > 0 {
		add("Steps", strconv.Itoa(g.Steps))
	}
	add("Sampler", sampler)
	add("Schedule type", schedule)
	if g.Guidance != 0 {
		add("CFG scale", formatFloat(g.Guidance))
	}
	add("Seed", strconv.FormatUint(g.Seed, 10))
	if g.Width > 0 && g.Height > 0 {
		add("Size", fmt.Sprintf("%dx%d", g.Width, g.Height))
	}
	if len(g.ModelHash) >= 10 {
		add("Model hash", strings.ToLower(g.ModelHash[:10]))
	}
	add("Model", g.Model)
	if v, ok := g.Params["denoising_strength"].(float64); ok {
		add("Denoising strength", formatFloat(v))
	}
	add("RNG", a1111RNG(g.RNG))
	if g.Temperature != 0 {
		add("Temperature", formatFloat(g.Temperature))
	}
	add("ONNX EP", g.ExecutionProvider)
	add("Precision", g.Precision)
	if g.AppVersion != "" {
		add("Version", "diptych/"+g.AppVersion)
	} else {
		add("Version", "diptych")
	}
	return info
}

// generationFromA1111 fills the settings that an A1111 text carries. Every
// param is also kept in Params["a1111"].
func generationFromA1111(info A1111Info) Generation {
	g := Generation{Prompt: info.Prompt, NegativePrompt: info.Negative, Status: StatusOK}
	raw := make(map[string]any, len(info.Params))
	var sampler, schedule string
	for _, p := range info.Params {
		raw[p.Key] = p.Value
		switch p.Key {
		case "Steps":
			g.Steps, _ = strconv.Atoi(p.Value)
		case "Sampler":
			sampler = p.Value
		case "Schedule type", "Scheduler":
			schedule = p.Value
		case "CFG scale":
			g.Guidance, _ = strconv.ParseFloat(p.Value, 64)
		case "Seed":
			g.Seed = parseSeed(p.Value)
		case "Size":
			g.Width, g.Height = parseSize(p.Value)
		case "Model hash":
			g.ModelHash = p.Value
		case "Model":
			g.Model = p.Value
		case "RNG":
			g.RNG = rngFromA1111(p.Value)
		case "Temperature":
			g.Temperature, _ = strconv.ParseFloat(p.Value, 64)
		case "ONNX EP":
			g.ExecutionProvider = p.Value
		case "Precision":
			g.Precision = p.Value
		case "Version":
			if v, ok := strings.CutPrefix(p.Value, "diptych/"); ok {
				g.AppVersion = v
			}
		case "Raw prompt": // Fooocus keeps the unexpanded prompt here
			g.Prompt = p.Value
		case "Raw negative prompt":
			g.NegativePrompt = p.Value
		}
	}
	if sampler != "" {
		g.Scheduler = SchedulerFromA1111(sampler, schedule)
	}
	if g.Scheduler == "janus" {
		g.Engine = "janus"
	}
	g.Params = map[string]any{"a1111": raw}
	return g
}

// parseSeed accepts a decimal seed; negative values (A1111's -1 "random")
// and junk give 0.
func parseSeed(s string) uint64 {
	s = strings.TrimSpace(s)
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && f < 1<<64 {
		return uint64(f)
	}
	return 0
}

var reSize = regexp.MustCompile(`^\s*\(?\s*'?(\d{1,6})'?\s*[x×*,]\s*'?(\d{1,6})'?\s*\)?\s*$`)

// parseSize reads "WxH" (also Fooocus' "(W, H)" and "W*H").
func parseSize(s string) (int, int) {
	m := reSize.FindStringSubmatch(s)
	if m == nil {
		return 0, 0
	}
	w, _ := strconv.Atoi(m[1])
	h, _ := strconv.Atoi(m[2])
	return w, h
}
