package store

import (
	"encoding/binary"
	"hash/crc32"
)

// Record framing (docs/local-storage.md#records). bbolt checksums only
// its meta pages, so every value the store puts carries its own checksum:
//
//	record = payload || crc32c(len(key) as uint32 LE || key || payload) as uint32 LE
//
// The key is inside the checksum so that a record read under another key
// (a damaged page or element header) fails it, and its length is, so that
// a shifted key/value boundary does too.

const crcLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func recordSum(key, payload []byte) uint32 {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(key)))
	sum := crc32.Update(0, castagnoli, n[:])
	sum = crc32.Update(sum, castagnoli, key)
	return crc32.Update(sum, castagnoli, payload)
}

// frame returns the record of payload under key, in a new slice.
func frame(key, payload []byte) []byte {
	rec := make([]byte, len(payload)+crcLen)
	copy(rec, payload)
	binary.LittleEndian.PutUint32(rec[len(payload):], recordSum(key, payload))
	return rec
}

// unframe returns the payload of rec, stored under key, or false when its
// checksum fails. The payload aliases rec.
func unframe(key, rec []byte) ([]byte, bool) {
	if len(rec) < crcLen {
		return nil, false
	}
	n := len(rec) - crcLen
	if binary.LittleEndian.Uint32(rec[n:]) != recordSum(key, rec[:n]) {
		return nil, false
	}
	return rec[:n], true
}

func crc32Castagnoli(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
