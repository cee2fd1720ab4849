package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops package`.
func newPackageCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "package",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("package: not implemented yet")
		},
	}
}
