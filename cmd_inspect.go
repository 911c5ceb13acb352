package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/engine/onnx"
)

// newInspectCmd declares `diptych inspect` and its subcommands.
func newInspectCmd(c *cli) *cobra.Command {
	return c.group("inspect SUBCOMMAND", "look inside models, tokenizers, schedulers and the RNG",
		"Look inside models, tokenizers, schedulers and the RNG.",
		newInspectModelCmd(c),
		newInspectTokenizeCmd(c),
		newInspectScheduleCmd(c),
		newInspectRandnCmd(c),
	)
}

// newInspectModelCmd declares `diptych inspect model`.
func newInspectModelCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := c.command("model PATH.onnx [--json]", "print the inputs and outputs of an .onnx file (no weights are loaded)",
		"Print the inputs and outputs of an ONNX model: names, element types and shapes with symbolic dims.",
		func(_ context.Context, fs *pflag.FlagSet, _ []string) error { return inspectModel(c, fs, &asJSON) })
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func inspectModel(c *cli, fs *pflag.FlagSet, asJSON *bool) error {
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: inspect model takes one .onnx path", errUsage)
	}
	path := fs.Arg(0)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		if p := filepath.Join(path, "model.onnx"); fileExists(p) {
			path = p
		}
	}
	info, err := onnx.ReadModelInfo(path)
	if err != nil {
		return err
	}
	if *asJSON {
		type dim struct {
			Value int64  `json:"value,omitempty"`
			Param string `json:"param,omitempty"`
		}
		type tensor struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Shape []any  `json:"shape"`
		}
		conv := func(list []onnx.TensorInfo) []tensor {
			out := []tensor{}
			for _, t := range list {
				shape := []any{}
				for _, d := range t.Shape {
					if d.Param != "" || d.Value < 0 {
						shape = append(shape, d.String())
					} else {
						shape = append(shape, d.Value)
					}
				}
				out = append(out, tensor{Name: t.Name, Type: t.Type.String(), Shape: shape})
			}
			return out
		}
		return c.printJSON(map[string]any{
			"path": info.Path, "ir_version": info.IRVersion, "producer": info.ProducerName + " " + info.ProducerVersion,
			"opsets": info.Opsets, "inputs": conv(info.Inputs), "outputs": conv(info.Outputs),
			"external_data": info.ExternalData, "metadata": info.Metadata,
		})
	}
	fmt.Fprintf(c.stdout, "%s (IR %d, opset %d, %s %s)\n", info.Path, info.IRVersion, info.Opsets[""],
		info.ProducerName, info.ProducerVersion)
	for _, t := range info.Inputs {
		fmt.Fprintf(c.stdout, "  input   %s\n", t)
	}
	for _, t := range info.Outputs {
		fmt.Fprintf(c.stdout, "  output  %s\n", t)
	}
	if len(info.ExternalData) > 0 {
		fmt.Fprintf(c.stdout, "  external data: %s\n", strings.Join(info.ExternalData, ", "))
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// parseShape parses "1,4,8,8".
func parseShape(s string) ([]int, int, error) {
	var dims []int
	n := 1
	for _, part := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 1 {
			return nil, 0, fmt.Errorf("%w: shape %q: expected positive integers separated by commas", errUsage, s)
		}
		dims = append(dims, d)
		n *= d
		if n > 1<<28 {
			return nil, 0, fmt.Errorf("%w: shape %q has more than 2^28 elements", errUsage, s)
		}
	}
	return dims, n, nil
}
