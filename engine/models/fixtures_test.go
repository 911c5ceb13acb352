package models

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"diptych/engine/onnx"
)

// tio is one graph input or output of a fake ONNX file. Dims are int for a
// fixed size or string for a symbolic one.
type tio struct {
	name string
	typ  onnx.ElementType
	dims []any
}

func pbKey(field, wire int) []byte { return binary.AppendUvarint(nil, uint64(field<<3|wire)) }

func pbVarint(field int, v uint64) []byte { return binary.AppendUvarint(pbKey(field, 0), v) }

func pbBytes(field int, b []byte) []byte {
	out := binary.AppendUvarint(pbKey(field, 2), uint64(len(b)))
	return append(out, b...)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func valueInfo(v tio) []byte {
	var shape []byte
	for _, d := range v.dims {
		switch d := d.(type) {
		case int:
			shape = append(shape, pbBytes(1, pbVarint(1, uint64(d)))...)
		case string:
			shape = append(shape, pbBytes(1, pbBytes(2, []byte(d)))...)
		}
	}
	tensor := cat(pbVarint(1, uint64(v.typ)), pbBytes(2, shape))
	return cat(pbBytes(1, []byte(v.name)), pbBytes(2, pbBytes(1, tensor)))
}

// onnxBytes encodes a minimal ModelProto (ir_version, opset, graph with the
// given inputs and outputs). A non-empty externalData adds an initializer
// whose weights live in that file.
func onnxBytes(ins, outs []tio, externalData string) []byte {
	var graph []byte
	graph = append(graph, pbBytes(2, []byte("g"))...)
	if externalData != "" {
		entry := cat(pbBytes(1, []byte("location")), pbBytes(2, []byte(externalData)))
		init := cat(pbVarint(1, 4), pbVarint(2, 1), pbBytes(8, []byte("w")), pbBytes(13, entry), pbVarint(14, 1))
		graph = append(graph, pbBytes(5, init)...)
	}
	for _, v := range ins {
		graph = append(graph, pbBytes(11, valueInfo(v))...)
	}
	for _, v := range outs {
		graph = append(graph, pbBytes(12, valueInfo(v))...)
	}
	opset := cat(pbBytes(1, nil), pbVarint(2, 17))
	return cat(pbVarint(1, 8), pbBytes(2, []byte("test")), pbBytes(7, graph), pbBytes(8, opset))
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeONNX(t *testing.T, path string, ins, outs []tio, externalData string) {
	t.Helper()
	writeFile(t, path, onnxBytes(ins, outs, externalData))
	if externalData != "" {
		writeFile(t, filepath.Join(filepath.Dir(path), externalData), []byte("weights"))
	}
}

var (
	f32 = onnx.Float32
	f16 = onnx.Float16
	i32 = onnx.Int32
	i64 = onnx.Int64
)

// makeSDXL writes a fake SDXL export: crossDim 2048 gives a base, 1280 a
// refiner (which has no text_encoder or tokenizer).
func makeSDXL(t *testing.T, dir string, crossDim int) {
	t.Helper()
	base := crossDim == 2048
	timeIDs := 6
	if !base {
		timeIDs = 5
	}
	if base {
		writeONNX(t, filepath.Join(dir, "text_encoder/model.onnx"),
			[]tio{{"input_ids", i32, []any{"batch_size", "sequence_length"}}},
			[]tio{{"last_hidden_state", f32, []any{"batch_size", "sequence_length", 768}}, {"hidden_states.11", f32, []any{"batch_size", "sequence_length", 768}}}, "")
		for _, f := range []string{"vocab.json", "merges.txt", "special_tokens_map.json"} {
			writeFile(t, filepath.Join(dir, "tokenizer", f), []byte("{}"))
		}
	}
	writeONNX(t, filepath.Join(dir, "text_encoder_2/model.onnx"),
		[]tio{{"input_ids", i64, []any{"batch_size", "sequence_length"}}},
		[]tio{{"text_embeds", f32, []any{"batch_size", 1280}}, {"hidden_states.31", f32, []any{"batch_size", "sequence_length", 1280}}}, "model.onnx_data")
	writeONNX(t, filepath.Join(dir, "unet/model.onnx"),
		[]tio{{"sample", f32, []any{"batch", 4, "h", "w"}}, {"timestep", i64, []any{"steps"}},
			{"encoder_hidden_states", f32, []any{"batch", 77, crossDim}}, {"text_embeds", f32, []any{"batch", 1280}},
			{"time_ids", f32, []any{"batch", timeIDs}}},
		[]tio{{"out_sample", f32, []any{"batch", 4, "h", "w"}}}, "model.onnx_data")
	writeONNX(t, filepath.Join(dir, "vae_decoder/model.onnx"),
		[]tio{{"latent_sample", f32, []any{"batch", 4, "h", "w"}}}, []tio{{"sample", f32, []any{"batch", 3, "H", "W"}}}, "")
	writeONNX(t, filepath.Join(dir, "vae_encoder/model.onnx"),
		[]tio{{"sample", f32, []any{"batch", 3, "H", "W"}}}, []tio{{"latent_sample", f32, []any{"batch", 4, "h", "w"}}}, "")
	for _, f := range []string{"vocab.json", "merges.txt"} {
		writeFile(t, filepath.Join(dir, "tokenizer_2", f), []byte("{}"))
	}
	writeFile(t, filepath.Join(dir, "scheduler/scheduler_config.json"), []byte(`{"_class_name":"EulerDiscreteScheduler"}`))
}

// makeJanus writes a fake Janus-Pro export with the given dtype per graph
// (hidden width 2048 and 24 layers for 1B, 4096 and 30 for 7B).
func makeJanus(t *testing.T, dir string, params string, dtypes map[string]string) {
	t.Helper()
	hidden, layers := 2048, 24
	if params == "7B" {
		hidden, layers = 4096, 30
	}
	for graph, dtype := range dtypes {
		suffix, err := DtypeSuffix(dtype)
		if err != nil {
			t.Fatal(err)
		}
		ft := f32
		if dtype == "fp16" || dtype == "q4f16" {
			ft = f16
		}
		var ins, outs []tio
		switch graph {
		case "prepare_inputs_embeds":
			ins = []tio{{"input_ids", i64, []any{"batch_size", "sequence_length"}}, {"pixel_values", f32, []any{"batch_size", "num_images", 3, 384, 384}}}
			outs = []tio{{"inputs_embeds", ft, []any{"batch_size", "sequence_length", hidden}}}
		case "language_model":
			ins = []tio{{"inputs_embeds", ft, []any{"batch_size", "sequence_length", hidden}}, {"attention_mask", i64, []any{"batch_size", "total_sequence_length"}}}
			for i := 0; i < layers; i++ {
				for _, kv := range []string{"key", "value"} {
					ins = append(ins, tio{"past_key_values." + itoa(i) + "." + kv, ft, []any{"batch_size", 16, "past_sequence_length", 128}})
					outs = append(outs, tio{"present." + itoa(i) + "." + kv, ft, []any{"batch_size", 16, "total_sequence_length", 128}})
				}
			}
			outs = append([]tio{{"hidden_states", ft, []any{"batch_size", "sequence_length", hidden}}}, outs...)
		case "lm_head":
			ins = []tio{{"hidden_states", ft, []any{"batch_size", "sequence_length", hidden}}}
			outs = []tio{{"logits", ft, []any{"batch_size", "sequence_length", 102400}}}
		case "gen_head":
			ins = []tio{{"hidden_states", ft, []any{"batch_size", "sequence_length", hidden}}}
			outs = []tio{{"logits", ft, []any{"batch_size", "sequence_length", 16384}}}
		case "gen_img_embeds":
			ins = []tio{{"image_ids", i64, []any{"batch_size", "sequence_length"}}}
			outs = []tio{{"inputs_embeds", ft, []any{"batch_size", "sequence_length", hidden}}}
		case "image_decode":
			ins = []tio{{"generated_tokens", i64, []any{"batch_size", 576}}}
			outs = []tio{{"decoded_image", f32, []any{"batch_size", 3, 384, 384}}}
		}
		writeONNX(t, filepath.Join(dir, "onnx", graph+suffix+".onnx"), ins, outs, "")
	}
	writeFile(t, filepath.Join(dir, "config.json"), []byte(`{"model_type":"multi_modality"}`))
	writeFile(t, filepath.Join(dir, "tokenizer.json"), []byte(`{}`))
	writeFile(t, filepath.Join(dir, "preprocessor_config.json"), []byte(`{}`))
}

func itoa(i int) string { return strconv.Itoa(i) }
