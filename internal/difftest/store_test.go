package difftest

import (
	"bytes"
	"context"
	"slices"
	"sync"
)

// memStore is an in-memory engine.Store: a sorted map under one lock.
type memStore struct {
	mu   sync.Mutex
	keys []string
	vals map[string][]byte
}

func newMemStore() *memStore { return &memStore{vals: map[string][]byte{}} }

func (m *memStore) Get(_ context.Context, key []byte) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.vals[string(key)]; ok {
		return bytes.Clone(v), nil
	}
	return nil, nil
}

func (m *memStore) Update(_ context.Context, key []byte, fn func(old []byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := string(key)
	old, ok := m.vals[k]
	var in []byte
	if ok {
		in = bytes.Clone(old)
	}
	nv, err := fn(in)
	if err != nil {
		return err
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
	m.mu.Lock()
	defer m.mu.Unlock()
	i := 0
	if after != nil {
		i, _ = slices.BinarySearch(m.keys, string(after))
		if i < len(m.keys) && m.keys[i] == string(after) {
			i++
		}
	}
	for ; i < len(m.keys); i++ {
		more, err := fn([]byte(m.keys[i]), m.vals[m.keys[i]])
		if err != nil || !more {
			return err
		}
	}
	return nil
}
