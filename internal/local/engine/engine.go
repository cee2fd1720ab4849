// Package engine is the local stack's DynamoDB: it serves PutItem, GetItem,
// UpdateItem, DeleteItem and Scan for one table with DynamoDB's own
// semantics (validation, conditions and filters, update and projection
// expressions, exact decimal numbers, key and size limits) over a Store of
// encoded items. docs/engine.md documents the rules and where they come from.
package engine

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Store is the durable ordered key→bytes map holding one table's items.
type Store interface {
	// Get returns the value of key, nil when absent. The slice is the caller's.
	Get(ctx context.Context, key []byte) ([]byte, error)
	// Update runs fn on key's current value (nil when absent) and stores what it
	// returns (nil = delete) atomically and durably before returning. fn may run
	// more than once (batched transactions retry); an error from fn writes nothing
	// and is returned as is.
	Update(ctx context.Context, key []byte, fn func(old []byte) ([]byte, error)) error
	// Scan calls fn for each key > after (after nil = from the first key), in
	// ascending byte order, until fn returns false or an error. Slices are valid
	// only during the call.
	Scan(ctx context.Context, after []byte, fn func(key, value []byte) (bool, error)) error
}

// Engine serves one table, named at New, whose partition key is
// KeyAttribute (a string), over a Store. It is safe for concurrent use:
// every conditional write is a read-modify-write inside Store.Update, so
// writers to one key serialize there, and reads go to the store directly.
type Engine struct {
	st    Store
	table string
}

// New returns an Engine serving table over st.
func New(st Store, table string) *Engine { return &Engine{st: st, table: table} }

// Table is the name of the table the engine serves.
func (e *Engine) Table() string { return e.table }

// checkTable refuses a request for another table, as DynamoDB refuses a
// table that does not exist.
func (e *Engine) checkTable(name *string) error {
	if name == nil {
		return validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if *name != e.table {
		return &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	return nil
}

// validation is DynamoDB's ValidationException with msg, as the SDK
// reports one it received.
func validation(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: msg, Fault: smithy.FaultClient}
}

func validationf(format string, args ...any) error {
	return validation(fmt.Sprintf(format, args...))
}

// conditionFailed is the ConditionalCheckFailedException of a failed
// condition; item is the stored item when the request asked for ALL_OLD.
func conditionFailed(item map[string]types.AttributeValue) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: item}
}

// clipText shortens caller-supplied text quoted in a message (a malformed
// number, an unknown token) to a readable length on a rune boundary.
func clipText(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// apiMessage is the message of an error made by validation.
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return err.Error()
}
