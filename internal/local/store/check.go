package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// The check (docs/local-storage.md#check) reads a bbolt file page by page
// with pread into a few reused buffers and verifies, in one pass:
//   - both meta pages (bbolt's own checksum) and which one is in force;
//   - the B+tree: every page from the root down has the type and id its
//     parent expects, elements lie inside their page, keys are strictly
//     ascending and inside the key range the parent gives them;
//   - the free list: every page below the high-water mark is reachable
//     from the meta page in force or free, never both, never twice;
//   - the buckets the store keeps, and every record's checksum.
//
// It is a reader of its own rather than bbolt's Tx.Check because Tx.Check
// runs in a goroutine of its own (a panic or a fault on a damaged page
// there would end the process, and only the goroutine that panics can
// recover), keeps a map entry per page (heap in proportion to the data),
// and quotes keys (item ids) in its messages. This one keeps two bitmaps
// (one bit per page), never follows a page id it has not bounds-checked,
// and runs in the caller's goroutine.
//
// Layouts (bbolt v1.4, go.etcd.io/bbolt/internal/common, native byte order
// = little endian on the platforms ddbops builds for):
//
//	page    = id u64 | flags u16 | count u16 | overflow u32      (16 bytes)
//	meta    = magic u32 | version u32 | pageSize u32 | flags u32 |
//	          root {pgid u64, sequence u64} | freelist u64 | pgid u64 |
//	          txid u64 | checksum u64 (FNV-64a of the 56 bytes before)
//	branch element = pos u32 | ksize u32 | pgid u64            (key at element + pos)
//	leaf element   = flags u32 | pos u32 | ksize u32 | vsize u32 (key, then value)
//	bucket value   = root u64 | sequence u64 [| inline page when root = 0]
//	freelist page  = ids u64 ... (count 0xFFFF: the first u64 is the count)

const (
	pageHeaderLen  = 16
	elementLen     = 16
	metaLen        = 64
	bucketHdrLen   = 16
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	flagBranch     = 0x01
	flagLeaf       = 0x02
	flagMeta       = 0x04
	flagFreelist   = 0x10
	leafFlagBucket = 0x01
	noFreelist     = ^uint64(0)
	maxPageSize    = 64 << 10
	maxDepth       = 64
	checkStopEvery = 256 // pages between looks at the stop channel
)

var le = binary.LittleEndian

// boltMeta is a decoded meta page.
type boltMeta struct {
	page     int
	valid    bool
	why      string // when not valid
	pageSize uint32
	root     uint64
	freelist uint64
	hwm      uint64 // pgid: pages [0, hwm) are in use or free
	txid     uint64
}

func decodeMeta(b []byte, page int) boltMeta {
	m := boltMeta{page: page}
	if len(b) < pageHeaderLen+metaLen {
		m.why = "cut short"
		return m
	}
	mb := b[pageHeaderLen : pageHeaderLen+metaLen]
	h := fnv.New64a()
	_, _ = h.Write(mb[:56])
	switch {
	case le.Uint32(mb[0:]) != boltMagic:
		m.why = "not a bbolt meta page (bad magic)"
	case le.Uint32(mb[4:]) != boltVersion:
		m.why = fmt.Sprintf("unsupported bbolt format version %d", le.Uint32(mb[4:]))
	case le.Uint64(mb[56:]) != h.Sum64():
		m.why = "fails its checksum"
	default:
		m.valid = true
	}
	m.pageSize = le.Uint32(mb[8:])
	m.root = le.Uint64(mb[16:])
	m.freelist = le.Uint64(mb[32:])
	m.hwm = le.Uint64(mb[40:])
	m.txid = le.Uint64(mb[48:])
	if m.valid {
		switch {
		case m.pageSize < 1024 || m.pageSize > maxPageSize || m.pageSize&(m.pageSize-1) != 0:
			m.valid, m.why = false, fmt.Sprintf("impossible page size %d", m.pageSize)
		case m.txid%2 != uint64(page):
			// bbolt writes commit t to meta page t % 2.
			m.valid, m.why = false, fmt.Sprintf("holds commit %d, which belongs on the other meta page", m.txid)
		case m.hwm < 4 || m.root < 2 || m.root >= m.hwm || (m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.hwm)):
			m.valid, m.why = false, "refers to pages outside the file"
		}
	}
	return m
}

