package models

import (
	"fmt"
	"sort"
	"strings"
)

// Source says how a catalog entry gets onto the disk.
type Source string

// Catalog sources.
const (
	// SourceHub entries are downloaded from the Hugging Face Hub.
	SourceHub Source = "hub"
	// SourceExport entries have no public ONNX export: a Python script
	// makes one from the upstream checkpoint.
	SourceExport Source = "export"
	// SourceLocal entries are folders already on disk.
	SourceLocal Source = "local"
)

// CatalogFile is one file a catalog entry needs.
type CatalogFile struct {
	Path string `json:"path"`
	// Size in bytes; approximate (as the Hub page rounds it) unless SHA256
	// is set, 0 when unknown. Downloads always use the listing's exact size.
	Size int64 `json:"size,omitempty"`
	// SHA256, when set, is checked against the Hub listing before anything
	// is downloaded (the listing's LFS digest is used in any case).
	SHA256 string `json:"sha256,omitempty"`
	// Optional files are fetched when present but not required.
	Optional bool `json:"optional,omitempty"`
}

// ExportRecipe describes how to make a model folder that has no public
// ONNX export.
type ExportRecipe struct {
	// Script is relative to the source tree's tools/ folder.
	Script string `json:"script"`
	// Checkpoint is the upstream Hub repository the script starts from;
	// CheckpointRevision pins it ("main" until pinned).
	Checkpoint         string `json:"checkpoint"`
	CheckpointRevision string `json:"checkpoint_revision"`
	// Download says whether the checkpoint is downloaded first (with the
	// resumable downloader) and given to the script as a folder.
	Download bool `json:"download"`
	// Include limits the checkpoint files downloaded.
	Include []string `json:"include,omitempty"`
	// Args are extra script arguments.
	Args     []string `json:"args,omitempty"`
	Requires string   `json:"requires"`
	Steps    string   `json:"steps"`
}

// CatalogEntry is one known model.
type CatalogEntry struct {
	Name   string `json:"name"`
	Title  string `json:"title"`
	Kind   Kind   `json:"kind"`
	Params string `json:"params,omitempty"`
	Source Source `json:"source"`
	// Repo and Revision locate hub entries. Revision is a commit id.
	Repo     string `json:"repo,omitempty"`
	Revision string `json:"revision,omitempty"`
	// Files are the needed files of hub entries (the variant in use only,
	// not the whole repository). For Janus they are the support files; the
	// graph files come from Variants.
	Files []CatalogFile `json:"files,omitempty"`
	// Variants maps a Janus dtype combination name to its graph files; the
	// first of JanusCombos is the default.
	Variants map[string][]CatalogFile `json:"variants,omitempty"`
	Export   *ExportRecipe            `json:"export,omitempty"`
	// Dir is the folder of a local entry.
	Dir        string `json:"dir,omitempty"`
	License    string `json:"license"`
	LicenseURL string `json:"license_url,omitempty"`
	Hardware   string `json:"hardware"`
	Notes      string `json:"notes,omitempty"`
}

const (
	sdxlBaseRepo     = "stabilityai/stable-diffusion-xl-base-1.0"
	sdxlBaseRevision = "462165984030d82259a11f4367a4eed129e94a7b"
	janus1BRepo      = "onnx-community/Janus-Pro-1B-ONNX"
	janus1BRevision  = "04efdf2e36cb07a034b0d94f7322356b292f0418"
)

const (
	kB = 1000
	mB = 1000 * kB
)

func sdxlTokenizerFiles(dir string) []CatalogFile {
	return []CatalogFile{
		{Path: dir + "/merges.txt", Size: 525 * kB},
		{Path: dir + "/vocab.json", Size: 1060 * kB},
		{Path: dir + "/special_tokens_map.json", Optional: true},
		{Path: dir + "/tokenizer_config.json", Optional: true},
	}
}

