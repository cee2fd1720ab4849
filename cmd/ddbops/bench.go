package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops bench`.
func newBenchCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "bench",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("bench: not implemented yet")
		},
	}
}
