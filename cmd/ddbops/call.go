package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops call`.
func newCallCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "call",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("call: not implemented yet")
		},
	}
}
