package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/engine/rng"
	"diptych/engine/scheduler"
	"diptych/engine/tokenizer"
)

// newInspectTokenizeCmd declares `diptych inspect tokenize`.
func newInspectTokenizeCmd(c *cli) *cobra.Command {
	var path *string
	var padID, maxLen *int
	var special *bool
	cmd := c.command("tokenize --tokenizer DIR_OR_tokenizer.json [--pad-id N] [--max-length N] TEXT",
		"print the token ids of a text (CLIP folder or tokenizer.json)",
		"Print the token ids of TEXT as a JSON array. A folder with vocab.json + merges.txt is a CLIP tokenizer\n"+
			"(BOS/EOS added); a tokenizer.json (or a folder holding one) is a Hugging Face byte-level BPE tokenizer.",
		func(_ context.Context, fs *pflag.FlagSet, _ []string) error {
			return inspectTokenize(c, fs, path, padID, maxLen, special)
		})
	fs := cmd.Flags()
	path = fs.String("tokenizer", "", "CLIP tokenizer folder, or tokenizer.json")
	padID = fs.Int("pad-id", -1, "pad id (CLIP: default from the folder's files)")
	maxLen = fs.Int("max-length", 0, "truncate and pad to this many ids (0: no padding)")
	special = fs.Bool("special", true, "add special tokens (BOS) for tokenizer.json")
	return cmd
}

func inspectTokenize(c *cli, fs *pflag.FlagSet, path *string, padID, maxLen *int, special *bool) error {
	if *path == "" || fs.NArg() == 0 {
		return fmt.Errorf("%w: inspect tokenize needs --tokenizer and TEXT", errUsage)
	}
	text := strings.Join(fs.Args(), " ")
	isCLIP := fileExists(filepath.Join(*path, "vocab.json")) && fileExists(filepath.Join(*path, "merges.txt"))
	if isCLIP {
		tok, err := tokenizer.LoadCLIP(*path)
		if err != nil {
			return err
		}
		if *maxLen <= 0 {
			return writeIDs(c, tok.Encode(text))
		}
		ids, truncated := tok.EncodePadded(text, *maxLen)
		if truncated {
			c.warn("the text is longer than %d tokens and was truncated", *maxLen)
		}
		real := min(len(tok.Encode(text)), *maxLen)
		out := make([]int, len(ids))
		for i, id := range ids {
			out[i] = int(id)
			if i >= real && *padID >= 0 {
				out[i] = *padID
			}
		}
		return writeIDs(c, out)
	}
	if _, err := os.Stat(*path); err != nil {
		return fmt.Errorf("tokenizer %s: %w", *path, err)
	}
	tok, err := tokenizer.LoadHF(*path)
	if err != nil {
		return err
	}
	ids := tok.Encode(text, *special)
	if *maxLen > 0 {
		if len(ids) > *maxLen {
			c.warn("the text has %d tokens; truncated to %d", len(ids), *maxLen)
			ids = ids[:*maxLen]
		}
		pad := *padID
		if pad < 0 {
			if p, ok := tok.PadID(); ok {
				pad = p
			} else {
				pad = 0
			}
		}
		for len(ids) < *maxLen {
			ids = append(ids, pad)
		}
	}
	return writeIDs(c, ids)
}

func writeIDs(c *cli, ids []int) error {
	if ids == nil {
		ids = []int{}
	}
	return c.printJSONLine(ids)
}

// newInspectScheduleCmd declares `diptych inspect schedule`.
func newInspectScheduleCmd(c *cli) *cobra.Command {
	var name, config *string
	var steps *int
	cmd := c.command("schedule --scheduler NAME --steps N [--config scheduler_config.json]",
		"print a scheduler's timesteps and sigmas",
		"Print {\"timesteps\":[...],\"sigmas\":[...],\"init_noise_sigma\":x}. Without --config, SDXL's scheduler config is used.\n"+
			"Schedulers: "+strings.Join(scheduler.Names(), ", "),
		func(context.Context, *pflag.FlagSet, []string) error { return inspectSchedule(c, name, steps, config) })
	cmd.Args = noArgs
	fs := cmd.Flags()
	name = fs.String("scheduler", "euler", "scheduler name")
	steps = fs.Int("steps", 30, "number of inference steps")
	config = fs.String("config", "", "scheduler_config.json to use")
	return cmd
}

func inspectSchedule(c *cli, name *string, steps *int, config *string) error {
	cfg := scheduler.SDXLConfig()
	if *config != "" {
		var err error
		if cfg, err = scheduler.LoadConfig(*config); err != nil {
			return err
		}
	}
	ts, sigmas, init, err := scheduler.Describe(*name, *steps, cfg)
	if err != nil {
		return err
	}
	if sigmas == nil {
		sigmas = []float64{}
	}
	return c.printJSONLine(map[string]any{"timesteps": ts, "sigmas": sigmas, "init_noise_sigma": init})
}

// newInspectRandnCmd declares `diptych inspect randn`.
func newInspectRandnCmd(c *cli) *cobra.Command {
	var seed *uint64
	var shape *string
	cmd := c.command("randn --seed S --shape 1,4,8,8", "print torch-compatible normal noise for a seed",
		"Print torch.randn(shape, generator=torch.Generator().manual_seed(S)) as a JSON array of float32 values.",
		func(context.Context, *pflag.FlagSet, []string) error { return inspectRandn(c, seed, shape) })
	cmd.Args = noArgs
	fs := cmd.Flags()
	seed = fs.Uint64("seed", 0, "seed")
	shape = fs.String("shape", "1,4,8,8", "comma-separated shape")
	return cmd
}

func inspectRandn(c *cli, seed *uint64, shape *string) error {
	_, n, err := parseShape(*shape)
	if err != nil {
		return err
	}
	return c.printJSONLine(rng.NewTorch(*seed).Randn(n))
}