// Catalog returns the known models. Each call returns a fresh copy.
func Catalog() []CatalogEntry {
	sdxlFiles := []CatalogFile{
		{Path: "model_index.json", Optional: true},
		{Path: "scheduler/scheduler_config.json", Size: 479},
		{Path: "text_encoder/config.json", Optional: true},
		{Path: "text_encoder/model.onnx", Size: 493 * mB},
		{Path: "text_encoder_2/config.json", Optional: true},
		{Path: "text_encoder_2/model.onnx", Size: 1040 * kB},
		{Path: "text_encoder_2/model.onnx_data", Size: 2780 * mB},
		{Path: "unet/config.json", Optional: true},
		{Path: "unet/model.onnx", Size: 7290 * kB},
		{Path: "unet/model.onnx_data", Size: 10300 * mB},
		{Path: "vae_decoder/config.json", Optional: true},
		{Path: "vae_decoder/model.onnx", Size: 198 * mB},
		{Path: "vae_encoder/config.json", Optional: true},
		{Path: "vae_encoder/model.onnx", Size: 137 * mB},
	}
	sdxlFiles = append(sdxlFiles, sdxlTokenizerFiles("tokenizer")...)
	sdxlFiles = append(sdxlFiles, sdxlTokenizerFiles("tokenizer_2")...)

	return []CatalogEntry{
		{
			Name: "sdxl-base-1.0", Title: "Stable Diffusion XL base 1.0 (official ONNX export, fp32)",
			Kind: KindSDXLBase, Source: SourceHub, Repo: sdxlBaseRepo, Revision: sdxlBaseRevision,
			Files:      sdxlFiles,
			License:    "CreativeML Open RAIL++-M (use restrictions in Attachment A; you are responsible for outputs)",
			LicenseURL: "https://huggingface.co/stabilityai/stable-diffusion-xl-base-1.0/blob/main/LICENSE.md",
			Hardware: "about 14 GB download, fp32. CUDA: 16 GB+ of GPU memory for 1024x1024 (the UNet weights alone are 10.3 GB); " +
				"CPU: 32 GB RAM, minutes per image.",
			Notes: "Only the ONNX files, configs and tokenizers of the repository are fetched (not the PyTorch weights). " +
				"The ONNX export dates from July 2023 (optimum 1.10): int32 input_ids for text_encoder, int64 timestep, " +
				"vae_encoder outputs latent_sample.",
		},
		{
			Name: "janus-pro-1b", Title: "DeepSeek Janus-Pro-1B (onnx-community six-graph export)",
			Kind: KindJanus, Params: "1B", Source: SourceHub, Repo: janus1BRepo, Revision: janus1BRevision,
			Files: []CatalogFile{
				{Path: "config.json", Size: 1890},
				{Path: "generation_config.json", Size: 167, Optional: true},
				{Path: "preprocessor_config.json", Size: 346},
				{Path: "processor_config.json", Size: 288, Optional: true},
				{Path: "special_tokens_map.json", Size: 344, Optional: true},
				{Path: "tokenizer.json", Size: 4720 * kB},
				{Path: "tokenizer_config.json", Size: 1360, Optional: true},
			},
			Variants: janusVariants(),
			License: "DeepSeek Model License (use restrictions in Attachment A; the export's card says MIT, " +
				"the upstream weights are under the DeepSeek licence)",
			LicenseURL: "https://github.com/deepseek-ai/Janus/blob/main/LICENSE-MODEL",
			Hardware:   "about 3.0 GB download (fp32 combination). CPU: 8 GB RAM; CUDA: 6 GB of GPU memory. Images are 384x384.",
			Notes: "Dtype combinations: " + comboSummary() + ". Pick one with NAME:COMBO (for example janus-pro-1b:fp16). " +
				"The q4 graphs use the com.microsoft.MatMulNBits contrib operator (ONNX Runtime 1.17 or newer).",
		},
		{
			Name: "sdxl-refiner-1.0", Title: "Stable Diffusion XL refiner 1.0 (exported locally)",
			Kind: KindSDXLRefiner, Source: SourceExport,
			Export: &ExportRecipe{
				Script:     "export_sdxl_refiner.sh",
				Checkpoint: "stabilityai/stable-diffusion-xl-refiner-1.0", CheckpointRevision: "main",
				Requires: "Python 3.10+ with optimum-onnx (optimum-cli), diffusers, transformers, torch, onnx " +
					"(tools/.venv, or PYTHON=...); about 30 GB free disk and 32 GB RAM during the export",
				Steps: "optimum-cli export onnx --model stabilityai/stable-diffusion-xl-refiner-1.0 " +
					"--task image-to-image OUT (fetches the PyTorch weights from the Hub, about 6 GB fp16 / 12 GB fp32), " +
					"then the folder is checked and registered",
			},
			License:    "CreativeML Open RAIL++-M",
			LicenseURL: "https://huggingface.co/stabilityai/stable-diffusion-xl-refiner-1.0/blob/main/LICENSE.md",
			Hardware:   "fp32 export about 12 GB (UNet 9 GB). Runs after the base for the last 20% of the steps.",
			Notes:      "The official refiner repository has no ONNX files; the export recipe makes them.",
		},
		{
			Name: "janus-pro-7b", Title: "DeepSeek Janus-Pro-7B (exported locally to the six-graph layout)",
			Kind: KindJanus, Params: "7B", Source: SourceExport,
			Export: &ExportRecipe{
				Script:     "export_janus.py",
				Checkpoint: "deepseek-community/Janus-Pro-7B", CheckpointRevision: "main", Download: true,
				Include: []string{"*.json", "*.safetensors", "*.model", "*.txt"},
				Args:    []string{"--dtype", "fp16"},
				Requires: "Python 3.10+ with torch, transformers (Janus support), onnx (tools/.venv, or PYTHON=...); " +
					"about 60 GB free disk and 40 GB RAM during the export",
				Steps: "download the transformers-format checkpoint (about 15 GB, resumable), then " +
					"tools/export_janus.py CHECKPOINT OUT --dtype fp16, then the folder is checked and registered",
			},
			License:    "DeepSeek Model License",
			LicenseURL: "https://github.com/deepseek-ai/Janus/blob/main/LICENSE-MODEL",
			Hardware:   "fp16 export about 15 GB. CUDA: 24 GB of GPU memory; CPU: 32 GB RAM and patience.",
			Notes:      "No public ONNX export of 7B exists with the six-graph split (only third-party WebGPU q4f16 ones).",
		},
	}
}

