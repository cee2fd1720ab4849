package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops teardown`.
func newTeardownCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "teardown",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("teardown: not implemented yet")
		},
	}
}
