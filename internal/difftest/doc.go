// Package difftest is the differential suite of the local DynamoDB engine
// (docs/testing-emulator-exceptions.md): one sequence of tutorial-format
// requests runs through the handler over the engine and over the AWS SDK
// client talking to independent DynamoDB implementations (moto_server,
// dynalite); after normalization every answer must be the same, except
// where an emulator departs from DynamoDB's documented behaviour, which a
// named exception records for that emulator only. The package holds only
// tests.
package difftest
