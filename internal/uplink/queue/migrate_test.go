package queue

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// writeRaw prepares a bbolt file directly.
func writeRaw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// boltEntries fills a bbolt queue file of format 1 or 2 with n entries
// (odd sequences High, 5 corrupt) and last sequence n+3.
func boltEntries(format, n int) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		put := func(name string, i uint64, v []byte) error {
			b, err := tx.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			return b.Put(seqKey(i), v)
		}
		for i := uint64(1); i <= uint64(n); i++ {
			p := Priority(i % 2)
			v := encodeRecord(record{Entry: entry(p, "k", fmt.Sprint(i)), appended: 1})
			if i == 5 {
				v = []byte("garbage")
			}
			name := map[bool]string{true: "entries", false: p.String()}[format == 1]
			if err := put(name, i, v); err != nil {
				return err
			}
		}
		if format == 1 {
			return tx.Bucket([]byte("entries")).SetSequence(uint64(n) + 3)
		}
		m, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		if err := m.Put([]byte("format"), []byte{2}); err != nil {
			return err
		}
		return m.SetSequence(uint64(n) + 3)
	}
}

func TestMigrateBolt(t *testing.T) {
	const n = 5000
	for _, format := range []int{1, 2} {
		t.Run(fmt.Sprint("format=", format), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "q.db")
			writeRaw(t, path, boltEntries(format, n))
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			q, err := Open(path, Config{MaxBytes: 1 << 30, MaxAge: 1 << 62}, Deps{Name: "m", Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "migrated") || !strings.Contains(logs.String(), "entries="+fmt.Sprint(n-1)) {
				t.Errorf("logs:\n%s", logs.String())
			}
			checkMigrated(t, q, n)
			_ = q.Close()
			if fi, err := os.Stat(path + ".migrated"); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("old file not kept as .migrated: %v", err)
			}
			q, err = Open(path, Config{MaxBytes: 1 << 30, MaxAge: 1 << 62}, Deps{Name: "m"})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			if s := q.Stats(); s.Entries != n { // 3 handed out (pending again) and the new one
				t.Errorf("after reopen %+v", s)
			}
		})
	}
}

// checkMigrated checks a queue migrated from boltEntries.
func checkMigrated(t *testing.T, q *Queue, n int) {
	t.Helper()
	if s := q.Stats(); s.Entries != n-1 || s.ByPriority[High].Entries != n/2-1 { // odd seqs are High; 5 is corrupt
		t.Errorf("stats %+v", s)
	}
	checkCounters(t, q)
	items, err := q.Next(context.Background(), 3)
	if err != nil || len(items) != 3 || items[0].Seq != 1 || items[1].Seq != 3 || items[2].Seq != 7 {
		t.Fatalf("Next = %v, %v; want High seqs 1 3 7", items, err)
	}
	mustAppend(t, q, entry(High, "k", "new"))
	data, seqs := next(t, q, 10000)
	if i := slices.Index(data, "new"); i < 0 || seqs[i] != uint64(n)+4 {
		t.Errorf("new entry: index %d of %v, want seq %d (sequences are not reused)", i, seqs, n+4)
	}
}

// TestMigrateResumes: a migration interrupted by a crash starts over.
func TestMigrateResumes(t *testing.T) {
	const n = 100
	path := filepath.Join(t.TempDir(), "q.db")
	writeRaw(t, path+migratingExt, boltEntries(2, n))
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	half := appendSegHeader(nil, Low, 0)
	half = appendFrame(half, 2, record{Entry: entry(Low, "k", "2"), appended: 1})
	if err := os.WriteFile(filepath.Join(path, segName(Low, 1)), half[:len(half)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	q, err := Open(path, Config{MaxBytes: 1 << 30, MaxAge: 1 << 62}, Deps{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	checkMigrated(t, q, n)
}

func TestOpenRefusesNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	writeRaw(t, path, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("format"), []byte{3})
	})
	_, err := Open(path, testConfig(), Deps{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "unsupported queue file format 03") {
		t.Fatalf("Open = %v, want unsupported format", err)
	}
	dir := filepath.Join(t.TempDir(), "q.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	h := appendSegHeader(nil, Low, 0)
	h[8] = 2
	if err := os.WriteFile(filepath.Join(dir, segName(Low, 1)), h, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, testConfig(), Deps{Name: "x"})
	if err == nil || !strings.Contains(err.Error(), "unsupported queue segment version 2") {
		t.Fatalf("Open = %v, want unsupported segment version", err)
	}
}