// metas reads both meta pages of f. The page size comes from the first
// meta page that validates, trying page 1 at each possible page size when
// page 0 is damaged (as bbolt does).
func readMetas(f *os.File, size int64) (m0, m1 boltMeta, err error) {
	buf := make([]byte, pageHeaderLen+metaLen)
	read := func(off int64, page int) (boltMeta, error) {
		n, err := f.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return boltMeta{}, err
		}
		return decodeMeta(buf[:n], page), nil
	}
	if m0, err = read(0, 0); err != nil {
		return
	}
	if m0.valid {
		m1, err = read(int64(m0.pageSize), 1)
		if err == nil && m1.valid && m1.pageSize != m0.pageSize {
			m1.valid, m1.why = false, "disagrees with meta page 0 on the page size"
		}
		return
	}
	for ps := int64(1024); ps <= maxPageSize && ps < size; ps <<= 1 {
		if m1, err = read(ps, 1); err != nil || (m1.valid && int64(m1.pageSize) == ps) {
			return
		}
	}
	if !m1.valid && m1.why == "" {
		m1.why = "not found"
	}
	m1.valid = false
	return
}

// inForce is the meta page bbolt opens: the valid one with the higher
// txid.
func inForce(m0, m1 boltMeta) (boltMeta, bool) {
	switch {
	case m0.valid && m1.valid:
		if m1.txid > m0.txid {
			return m1, true
		}
		return m0, true
	case m0.valid:
		return m0, true
	case m1.valid:
		return m1, true
	}
	return boltMeta{}, false
}

// bitmap has one bit per page.
type bitmap []uint64

func newBitmap(n uint64) bitmap    { return make(bitmap, (n+63)/64) }
func (b bitmap) get(i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitmap) set(i uint64)      { b[i/64] |= 1 << (i % 64) }

// checkResult is what a check learned about the records.
type checkResult struct {
	items int64
	meta  map[string][]byte // the meta bucket's payloads (small)
}

// checker walks one state (one meta page) of a file.
type checker struct {
	f        *os.File
	size     int64
	pageSize uint64
	hwm      uint64
	reach    bitmap
	free     bitmap
	bufs     [maxDepth][]byte
	pages    int
	stop     <-chan struct{}
	res      checkResult
}

type damage struct{ why string }

func (d *damage) Error() string { return d.why }

func damagef(format string, a ...any) error { return &damage{fmt.Sprintf(format, a...)} }

var errCheckStopped = errors.New("check stopped")

// checkFile verifies the state m of f (see the top of this file). It
// returns a *damage for a damaged file, errCheckStopped when stop closed,
// or an I/O error.
func checkFile(f *os.File, m boltMeta, stop <-chan struct{}) (checkResult, error) {
	st, err := f.Stat()
	if err != nil {
		return checkResult{}, err
	}
	c := &checker{f: f, size: st.Size(), pageSize: uint64(m.pageSize), hwm: m.hwm, stop: stop,
		res: checkResult{meta: map[string][]byte{}}}
	if c.hwm > uint64(c.size)/c.pageSize {
		return c.res, damagef("the file is shorter (%d bytes) than its %d pages", c.size, c.hwm)
	}
	c.reach, c.free = newBitmap(c.hwm), newBitmap(c.hwm)
	c.reach.set(0)
	c.reach.set(1)
	if m.freelist == noFreelist {
		return c.res, damagef("meta page %d names no free list", m.page)
	}
	if err := c.freelist(m.freelist); err != nil {
		return c.res, err
	}
	if err := c.rootBucket(m.root); err != nil {
		return c.res, err
	}
	for id := uint64(2); id < c.hwm; id++ {
		r, fr := c.reach.get(id), c.free.get(id)
		if r && fr {
			return c.res, damagef("page %d is both in use and in the free list", id)
		}
		if !r && !fr {
			return c.res, damagef("page %d is neither in use nor free", id)
		}
	}
	return c.res, nil
}

