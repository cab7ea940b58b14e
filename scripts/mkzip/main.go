// Command mkzip writes a reproducible zip archive: the same inputs give the
// same bytes on every run and machine (with the same Go version), and each
// entry keeps the Unix mode it is given, so Function Compute unpacks an
// executable as an executable.
//
// Usage:
//
//	go run ./scripts/mkzip -o OUT.zip SRC=NAME[:MODE] ...
//
// SRC is a file on disk, NAME its path inside the archive and MODE an octal
// permission (default: the file's own). Entries are sorted by name, parent
// directories get their own entries (mode 0755), and every timestamp is
// fixed (SOURCE_DATE_EPOCH, or 1980-01-01 00:00:00 UTC without it).
//
// make package and make layer use it; see docs/deploy.md.
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	out := flag.String("o", "", "the zip `FILE` to write")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkzip -o OUT.zip SRC=NAME[:MODE] ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	mtime, err := modTime(os.Getenv("SOURCE_DATE_EPOCH"))
	if err == nil {
		var entries []entry
		entries, err = parseEntries(flag.Args())
		if err == nil {
			err = writeFile(*out, entries, mtime)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkzip:", err)
		os.Exit(1)
	}
}

// entry is one file of the archive.
type entry struct {
	src  string      // path on disk
	name string      // path in the archive, slash-separated, relative
	mode os.FileMode // permission bits; 0 means the file's own
}

// parseEntries parses SRC=NAME[:MODE] arguments.
func parseEntries(args []string) ([]entry, error) {
	var entries []entry
	seen := map[string]bool{}
	for _, a := range args {
		src, dst, ok := strings.Cut(a, "=")
		if !ok || src == "" || dst == "" {
			return nil, fmt.Errorf("argument %q: want SRC=NAME[:MODE]", a)
		}
		e := entry{src: src, name: dst}
		if name, mode, ok := strings.Cut(dst, ":"); ok {
			m, err := strconv.ParseUint(mode, 8, 32)
			if err != nil || m == 0 || m > 0o777 {
				return nil, fmt.Errorf("argument %q: mode %q is not an octal permission such as 0644", a, mode)
			}
			e.name, e.mode = name, os.FileMode(m)
		}
		clean := path.Clean(e.name)
		if path.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") || clean != e.name {
			return nil, fmt.Errorf("argument %q: archive name %q must be a clean relative path", a, e.name)
		}
		if seen[e.name] {
			return nil, fmt.Errorf("argument %q: archive name %q given twice", a, e.name)
		}
		seen[e.name] = true
		entries = append(entries, e)
	}
	return entries, nil
}

// modTime is the timestamp of every entry.
func modTime(epoch string) (time.Time, error) {
	if epoch == "" {
		return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil || sec < 315532800 { // zip cannot store times before 1980
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH is %q: want Unix seconds from 315532800 (1980-01-01)", epoch)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// writeFile writes the archive to a temporary file and renames it to out, so
// that a failed run never leaves a truncated zip behind.
func writeFile(out string, entries []entry, mtime time.Time) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".mkzip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp, entries, mtime)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return os.Rename(tmp.Name(), out)
}

// write writes the archive of entries to w.
func write(w io.Writer, entries []entry, mtime time.Time) error {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	zw := zip.NewWriter(w)
	dirs := map[string]bool{}
	for _, e := range entries {
		if err := addDirs(zw, path.Dir(e.name), dirs, mtime); err != nil {
			return err
		}
		if err := addFile(zw, e, mtime); err != nil {
			return err
		}
	}
	return zw.Close()
}

// addDirs adds an entry for dir and each of its parents not added yet.
func addDirs(zw *zip.Writer, dir string, done map[string]bool, mtime time.Time) error {
	if dir == "." || done[dir] {
		return nil
	}
	if err := addDirs(zw, path.Dir(dir), done, mtime); err != nil {
		return err
	}
	done[dir] = true
	h := &zip.FileHeader{Name: dir + "/", Modified: mtime}
	h.SetMode(os.ModeDir | 0o755)
	_, err := zw.CreateHeader(h)
	return err
}

func addFile(zw *zip.Writer, e entry, mtime time.Time) error {
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", e.src)
	}
	mode := e.mode
	if mode == 0 {
		mode = st.Mode().Perm()
	}
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	n, err := io.Copy(w, f)
	if err != nil {
		return fmt.Errorf("read %s: %w", e.src, err)
	}
	if n != st.Size() {
		return errors.New(e.src + " changed while it was being archived")
	}
	return nil
}
