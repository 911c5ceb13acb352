package main

import (
	"context"
	"errors"
)

// runCompare is not built yet.
func runCompare(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("compare", "", "diptych compare (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("compare is not built yet")
}
