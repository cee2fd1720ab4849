// Package parity is the parity suite (docs/testing.md): one sequence of
// tutorial-format requests is sent to the local stack over HTTP, and to the
// packaged bootstrap under the Lambda Runtime Interface Emulator with
// DynamoDB = moto and with DynamoDB = minidyn's HTTP server; after
// normalization (request ids, DynamoDB's own error wording, list order)
// every answer must be identical, except for the documented, named
// emulator limitations in sequence_test.go. The package holds only tests.
package parity
