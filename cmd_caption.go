package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	"diptych/engine/format"
	"diptych/engine/janus"
	"diptych/engine/ort"
)

// newCaptionCmd declares `diptych caption` and its flags.
func newCaptionCmd(c *cli) *cobra.Command {
	var modelDir, imagePath, question, device, variant *string
	var maxTokens, threads *int
	var temperature, topP *float64
	var seed *uint64
	var forceCPU, verbose *bool
	cmd := c.command("caption --model-dir DIR --image FILE [--question Q] [--max-tokens N] [--device auto|cpu|cuda]",
		"describe an image or answer a question about it with Janus-Pro",
		"Describe an image or answer a question about it with Janus-Pro (greedy decoding, as the reference).",
		func(ctx context.Context, fs *pflag.FlagSet, _ []string) error {
			return runCaption(ctx, c, fs, modelDir, imagePath, question, device, variant, maxTokens, threads,
				temperature, topP, seed, forceCPU, verbose)
		})
	fs := cmd.Flags()
	modelDir = fs.String("model-dir", "", "Janus-Pro ONNX folder (required)")
	imagePath = fs.String("image", "", "image file: PNG, JPEG, GIF, BMP or WebP (required)")
	question = fs.String("question", janus.DefaultQuestion, "question about the image")
	maxTokens = fs.Int("max-tokens", 512, "most tokens in the answer")
	device = fs.String("device", "auto", "auto, cpu, cuda or cuda:N")
	variant = fs.String("variant", "", "dtype combination: fp32 (default), fp16, q4f16")
	temperature = fs.Float64("temperature", 0, "sampling temperature; 0 decodes greedily")
	topP = fs.Float64("top-p", 0, "nucleus sampling threshold when sampling (0 = off)")
	seed = fs.Uint64("seed", 0, "seed when sampling")
	threads = fs.Int("threads", 0, "CPU threads per model (0 = one per core)")
	forceCPU = fs.Bool("force-cpu", false, "run a 7B model on the CPU even though it is very slow")
	verbose = fs.BoolP("verbose", "v", false, "print the model, placement and timings to stderr")
	return cmd
}

// runCaption describes an image, or answers a question about it, with
// Janus-Pro, printing the answer as it is generated.
func runCaption(ctx context.Context, c *cli, fs *pflag.FlagSet, modelDir, imagePath, question, device, variant *string,
	maxTokens, threads *int, temperature, topP *float64, seed *uint64, forceCPU, verbose *bool) error {
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *modelDir == "":
		return fmt.Errorf("%w: --model-dir is required", errUsage)
	case *imagePath == "":
		return fmt.Errorf("%w: --image is required", errUsage)
	case *maxTokens < 1:
		return fmt.Errorf("%w: --max-tokens %d: must be at least 1", errUsage, *maxTokens)
	case *temperature < 0 || *topP < 0 || *topP > 1:
		return fmt.Errorf("%w: --temperature must be >= 0 and --top-p in [0, 1]", errUsage)
	}
	dev, err := ort.ParseDevice(*device)
	if err != nil {
		return fmt.Errorf("%w: --device: %v", errUsage, err)
	}
	// Check the image before loading the model: a bad file fails fast.
	img, err := app.LoadImage(*imagePath)
	if err != nil {
		return err
	}
	rt, err := ort.Load(ort.DefaultLocateOptions(c.ortLib))
	if err != nil {
		return err
	}
	defer rt.Close()
	t0 := time.Now()
	p, err := janus.Load(*modelDir, janus.Options{Runtime: rt, Device: dev, Variant: *variant,
		IntraOpThreads: *threads, ForceCPU: *forceCPU})
	if err != nil {
		return err
	}
	defer p.Close()
	if *verbose {
		fmt.Fprintf(c.stderr, "model: %s (loaded in %s)\n", p, format.Duration(time.Since(t0)))
	}
	for _, n := range p.Notes {
		c.warn("%s", n)
	}
	if p.Placement.Fallback != "" {
		c.warn("running on the CPU: %s", p.Placement.Fallback)
	}
	t1 := time.Now()
	res, err := p.DescribeDetail(ctx, janus.DescribeRequest{Image: img, Question: *question, MaxTokens: *maxTokens,
		Temperature: float32(*temperature), TopP: float32(*topP), Seed: *seed}, func(s string) {
		fmt.Fprint(c.stdout, s)
	})
	fmt.Fprintln(c.stdout)
	if err != nil {
		return err
	}
	if *verbose {
		el := time.Since(t1)
		fmt.Fprintf(c.stderr, "%d prompt tokens, %d answer tokens in %s (%.1f tokens/s)%s\n", res.PromptTokens,
			len(res.Tokens), format.Duration(el), float64(len(res.Tokens))/el.Seconds(),
			map[bool]string{true: ", stopped at end of sequence", false: ""}[res.StoppedOnEOS])
	}
	return nil
}
