// Package export renders a stack and its API in other tools' formats: a
// CloudFormation template of exactly what setup creates (from the
// provisioner's own desired-state functions), an OpenAPI 3.0 document whose
// request schema is the wire contract, and a Postman v2.1 collection of the
// tutorial's requests with tests. Every export is a pure function of its
// inputs: no AWS call, no credentials, no secret in the output
// (docs/export.md).
package export
