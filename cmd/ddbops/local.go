package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops local`.
func newLocalCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "local",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("local: not implemented yet")
		},
	}
}
