package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkWriteLatency compares the store's group commit (a committer
// that starts a commit as soon as one is waiting, with every writer that
// arrived meanwhile) with bbolt's DB.Batch at a few MaxBatchDelay settings
// and with one db.Update per write: 8 writers, open loop at 200 writes/s in
// all (latency from the intended send time), for 5 s each. Run with
// -benchtime 1x (bench/local-store.sh, part 6).
func BenchmarkWriteLatency(b *testing.B) {
	const writers, rate, duration = 8, 200, 5 * time.Second
	val := make([]byte, 100)
	run := func(b *testing.B, write func(key []byte) error) {
		var mu sync.Mutex
		var lat []time.Duration
		start := time.Now()
		per := time.Second * writers / rate
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := 0; ; i++ {
					due := start.Add(time.Duration(w)*per/writers + time.Duration(i)*per)
					if due.Sub(start) > duration {
						return
					}
					time.Sleep(time.Until(due))
					if err := write(fmt.Appendf(nil, "w%d-%d", w, i)); err != nil {
						b.Error(err)
						return
					}
					mu.Lock()
					lat = append(lat, time.Since(due))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(len(lat)), "writes")
	}
	for b.Loop() {
		b.Run("store", func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Table: "t"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			run(b, func(key []byte) error {
				return s.Update(context.Background(), key, func([]byte) ([]byte, error) { return val, nil })
			})
		})
		for _, delay := range []time.Duration{10 * time.Millisecond, time.Millisecond, 0} {
			name := fmt.Sprintf("bolt-Batch-delay=%v", delay)
			if delay == 0 {
				name = "bolt-Update"
			}
			b.Run(name, func(b *testing.B) {
				db, err := bolt.Open(filepath.Join(b.TempDir(), "b.db"), 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.MaxBatchDelay = delay
				if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
					b.Fatal(err)
				}
				put := func(tx *bolt.Tx, key []byte) error { return tx.Bucket([]byte("b")).Put(key, val) }
				run(b, func(key []byte) error {
					if delay == 0 {
						return db.Update(func(tx *bolt.Tx) error { return put(tx, key) })
					}
					return db.Batch(func(tx *bolt.Tx) error { return put(tx, key) })
				})
			})
		}
	}
}
