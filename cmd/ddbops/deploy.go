package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops deploy`.
func newDeployCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "deploy",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("deploy: not implemented yet")
		},
	}
}
