package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"diptych/gallery"
)

// boardCmd declares `diptych history board` and its subcommands, the CLI's
// side of the boards the window manages (the same gallery methods).
func (h *historyCmd) boardCmd() *cobra.Command {
	return h.c.group("board SUBCOMMAND", "list boards and put images on them or take them off",
		"List boards and put images on them or take them off (the boards of the History view).",
		h.sub("ls [flags]", "list the boards with how many images each holds", true, func(ctx context.Context, args []string) error {
			return historyBoardList(ctx, h.c, h, args)
		}),
		h.sub("add BOARD ID... [flags]", "put generations on a board (made when it does not exist)", false, func(ctx context.Context, args []string) error {
			return historyBoardChange(ctx, h.c, h, "add", args)
		}),
		h.sub("rm BOARD ID... [flags]", "take generations off a board", false, func(ctx context.Context, args []string) error {
			return historyBoardChange(ctx, h.c, h, "rm", args)
		}),
	)
}

func historyBoardList(ctx context.Context, c *cli, h *historyCmd, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: board ls takes no arguments", errUsage)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	boards, err := s.BoardList(ctx)
	if err != nil {
		return err
	}
	if h.json {
		if boards == nil {
			boards = []gallery.Board{}
		}
		return c.printJSON(boards)
	}
	if len(boards) == 0 {
		fmt.Fprintln(c.stdout, "no boards (diptych history board add NAME ID... makes one)")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BOARD\tIMAGES")
	for _, b := range boards {
		fmt.Fprintf(tw, "%s\t%d\n", b.Name, b.Count)
	}
	return tw.Flush()
}

func historyBoardChange(ctx context.Context, c *cli, h *historyCmd, op string, args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("%w: board %s takes a board name and at least one id", errUsage, op)
	}
	name := args[0]
	ids, err := parseIDs(args[1:])
	if err != nil {
		return err
	}
	name, err = gallery.ValidateBoardName(name)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	s, err := h.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if op == "rm" {
		n, err := s.BoardRemove(ctx, name, ids...)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "took %d of %d off board %q\n", n, len(ids), name)
		return nil
	}
	n, err := s.BoardAdd(ctx, name, ids...)
	if errors.Is(err, gallery.ErrBoardNotFound) {
		if _, err = s.CreateBoard(ctx, name); err == nil {
			fmt.Fprintf(c.stdout, "made board %q\n", name)
			n, err = s.BoardAdd(ctx, name, ids...)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "put %d of %d on board %q\n", n, len(ids), name)
	return nil
}
