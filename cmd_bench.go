package main

import (
	"context"
	"errors"
)

// runBench is not built yet.
func runBench(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("bench", "", "diptych bench (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("bench is not built yet")
}
