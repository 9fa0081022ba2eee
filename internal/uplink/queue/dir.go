package queue

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

const (
	lockName      = "lock"
	lockTimeout   = time.Second
	migratingExt  = ".migrating" // a bbolt queue file being migrated
	migratedExt   = ".migrated"  // one that was
	maxSymlinkHop = 8
)

// open prepares the directory, migrates a bbolt file, locks the
// directory and loads the logs.
func (q *Queue) open(path string) error {
	dir, err := prepareDir(path)
	if err != nil {
		return err
	}
	q.dir = dir
	if q.lock, err = lockDir(dir); err != nil {
		return err
	}
	if err := q.migrate(dir + migratingExt); err != nil {
		_ = unlockDir(q.lock)
		return fmt.Errorf("migrate the bbolt queue file: %w", err)
	}
	if err := q.load(); err != nil {
		_ = q.release()
		return err
	}
	return nil
}

// prepareDir returns the queue directory for path, following symbolic
// links (also to a directory still to be created) and creating it. A
// regular file at path is a queue of the former bbolt format: it is
// renamed to <path>.migrating for Open to migrate.
func prepareDir(path string) (string, error) {
	for range maxSymlinkHop {
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.MkdirAll(path, 0o700); err != nil {
				return "", fmt.Errorf("create queue directory: %w", err)
			}
			return path, nil
		case err != nil:
			return "", fmt.Errorf("stat: %w", err)
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return "", fmt.Errorf("read symbolic link: %w", err)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(path), target)
			}
			path = target
		case fi.IsDir():
			return path, nil
		case fi.Mode().IsRegular():
			if err := os.Rename(path, path+migratingExt); err != nil {
				return "", fmt.Errorf("set the bbolt queue file aside: %w", err)
			}
		default:
			return "", fmt.Errorf("%s is neither a directory nor a queue file (mode %s)", path, fi.Mode())
		}
	}
	return "", fmt.Errorf("more than %d symbolic links", maxSymlinkHop)
}

// lockDir takes an exclusive lock on the directory (one process at a
// time), waiting up to lockTimeout for another holder to let go.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(lockTimeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s (in use by another process?): %w", dir, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func unlockDir(f *os.File) error {
	if f == nil {
		return nil
	}
	if err := f.Close(); err != nil { // closing releases the flock
		return fmt.Errorf("unlock: %w", err)
	}
	return nil
}

// listSegments returns each priority's segments by index (not opened).
func listSegments(dir string) ([numPriorities][]*segment, error) {
	var segs [numPriorities][]*segment
	des, err := os.ReadDir(dir)
	if err != nil {
		return segs, fmt.Errorf("list segments: %w", err)
	}
	for _, de := range des {
		if p, idx, ok := parseSegName(de.Name()); ok && de.Type().IsRegular() {
			segs[p] = append(segs[p], &segment{idx: idx, path: filepath.Join(dir, de.Name())})
		}
	}
	for p := range segs {
		slices.SortFunc(segs[p], func(a, b *segment) int { return cmp.Compare(a.idx, b.idx) })
	}
	return segs, nil
}
