package main

import (
	"context"
	"errors"
)

// runCaption is not built yet.
func runCaption(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("caption", "", "diptych caption (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("caption is not built yet")
}
