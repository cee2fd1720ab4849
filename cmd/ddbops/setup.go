package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops setup`.
func newSetupCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "setup",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("setup: not implemented yet")
		},
	}
}
