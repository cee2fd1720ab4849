// Package provision holds the desired state of every AWS resource of a
// ddbops stack and the steps that find, create, converge and delete them
// through the AWS SDK (docs/provisioning.md).
package provision
