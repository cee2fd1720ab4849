// Package cmdutil holds what every command and the packages below them
// share and that belongs to none of them: the typed errors and the one
// exit-code map, the IO streams with their colour scheme and step printer,
// the JSON document writer, the atomic file writer and the environment
// seam. It imports nothing of the project.
package cmdutil
