package main

import (
	"context"
	"errors"
)

// runDoctor is not built yet.
func runDoctor(ctx context.Context, c *cli, args []string) error {
	fs := c.newFlagSet("doctor", "", "diptych doctor (not built yet)")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	return errors.New("doctor is not built yet")
}
