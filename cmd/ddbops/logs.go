package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// PLACEHOLDER: replaced by the implementation of `ddbops logs`.
func newLogsCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logs",
		Short: "(not yet built)",
		RunE: func(*cobra.Command, []string) error {
			return errors.New("logs: not implemented yet")
		},
	}
}
