// Package backup makes, packs and restores backups of a data directory. It knows no store:
// each part of a backup is a file name and a function that writes a consistent copy of it,
// so the stores stay behind their own packages.
package backup

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tallyhq/tally/internal/atomicfile"
)

// Part is one file of a backup.
type Part struct {
	Name     string                                       // file name, the same in the data directory
	Write    func(ctx context.Context, path string) error // writes a consistent copy to path
	Optional bool                                         // a part whose source may not exist
}

// ManifestFile describes a backup.
const ManifestFile = "backup.json"

// Manifest says when a backup was made and what it holds.
type Manifest struct {
	CreatedAt time.Time `json:"created_at"`
	Files     []string  `json:"files"`
}

// CopyFile is a Part.Write for small files that do not change while copied (salt, password
// hash). A missing source is reported as fs.ErrNotExist.
func CopyFile(src string) func(context.Context, string) error {
	return func(_ context.Context, dst string) error { return atomicfile.Copy(src, dst) }
}

// Make writes every part into dest, which must not exist or be empty, in the order given.
func Make(ctx context.Context, dest string, parts []Part, now time.Time) (Manifest, error) {
	if err := emptyDir(dest); err != nil {
		return Manifest{}, err
	}
	m := Manifest{CreatedAt: now.UTC()}
	for _, p := range parts {
		err := p.Write(ctx, filepath.Join(dest, p.Name))
		if p.Optional && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Manifest{}, fmt.Errorf("backup %s: %w", p.Name, err)
		}
		m.Files = append(m.Files, p.Name)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := atomicfile.Write(filepath.Join(dest, ManifestFile), append(b, '\n')); err != nil {
		return Manifest{}, fmt.Errorf("backup: write manifest: %w", err)
	}
	return m, nil
}

// emptyDir creates dir with mode 0700, or accepts it if it exists and is empty.
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return fmt.Errorf("backup directory: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("backup directory %s is not empty; give a new one", dir)
	}
	return nil
}

// ReadManifest reads the manifest of the backup in dir.
func ReadManifest(dir string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return m, fmt.Errorf("%s is not a tally backup: %w", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: bad manifest: %w", dir, err)
	}
	return m, nil
}

// Tar writes the files of the backup in dir as a tar stream.
func Tar(w io.Writer, dir string) error {
	tw := tar.NewWriter(w)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := addFile(tw, dir, e.Name()); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}

// Untar extracts a backup's tar stream into dir, which must not exist or be empty. Only plain
// file names are accepted: nothing can land outside dir.
func Untar(r io.Reader, dir string) error {
	if err := emptyDir(dir); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read backup stream: %w", err)
		}
		if h.Typeflag != tar.TypeReg || h.Name != filepath.Base(h.Name) || strings.HasPrefix(h.Name, ".") {
			return fmt.Errorf("backup stream holds an unexpected entry %q", h.Name)
		}
		f, err := os.OpenFile(filepath.Join(dir, h.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", h.Name, err)
		}
	}
	_, err := ReadManifest(dir)
	return err
}

// Replace moves the named files of dataDir aside into a new folder
// dataDir/pre-restore-<time>[-N]/ and copies the backup's files in their place. It returns the
// folder the old files went to, or "" when there were none to move (a new data directory).
func Replace(backupDir, dataDir string, names []string, now time.Time) (aside string, err error) {
	if err := regularFiles(backupDir, names); err != nil {
		return "", err
	}
	for _, name := range names {
		// SQLite's WAL and shared-memory files belong to the old read model.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			old := filepath.Join(dataDir, name+suffix)
			if _, err := os.Lstat(old); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if aside == "" {
				if aside, err = newAside(dataDir, now); err != nil {
					return "", err
				}
			}
			if err := os.Rename(old, filepath.Join(aside, name+suffix)); err != nil {
				return aside, fmt.Errorf("move %s aside: %w", old, err)
			}
		}
		src := filepath.Join(backupDir, name)
		if _, err := os.Lstat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := atomicfile.Copy(src, filepath.Join(dataDir, name)); err != nil {
			return aside, fmt.Errorf("restore %s: %w", name, err)
		}
	}
	return aside, nil
}

// newAside makes a folder of its own for the files a restore replaces: two restores in the same
// second get two folders, so the second never overwrites what the first kept.
func newAside(dataDir string, now time.Time) (string, error) {
	base := filepath.Join(dataDir, "pre-restore-"+now.UTC().Format("20060102T150405Z"))
	for n := 1; ; n++ {
		dir := base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Mkdir(dir, 0o700)
		if !errors.Is(err, fs.ErrExist) {
			return dir, err
		}
	}
}

// regularFiles refuses a backup whose files are links or anything but regular files, before
// anything is moved: a crafted backup could otherwise link to any file the restoring user can
// read and have it copied into the data directory as the salt or the password hash.
func regularFiles(dir string, names []string) error {
	for _, name := range names {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("backup %s: not a regular file (%s); refusing to restore it", name, fi.Mode().Type())
		}
	}
	return nil
}
