// Command diptych is an offline desktop studio that runs Stable Diffusion XL
// and DeepSeek Janus-Pro side by side. With no arguments it opens the window;
// every GUI action also has a subcommand so it can be scripted and tested.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"diptych/app"
	// Before Fyne's lang package reads the locale at init: quiet under
	// LANG=C.UTF-8 (see the package).
	_ "diptych/ui/locale"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// The command tree. Every command is a *cobra.Command made by a constructor
// in its cmd_*.go file (newGenerateCmd, newHistoryCmd, ...), which registers
// the command's flags on cmd.Flags() next to it; command groups (history,
// models, inspect) hold their subcommands the same way. Flags may come
// before, between or after the positional arguments (pflag intersperses
// them); "--" ends the flags.
func (c *cli) rootCmd() *cobra.Command {
	// The Windows build is a GUI program double-clicked from Explorer: cobra
	// would refuse to run it then ("This is a command line tool").
	cobra.MousetrapHelpText = ""
	cobra.EnableCommandSorting = false // help lists the commands in this order

	var showVersion bool
	root := &cobra.Command{
		Use:   "diptych [COMMAND]",
		Short: "SDXL and Janus-Pro side by side, offline",
		Long: "diptych " + version + " — SDXL and Janus-Pro side by side, offline.\n" +
			"With no command the window opens.",
		Args:              c.noCommand,
		SilenceErrors:     true, // run prints errors, and says how to get help
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		// "histroy" -> did you mean history?
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				fmt.Fprintf(c.stdout, "diptych %s\n", version)
				return nil
			}
			return runGUI(cmd.Context(), c)
		},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetUsageTemplate(usageTemplate)
	root.PersistentFlags().StringVar(&c.ortLib, "ort-lib", "", "path to libonnxruntime.so (overrides DIPTYCH_ORT_LIB)")
	root.Flags().BoolVar(&showVersion, "version", false, "print the version and exit")
	root.AddCommand(
		newGenerateCmd(c),
		newCaptionCmd(c),
		newDoctorCmd(c),
		newInspectCmd(c),
		newHistoryCmd(c),
		newModelsCmd(c),
		newCompareCmd(c),
		newSweepCmd(c),
		newBenchCmd(c),
		newGUICmd(c),
	)
	return root
}

// usageTemplate is cobra's usage text in Diptych's layout.
const usageTemplate = `Usage: {{.UseLine}}{{if gt (len .Aliases) 0}}

Aliases: {{.NameAndAliases}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} COMMAND --help' for a command's flags.{{end}}
`

// cli carries what every subcommand shares: output streams and the global
// flags.
type cli struct {
	stdout, stderr io.Writer
	// ortLib is the global --ort-lib flag, if given.
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

// run dispatches args and returns the process exit code: 0, 1 for a failed
// command, 2 for bad arguments. -h/--help prints the help to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	root := c.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if cmd == nil {
		cmd = root
	}
	msg := err.Error()
	if errors.Is(err, errUsage) { // "diptych generate: --out FILE.png is required"
		msg = strings.TrimPrefix(msg, errUsage.Error()+": ")
	}
	fmt.Fprintf(stderr, "%s: %s\n", cmd.CommandPath(), msg)
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return 2
	}
	return 1
}

// command makes a command that runs: use is its name and synopsis
// ("show ID"), summary the line in its parent's list, long the help text
// (summary when empty). The caller registers the flags on cmd.Flags();
// run gets them parsed, with the positional arguments.
func (c *cli) command(use, summary, long string, run func(ctx context.Context, fs *pflag.FlagSet, args []string) error) *cobra.Command {
	if long == "" {
		long = strings.ToUpper(summary[:1]) + summary[1:] + "."
	}
	return &cobra.Command{
		Use: use, Short: summary, Long: long, Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), cmd.Flags(), args)
		},
	}
}

// group makes a command that holds subcommands (history, models, inspect).
// Run alone or with an unknown subcommand it is a usage error; 'GROUP help
// [SUBCOMMAND]' prints the help.
func (c *cli) group(use, summary, long string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{Use: use, Short: summary, Long: long, Args: cobra.ArbitraryArgs}
	g.AddCommand(subs...)
	g.RunE = func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, s := range cmd.Commands() {
			if s.IsAvailableCommand() {
				names = append(names, s.Name())
			}
		}
		switch {
		case len(args) == 0:
			return fmt.Errorf("%w: missing subcommand (%s)", errUsage, strings.Join(names, ", "))
		case args[0] == "help":
			sub, _, err := cmd.Find(args[1:])
			if err != nil || sub == nil {
				sub = cmd
			}
			return sub.Help()
		}
		return fmt.Errorf("%w: unknown %s subcommand %q; known: %s", errUsage, cmd.Name(), args[0], strings.Join(names, ", "))
	}
	return g
}

// noCommand is the root's argument check: a word that is no command.
func (c *cli) noCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, s := range cmd.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q; known commands: %s", args[0], strings.Join(names, ", "))
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return fmt.Errorf("%w: %s", errUsage, msg)
}

// noArgs is the argument check of a command that takes flags only.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: unexpected argument %q (%s takes flags only)", errUsage, args[0], cmd.Name())
	}
	return nil
}

// singleDash matches pflag's complaint about a long flag typed with one dash.
var singleDash = regexp.MustCompile(`unknown shorthand flag: '.' in -([A-Za-z][A-Za-z0-9-]+)`)

// flagError makes a flag parsing error a usage error (exit 2). A long flag
// typed with one dash, as Go's flag package allowed (-json), is named.
func flagError(cmd *cobra.Command, err error) error {
	if m := singleDash.FindStringSubmatch(err.Error()); m != nil {
		name, _, _ := strings.Cut(m[1], "=")
		if cmd.Flags().Lookup(name) != nil || name == "help" {
			return fmt.Errorf("%w: -%s: long flags take two dashes: --%s", errUsage, m[1], m[1])
		}
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// printJSON writes v to stdout as JSON indented by two spaces, with a
// trailing newline: the one printer of every --json output. <, > and & are
// written as they are (prompts hold "<lora:name:0.8>"), not as \u003c.
func (c *cli) printJSON(v any) error { return encodeJSON(c.stdout, v, "  ") }

// printJSONLine writes v to stdout as one line of JSON: the number arrays
// inspect prints for scripts to compare.
func (c *cli) printJSONLine(v any) error { return encodeJSON(c.stdout, v, "") }

func encodeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// flagGiven reports whether the named flag was set on the command line.
func flagGiven(fs *pflag.FlagSet, name string) bool {
	return fs.Changed(name)
}
