// Package record is the journal of the file changes a `borda host`
// command makes under a root directory: each file written or removed with
// the content and mode it had before, each directory and symbolic link
// created. The caller's state file is saved (Journal.Save) before every
// change, so that an interrupted command can still be undone, and Undo
// puts back exactly what was there.
package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// File is a file the journal changed and what it was before.
type File struct {
	Path   string      `json:"path"`           // relative to the root
	Before *string     `json:"before"`         // content before; nil: it did not exist
	Mode   fs.FileMode `json:"mode,omitempty"` // permissions before
}

// Journal records changes under Root. Save, when set, is called after a
// change is recorded and before it is made (it writes the caller's state
// file, which embeds the journal).
type Journal struct {
	Root  string       `json:"-"`
	Save  func() error `json:"-"`
	Files []File       `json:"files,omitempty"`
	Dirs  []string     `json:"dirs,omitempty"`  // created, parents first
	Links []string     `json:"links,omitempty"` // created
}

func (j *Journal) abs(rel string) string { return filepath.Join(j.Root, filepath.FromSlash(rel)) }

func (j *Journal) save() error {
	if j.Save == nil {
		return nil
	}
	return j.Save()
}

// recordFile remembers rel's content before its first change.
func (j *Journal) recordFile(rel string) (bool, error) {
	if slices.ContainsFunc(j.Files, func(f File) bool { return f.Path == rel }) {
		return false, nil
	}
	f := File{Path: rel}
	b, err := os.ReadFile(j.abs(rel))
	switch {
	case err == nil:
		s := string(b)
		f.Before = &s
		st, err := os.Stat(j.abs(rel))
		if err != nil {
			return false, fmt.Errorf("record %s: %w", rel, err)
		}
		f.Mode = st.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("record %s: %w", rel, err)
	}
	j.Files = append(j.Files, f)
	return true, nil
}

// recordDirs remembers the parents of rel that do not exist yet.
func (j *Journal) recordDirs(rel string) bool {
	var missing []string
	for d := filepath.Dir(filepath.FromSlash(rel)); d != "." && d != "/"; d = filepath.Dir(d) {
		if _, err := os.Lstat(j.abs(d)); errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, filepath.ToSlash(d))
		}
	}
	slices.Reverse(missing)
	added := false
	for _, d := range missing {
		if !slices.Contains(j.Dirs, d) {
			j.Dirs = append(j.Dirs, d)
			added = true
		}
	}
	return added
}

// StateFile records the directories that storing the state file at path
// will create, when path is under the root, so that Undo removes them too.
func (j *Journal) StateFile(path string) {
	if rel, err := filepath.Rel(j.Root, path); err == nil && filepath.IsLocal(rel) {
		j.recordDirs(filepath.ToSlash(rel))
	}
}

// WriteFile writes data to rel (creating its directories) with perm,
// after recording what was there.
func (j *Journal) WriteFile(rel string, data []byte, perm fs.FileMode) error {
	newFile, err := j.recordFile(rel)
	if err != nil {
		return err
	}
	if newDirs := j.recordDirs(rel); newFile || newDirs {
		if err := j.save(); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(j.abs(rel)), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return WriteAtomic(j.abs(rel), data, perm)
}

// Remove removes rel, after recording its content; a missing file is no change.
func (j *Journal) Remove(rel string) error {
	if _, err := os.Lstat(j.abs(rel)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if added, err := j.recordFile(rel); err != nil {
		return err
	} else if added {
		if err := j.save(); err != nil {
			return err
		}
	}
	if err := os.Remove(j.abs(rel)); err != nil {
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	return nil
}

// Symlink creates rel pointing at target unless something is already
// there (then it changes nothing and reports false).
func (j *Journal) Symlink(target, rel string) (bool, error) {
	if _, err := os.Lstat(j.abs(rel)); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	j.recordDirs(rel)
	if !slices.Contains(j.Links, rel) {
		j.Links = append(j.Links, rel)
	}
	if err := j.save(); err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(j.abs(rel)), 0o755); err != nil {
		return false, fmt.Errorf("link %s: %w", rel, err)
	}
	if err := os.Symlink(target, j.abs(rel)); err != nil {
		return false, fmt.Errorf("link %s: %w", rel, err)
	}
	return true, nil
}

// Undo puts everything back: files get their content and mode (or are
// removed), links are removed, then done runs (the caller removes its
// state file), then the created directories go (deepest first; one that
// is not empty now is kept, with a note). It returns what it did, one
// line per path. On errors it stops before done, so that the state file
// stays for another try.
func (j *Journal) Undo(done func() error) (lines []string, err error) {
	var errs []error
	for i := len(j.Files) - 1; i >= 0; i-- {
		line, err := j.undoFile(j.Files[i])
		lines, errs = appendResult(lines, errs, line, err)
	}
	for i := len(j.Links) - 1; i >= 0; i-- {
		line, err := removeIfThere(j.abs(j.Links[i]))
		lines, errs = appendResult(lines, errs, line, err)
	}
	if len(errs) > 0 {
		return lines, errors.Join(errs...)
	}
	if done != nil {
		if err := done(); err != nil {
			return lines, err
		}
	}
	return j.removeDirs(lines)
}

func (j *Journal) removeDirs(done []string) ([]string, error) {
	var errs []error
	for i := len(j.Dirs) - 1; i >= 0; i-- {
		p := j.abs(j.Dirs[i])
		if entries, err := os.ReadDir(p); err == nil && len(entries) > 0 {
			done = append(done, "kept "+p+" (not empty)")
			continue
		}
		line, err := removeIfThere(p)
		done, errs = appendResult(done, errs, line, err)
	}
	return done, errors.Join(errs...)
}

func (j *Journal) undoFile(f File) (string, error) {
	p := j.abs(f.Path)
	if f.Before == nil {
		return removeIfThere(p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("restore %s: %w", p, err)
	}
	if err := WriteAtomic(p, []byte(*f.Before), f.Mode); err != nil {
		return "", err
	}
	return "restored " + p, nil
}

func appendResult(done []string, errs []error, line string, err error) ([]string, []error) {
	if err != nil {
		return done, append(errs, err)
	}
	if line != "" {
		done = append(done, line)
	}
	return done, errs
}

func removeIfThere(p string) (string, error) {
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("remove %s: %w", p, err)
	}
	return "removed " + p, nil
}

// WriteAtomic writes data to path through a synced temporary file in the
// same directory, renamed over it.
func WriteAtomic(path string, data []byte, perm fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
