package engine

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// memStore is the Store of the engine's tests: a sorted in-memory map.
// Update holds the lock while fn runs, so writers to any key serialize as
// a durable store's transactions do; retry makes it run fn twice per
// Update, as a batched store may, to prove fn is idempotent.
type memStore struct {
	mu    sync.RWMutex
	keys  []string // sorted
	vals  map[string][]byte
	retry bool
}

func newMemStore() *memStore { return &memStore{vals: map[string][]byte{}} }

func (m *memStore) Get(_ context.Context, key []byte) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.vals[string(key)]
	if !ok {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

func (m *memStore) Update(_ context.Context, key []byte, fn func(old []byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(key)
	old, exists := m.vals[k]
	var nv []byte
	var err error
	for range 1 + btoi(m.retry) {
		// Each run sees its own copy: fn may not keep or change it.
		var in []byte
		if exists {
			in = bytes.Clone(old)
		}
		if nv, err = fn(in); err != nil {
			return err
		}
	}
	i, found := slices.BinarySearch(m.keys, k)
	switch {
	case nv == nil && found:
		m.keys = slices.Delete(m.keys, i, i+1)
		delete(m.vals, k)
	case nv != nil:
		if !found {
			m.keys = slices.Insert(m.keys, i, k)
		}
		m.vals[k] = bytes.Clone(nv)
	}
	return nil
}

func (m *memStore) Scan(_ context.Context, after []byte, fn func(key, value []byte) (bool, error)) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i := 0
	if after != nil {
		i, _ = slices.BinarySearch(m.keys, string(after))
		if i < len(m.keys) && m.keys[i] == string(after) {
			i++
		}
	}
	for ; i < len(m.keys); i++ {
		k := m.keys[i]
		more, err := fn([]byte(k), m.vals[k])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

func (m *memStore) len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.keys)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
