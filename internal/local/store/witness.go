package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The commit witness (docs/local-storage.md#meta-pages): a small file next
// to the database holding the id of the database file and the txid of the
// last commit the store acknowledged. bbolt keeps two meta pages and, when
// the newer one fails its checksum, silently opens the older one: an older
// state, possibly with fewer items. A torn write of the newest meta page
// (a crash during a commit that was never acknowledged) looks the same.
// The witness tells them apart: it is written after every commit has been
// made durable, so a database whose newest valid commit is older than the
// witness lost an acknowledged commit.
//
// It is written in place without fsync (a commit costs no extra sync): a
// crash of the process keeps it (the page cache survives), a power loss
// may leave it behind the database, which only makes the check weaker,
// never wrong, since it never gets ahead of what is durable.
//
//	witness = fileID [16]byte || txid uint64 LE || crc32c(previous 24 bytes) uint32 LE
const witnessLen = 16 + 8 + 4

type witness struct {
	f   *os.File
	buf [witnessLen]byte
}

type witnessState struct {
	fileID [16]byte
	txid   uint64
}

// readWitness returns the witness at path; ok is false when there is none
// or it does not pass its checksum (a torn write after a power loss).
func readWitness(path string) (w witnessState, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return w, false, nil
	}
	if err != nil {
		return w, false, fileErr(path, err)
	}
	defer f.Close()
	var b [witnessLen]byte
	if n, _ := f.ReadAt(b[:], 0); n != witnessLen {
		return w, false, nil
	}
	if binary.LittleEndian.Uint32(b[24:]) != crc32Castagnoli(b[:24]) {
		return w, false, nil
	}
	copy(w.fileID[:], b[:16])
	w.txid = binary.LittleEndian.Uint64(b[16:24])
	return w, true, nil
}

func openWitness(path string) (*witness, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return &witness{f: f}, nil
}

// record writes the witness of commit txid of file id.
func (w *witness) record(id [16]byte, txid uint64) error {
	copy(w.buf[:16], id[:])
	binary.LittleEndian.PutUint64(w.buf[16:24], txid)
	binary.LittleEndian.PutUint32(w.buf[24:], crc32Castagnoli(w.buf[:24]))
	if _, err := w.f.WriteAt(w.buf[:], 0); err != nil {
		return fmt.Errorf("record the last commit: %w", err)
	}
	return nil
}

// close makes the witness durable (a clean stop leaves an exact one).
func (w *witness) close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
