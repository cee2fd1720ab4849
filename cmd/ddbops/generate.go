package main

// The command reference in docs/cli is generated from the cobra commands;
// TestCommandReferenceIsCurrent fails when it is stale.
//
//go:generate go test -run TestCommandReferenceIsCurrent -update .
