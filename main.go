// Command diptych is an offline desktop studio that runs Stable Diffusion XL
// and DeepSeek Janus-Pro side by side. With no arguments it opens the window;
// every GUI action also has a subcommand so it can be scripted and tested.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"diptych/app"
	// Before Fyne's lang package reads the locale at init: quiet under
	// LANG=C.UTF-8 (see the package).
	_ "diptych/internal/fynelocale"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one `diptych` subcommand. Each lives in its own cmd_*.go file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) error
}

// commands lists every subcommand in the order `diptych help` shows them.
func commands() []command {
	return []command{
		{"generate", "make an image with SDXL or Janus-Pro", runGenerate},
		{"caption", "describe an image or answer a question about it with Janus-Pro", runCaption},
		{"doctor", "report the runtime, GPU, CUDA libraries and installed models", runDoctor},
		{"inspect", "look inside models, tokenizers, schedulers and the RNG", runInspect},
		{"history", "search and maintain the image history", runHistory},
		{"models", "list, download, import and verify models", runModels},
		{"compare", "run SDXL and Janus-Pro on the same prompt", runCompare},
		{"sweep", "run a resolution x steps grid", runSweep},
		{"bench", "benchmark the models and write a report", runBench},
		{"gui", "open the window (the default with no arguments)", runGUI},
	}
}

// cli carries what every subcommand shares: output streams and the global
// runtime flags given before the subcommand name.
type cli struct {
	stdout, stderr io.Writer
	// ortLib is the --ort-lib flag given before the subcommand, if any.
	ortLib string

	// The user's settings, read once per command (see settings).
	settingsOnce sync.Once
	settingsVal  app.Settings
	settingsErr  error
}

// warn prints a warning line to stderr.
func (c *cli) warn(format string, a ...any) {
	fmt.Fprintf(c.stderr, "warning: "+format+"\n", a...)
}

// errUsage marks an error that was caused by bad arguments (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	global := flag.NewFlagSet("diptych", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.StringVar(&c.ortLib, "ort-lib", "", "path to libonnxruntime.so (overrides DIPTYCH_ORT_LIB)")
	showVersion := global.Bool("version", false, "print the version and exit")
	global.Usage = func() { printUsage(stderr, global) }
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, global)
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "diptych %s\n", version)
		return 0
	}
	rest := global.Args()
	name := "gui"
	if len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "help" {
		printUsage(stdout, global)
		return 0
	}
	for _, cmd := range commands() {
		if cmd.name != name {
			continue
		}
		err := cmd.run(ctx, c, rest)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "diptych %s: %v\n", name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "diptych %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "diptych: unknown command %q; known commands: %s\n", name, strings.Join(commandNames(), ", "))
	return 2
}

func commandNames() []string {
	var names []string
	for _, cmd := range commands() {
		names = append(names, cmd.name)
	}
	sort.Strings(names)
	return names
}

func printUsage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprintf(w, "diptych %s — SDXL and Janus-Pro side by side, offline.\n\n", version)
	fmt.Fprintln(w, "Usage: diptych [--ort-lib PATH] [command] [flags]")
	fmt.Fprintln(w, "With no command the window opens.\n\nCommands:")
	for _, cmd := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(w, "\nGlobal flags:")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprintln(w, "\nRun 'diptych COMMAND --help' for a command's flags.")
}

// newFlagSet returns a flag set for a subcommand. Its usage text is the
// summary, the usage line and the flags.
func (c *cli) newFlagSet(name, usage, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet("diptych "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "%s\n\nUsage: diptych %s %s\n\nFlags:\n", summary, name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			given = true
		}
	})
	return given
}

// parse parses a subcommand's args. -h/--help prints the usage to stdout and
// returns flag.ErrHelp; any other flag error becomes errUsage.
func (c *cli) parse(fs *flag.FlagSet, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(c.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
