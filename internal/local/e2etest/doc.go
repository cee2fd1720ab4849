// Package e2etest holds black-box tests of the real `ddbops local` binary
// on loopback: raw sockets for the HTTP edge cases, descriptor limits,
// stalled bodies and a headless browser for the Host, Origin and CORS
// rules (docs/local-security.md). It has no code of its own.
package e2etest