// janus1BGraphs are the graph files of Janus-Pro-1B-ONNX at the pinned
// revision. Sizes and SHA-256s of the fp32 combination are the Hub's LFS
// metadata as published with the revision; the others are approximate.
var janus1BGraphs = map[string]CatalogFile{
	"prepare_inputs_embeds_q4":    {Size: 1_038_802_881, SHA256: "380c548a75687004c47f7a988f474d03d052b2154292e2a4d001d74d4d2cc845"},
	"language_model_q4":           {Size: 779_633_963, SHA256: "acdf40d04c8b0a42afbc1289332ac706b9ff2a9d7dd4bbd4806a5e5c9e388ca0"},
	"lm_head":                     {Size: 838_861_112, SHA256: "35120d0b88a8fb243b7edb7d1aeda1b0e288ef5137f996836046794e195fc0fc"},
	"gen_head":                    {Size: 151_070_926, SHA256: "c49d215163009f0a15f0861f8c31732650123f3d669cfa93d760f0dcd83b46c0"},
	"gen_img_embeds":              {Size: 17_385_630, SHA256: "9217a706c0676b16d0aa5caeb6e103eec78cc9f221d245105579d2c65bc5cb74"},
	"image_decode":                {Size: 170_460_651, SHA256: "5395223c9212df6dca1f29a540f7c5c78971c0d2ee7a3ac88a4e8f5f2b227fb8"},
	"prepare_inputs_embeds_q4f16": {Size: 596_699_315},
	"language_model_q4f16":        {Size: 698 * mB},
	"lm_head_fp16":                {Size: 419 * mB},
	"lm_head_q4f16":               {Size: 118 * mB},
	"gen_head_fp16":               {Size: 75_536_078},
	"gen_head_q4f16":              {Size: 21_300 * kB},
	"gen_img_embeds_fp16":         {}, // size not published
	"gen_img_embeds_q4f16":        {Size: 2_670 * kB},
	"image_decode_q4f16":          {Size: 85_300 * kB},
}

func janusVariants() map[string][]CatalogFile {
	out := map[string][]CatalogFile{}
	for _, combo := range JanusCombos() {
		var files []CatalogFile
		for _, g := range JanusGraphs {
			suffix, _ := DtypeSuffix(combo.Dtypes[g])
			f := janus1BGraphs[g+suffix]
			f.Path = "onnx/" + g + suffix + ".onnx"
			files = append(files, f)
		}
		out[combo.Name] = files
	}
	return out
}

func comboSummary() string {
	var parts []string
	for i, c := range JanusCombos() {
		s := c.Name
		if i == 0 {
			s += " (default)"
		}
		parts = append(parts, s+": "+c.Description)
	}
	return strings.Join(parts, "; ")
}

// Lookup finds a catalog entry by name. A Janus name may carry a dtype
// combination after a colon ("janus-pro-1b:fp16"); the combination name is
// returned as variant ("" for the default).
func Lookup(name string) (entry CatalogEntry, variant string, ok bool) {
	base, variant, _ := strings.Cut(name, ":")
	for _, e := range Catalog() {
		if e.Name == base {
			return e, variant, true
		}
	}
	return CatalogEntry{}, "", false
}

// CatalogNames lists the catalog's entry names, sorted.
func CatalogNames() []string {
	var out []string
	for _, e := range Catalog() {
		out = append(out, e.Name)
	}
	sort.Strings(out)
	return out
}

// NeededFiles returns the files a hub entry downloads for a variant ("" for
// the default).
func (e CatalogEntry) NeededFiles(variant string) ([]CatalogFile, error) {
	if e.Source != SourceHub {
		return nil, fmt.Errorf("%s is not downloaded from the Hub (source %s)", e.Name, e.Source)
	}
	files := append([]CatalogFile(nil), e.Files...)
	if len(e.Variants) == 0 {
		if variant != "" {
			return nil, fmt.Errorf("%s has no variants (asked for %q)", e.Name, variant)
		}
		return files, nil
	}
	if variant == "" {
		variant = JanusCombos()[0].Name
	}
	v, ok := e.Variants[variant]
	if !ok {
		var names []string
		for k := range e.Variants {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%s has no variant %q: expected one of %s", e.Name, variant, strings.Join(names, ", "))
	}
	return append(files, v...), nil
}

// DownloadSize sums the (possibly approximate) sizes of files.
func DownloadSize(files []CatalogFile) int64 {
	var n int64
	for _, f := range files {
		n += f.Size
	}
	return n
}