// read returns page id with its overflow pages, in the buffer of depth.
func (c *checker) read(id uint64, depth int, want uint16) ([]byte, error) {
	if c.pages++; c.pages%checkStopEvery == 0 && c.stop != nil {
		select {
		case <-c.stop:
			return nil, errCheckStopped
		default:
		}
	}
	if id < 2 || id >= c.hwm {
		return nil, damagef("a page refers to page %d, outside [2, %d)", id, c.hwm)
	}
	if depth >= maxDepth {
		return nil, damagef("the tree is deeper than %d levels", maxDepth)
	}
	buf := c.bufs[depth]
	if cap(buf) < int(c.pageSize) {
		buf = make([]byte, c.pageSize)
	}
	buf = buf[:c.pageSize]
	if _, err := c.f.ReadAt(buf, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("read page %d: %w", id, err)
	}
	hid, flags, overflow := le.Uint64(buf), le.Uint16(buf[8:]), uint64(le.Uint32(buf[12:]))
	if hid != id {
		return nil, damagef("page %d says it is page %d", id, hid)
	}
	if !(flags == flagFreelist && want == flagFreelist) && !((flags == flagBranch || flags == flagLeaf) && want&flags != 0) {
		return nil, damagef("page %d has type %#x where %s was expected", id, flags, pageKind(want))
	}
	if overflow >= c.hwm-id {
		return nil, damagef("page %d runs past the last page", id)
	}
	for i := uint64(0); i <= overflow; i++ {
		if c.reach.get(id + i) {
			return nil, damagef("page %d is referred to twice", id+i)
		}
		c.reach.set(id + i)
	}
	if overflow > 0 {
		n := int((overflow + 1) * c.pageSize)
		if cap(buf) < n {
			nb := make([]byte, n)
			copy(nb, buf)
			buf = nb
		}
		buf = buf[:n]
		if _, err := c.f.ReadAt(buf[c.pageSize:], int64((id+1)*c.pageSize)); err != nil {
			return nil, fmt.Errorf("read page %d: %w", id, err)
		}
	}
	c.bufs[depth] = buf
	return buf, nil
}

func pageKind(flags uint16) string {
	switch flags {
	case flagFreelist:
		return "a free list"
	case flagBranch | flagLeaf:
		return "a branch or leaf"
	}
	return fmt.Sprintf("type %#x", flags)
}

func (c *checker) freelist(id uint64) error {
	p, err := c.read(id, 0, flagFreelist)
	if err != nil {
		return err
	}
	n, off := uint64(le.Uint16(p[10:])), uint64(pageHeaderLen)
	if n == 0xFFFF {
		n, off = le.Uint64(p[pageHeaderLen:]), pageHeaderLen+8
	}
	if n > (uint64(len(p))-off)/8 {
		return damagef("the free list (page %d) counts more ids than it holds", id)
	}
	for i := uint64(0); i < n; i++ {
		fid := le.Uint64(p[off+8*i:])
		switch {
		case fid < 2 || fid >= c.hwm:
			return damagef("the free list (page %d) names page %d, outside [2, %d)", id, fid, c.hwm)
		case c.free.get(fid):
			return damagef("the free list (page %d) names page %d twice", id, fid)
		}
		c.free.set(fid)
	}
	return nil
}

// The buckets of a store's database.
var (
	bucketItems = []byte("items")
	bucketMeta  = []byte("meta")
)

