// Package store is the local stack's durable store: the data dir's lock,
// its journal (group commit, fail-stop) and snapshot, recovery and
// compaction at start, the typed-JSON record codec, and DB, which makes an
// engine's writes durable before they are acknowledged. It knows items,
// keys and bytes, not expressions, and nothing of HTTP.
package store

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbops/ddbops/internal/handler"
	"github.com/ddbops/ddbops/internal/wire"
)

// DB makes an engine durable. Every successful
// PutItem, UpdateItem and DeleteItem appends the item's after-image (or a
// tombstone) to the journal and returns only once it is on disk.
//
// Ordering: mu is held in write mode around "apply to the engine, then
// append to the journal", so the journal's order is the order in which
// writes were applied, per key and globally. minidyn serializes every
// operation behind one mutex anyway, so a striped per-key lock would buy
// no concurrency; the slow part, fdatasync, happens after mu is released
// and is shared by all writers of a batch (group commit).
//
// Reads hold mu in read mode, note the last journal sequence number, and
// wait until it is durable before returning (usually a single atomic
// load): a reader never sees a write that a crash could still lose.
type DB struct {
	db   handler.DynamoDB
	j    *Journal
	mu   sync.RWMutex
	bufs sync.Pool
}

// NewDB returns db made durable by j. db must hold what j's data dir
// recovered to, and be used only through the returned DB from then on.
func NewDB(db handler.DynamoDB, j *Journal) *DB {
	return &DB{db: db, j: j, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}}
}

func (s *DB) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }
func (s *DB) putBuf(b *[]byte) {
	if cap(*b) > 64<<10 {
		return // do not pin the memory of one large item
	}
	*b = (*b)[:0]
	s.bufs.Put(b)
}

// unencodable rejects values the journal cannot store faithfully before
// anything is applied. The handler never produces them (its input is JSON);
// this guards the invariant "applied implies journaled".
func unencodable(err error) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: " + err.Error(), Fault: smithy.FaultClient}
}

// write runs apply, which changes the engine and returns the journal
// record of the change (nil for none), and appends that record, all
// under the write lock (released even if apply panics); it returns the
// batch to wait for.
func (s *DB) write(apply func() ([]byte, error)) (*batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.j.Err(); err != nil {
		return nil, err
	}
	rec, err := apply()
	if err != nil || rec == nil {
		return nil, err
	}
	return s.j.append(rec)
}

// commit runs write and returns once its record is durable.
func (s *DB) commit(ctx context.Context, apply func() ([]byte, error)) error {
	b, err := s.write(apply)
	if err != nil || b == nil {
		return err
	}
	return waitBatch(b, ctx.Done())
}

func (s *DB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	if _, err := encodePut((*bp)[:0], in.Item); err != nil {
		return nil, unencodable(err)
	}
	var out *dynamodb.PutItemOutput
	// Journal what the engine stored (its after-image), not the input.
	err := s.commit(ctx, s.withAfterImage(ctx, "put", in.TableName, keyOnly(in.Item), bp, func() (err error) {
		out, err = s.db.PutItem(ctx, in, optFns...)
		return err
	}))
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *DB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	// Everything that can end up in the item must be journal-encodable.
	if _, err := encodeDel((*bp)[:0], in.Key); err != nil {
		return nil, unencodable(err)
	}
	if _, err := appendItem((*bp)[:0], in.ExpressionAttributeValues); err != nil {
		return nil, unencodable(err)
	}
	var out *dynamodb.UpdateItemOutput
	err := s.commit(ctx, s.withAfterImage(ctx, "update", in.TableName, in.Key, bp, func() (err error) {
		out, err = s.db.UpdateItem(ctx, in, optFns...)
		return err
	}))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// withAfterImage turns apply, an engine write of key, into a write for
// commit whose journal record is key's state after it, read back under
// the same write lock and encoded into *bp.
func (s *DB) withAfterImage(ctx context.Context, what string, table *string, key map[string]types.AttributeValue, bp *[]byte, apply func() error) func() ([]byte, error) {
	return func() ([]byte, error) {
		if err := apply(); err != nil {
			return nil, err
		}
		rec, err := s.afterImage(ctx, table, key, (*bp)[:0])
		if err != nil {
			// Applied in memory but not journaled: stop acknowledging.
			s.j.fail(fmt.Errorf("record %s: %w", what, err))
			return nil, s.j.Err()
		}
		*bp = rec
		return rec, nil
	}
}

// afterImage encodes the record of key's current state: the item, read
// back while no other write can interleave, or a tombstone.
func (s *DB) afterImage(ctx context.Context, table *string, key map[string]types.AttributeValue, dst []byte) ([]byte, error) {
	after, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if after.Item == nil {
		return encodeDel(dst, key)
	}
	return encodePut(dst, after.Item)
}

func (s *DB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	bp := s.getBuf()
	defer s.putBuf(bp)
	rec, err := encodeDel(*bp, in.Key)
	if err != nil {
		return nil, unencodable(err)
	}
	*bp = rec
	var out *dynamodb.DeleteItemOutput
	err = s.commit(ctx, func() ([]byte, error) {
		var err error
		if out, err = s.db.DeleteItem(ctx, in, optFns...); err != nil {
			return nil, err
		}
		return rec, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *DB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return durableRead(ctx, s, func() (*dynamodb.GetItemOutput, error) { return s.db.GetItem(ctx, in, optFns...) })
}

func (s *DB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return durableRead(ctx, s, func() (*dynamodb.ScanOutput, error) { return s.db.Scan(ctx, in, optFns...) })
}

// durableRead runs read under the read lock (released even if the engine
// panics), then waits until the last journal record the read may have
// seen is durable.
func durableRead[O any](ctx context.Context, s *DB, read func() (*O, error)) (*O, error) {
	out, seq, err := func() (*O, uint64, error) {
		s.mu.RLock()
		defer s.mu.RUnlock()
		out, err := read()
		return out, s.j.lastSeq.Load(), err
	}()
	if err != nil {
		return out, err
	}
	if err := s.j.waitSeq(seq, ctx.Done()); err != nil {
		return nil, err
	}
	return out, nil
}

// keyOnly is the key of an item of the table (key id).
func keyOnly(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{wire.KeyAttribute: item[wire.KeyAttribute]}
}