func (c *checker) rootBucket(root uint64) error {
	hdrs := map[string][]byte{}
	err := c.tree(root, nil, nil, 0, func(flags uint32, key, val []byte) error {
		if flags&leafFlagBucket == 0 {
			return damagef("the root holds a value where only buckets belong")
		}
		name := string(key)
		if name != string(bucketItems) && name != string(bucketMeta) {
			return damagef("the root holds an unknown bucket")
		}
		// The buckets are walked after the root: their walk reuses the
		// buffers val lives in.
		hdrs[name] = bytes.Clone(val)
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range []string{string(bucketMeta), string(bucketItems)} {
		hdr, ok := hdrs[name]
		if !ok {
			return damagef("bucket %s is missing", name)
		}
		if err := c.bucket(name, hdr); err != nil {
			return err
		}
	}
	return nil
}

// bucket walks the bucket whose header is hdr.
func (c *checker) bucket(name string, hdr []byte) error {
	if len(hdr) < bucketHdrLen {
		return damagef("bucket %s: header cut short", name)
	}
	rec := func(flags uint32, key, val []byte) error {
		if flags&leafFlagBucket != 0 {
			return damagef("bucket %s holds a bucket", name)
		}
		payload, ok := unframe(key, val)
		if !ok {
			return damagef("bucket %s: record %d fails its checksum", name, c.count(name)+1)
		}
		if name == string(bucketItems) {
			c.res.items++
		} else {
			c.res.meta[string(key)] = bytes.Clone(payload)
		}
		return nil
	}
	root := le.Uint64(hdr)
	if root == 0 {
		return c.elements(hdr[bucketHdrLen:], 0, nil, nil, 1, rec, true)
	}
	return c.tree(root, nil, nil, 1, rec)
}

func (c *checker) count(name string) int64 {
	if name == string(bucketItems) {
		return c.res.items
	}
	return int64(len(c.res.meta))
}

// tree walks the subtree at page id, whose keys must lie in [lo, hi) (nil:
// unbounded), calling leaf for every leaf element in key order.
func (c *checker) tree(id uint64, lo, hi []byte, depth int, leaf func(flags uint32, key, val []byte) error) error {
	p, err := c.read(id, depth, flagBranch|flagLeaf)
	if err != nil {
		return err
	}
	return c.elements(p, id, lo, hi, depth, leaf, false)
}

// elements checks the elements of page p (id 0: an inline page).
func (c *checker) elements(p []byte, id uint64, lo, hi []byte, depth int, leaf func(flags uint32, key, val []byte) error, inline bool) error {
	if len(p) < pageHeaderLen {
		return damagef("an inline page is cut short")
	}
	flags, n := le.Uint16(p[8:]), int(le.Uint16(p[10:]))
	if inline && flags != flagLeaf {
		return damagef("an inline bucket is not a leaf")
	}
	if pageHeaderLen+n*elementLen > len(p) {
		return damagef("page %d counts more elements than it holds", id)
	}
	kv := func(i int, pos, klen, vlen uint32) ([]byte, []byte, error) {
		start := uint64(pageHeaderLen+i*elementLen) + uint64(pos)
		end := start + uint64(klen) + uint64(vlen)
		if end > uint64(len(p)) || start < uint64(pageHeaderLen+n*elementLen) {
			return nil, nil, damagef("page %d: element %d lies outside the page", id, i)
		}
		return p[start : start+uint64(klen)], p[start+uint64(klen) : end], nil
	}
	if flags == flagBranch {
		if n == 0 {
			return damagef("branch page %d is empty", id)
		}
		// Children reuse deeper buffers; copy what this level still needs.
		type child struct {
			key []byte
			id  uint64
		}
		kids := make([]child, n)
		for i := range n {
			e := p[pageHeaderLen+i*elementLen:]
			key, _, err := kv(i, le.Uint32(e), le.Uint32(e[4:]), 0)
			if err != nil {
				return err
			}
			kids[i] = child{bytes.Clone(key), le.Uint64(e[8:])}
			if (i == 0 && lo != nil && bytes.Compare(key, lo) < 0) || (i > 0 && bytes.Compare(kids[i-1].key, key) >= 0) || (hi != nil && bytes.Compare(key, hi) >= 0) {
				return damagef("branch page %d: keys out of order", id)
			}
		}
		for i, k := range kids {
			next := hi
			if i+1 < n {
				next = kids[i+1].key
			}
			if err := c.tree(k.id, k.key, next, depth+1, leaf); err != nil {
				return err
			}
		}
		return nil
	}
	var prev []byte
	for i := range n {
		e := p[pageHeaderLen+i*elementLen:]
		key, val, err := kv(i, le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:]))
		if err != nil {
			return err
		}
		if (lo != nil && bytes.Compare(key, lo) < 0) || (hi != nil && bytes.Compare(key, hi) >= 0) {
			return damagef("leaf page %d: a key lies outside the range its parent gives", id)
		}
		// Keys ascend within a page; siblings get disjoint ranges from
		// their parent, so the whole bucket ascends.
		if len(key) == 0 || (prev != nil && bytes.Compare(prev, key) >= 0) {
			return damagef("leaf page %d: keys out of order", id)
		}
		prev = key
		if err := leaf(le.Uint32(e), key, val); err != nil {
			return err
		}
	}
	return nil
}
