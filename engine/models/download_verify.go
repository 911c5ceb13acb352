package models

// Verification of a complete file against its SHA-256 or git blob id.

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// verifyFile hashes a complete file and compares it with the expected
// digests; a mismatching file is deleted.
func (d *Downloader) verifyFile(ctx context.Context, p string, f FileSpec, tr *tracker) (ManifestFile, error) {
	tr.emit(Progress{Phase: PhaseVerify, File: f.Path, FileSize: f.Size, Message: "verifying " + f.Path})
	sum, gitSum, size, err := hashFile(ctx, p, f.GitSHA1 != "")
	if err != nil {
		return ManifestFile{}, fmt.Errorf("%s: verify: %w", f.Path, err)
	}
	if f.Size >= 0 && size != f.Size {
		os.Remove(p)
		return ManifestFile{}, fmt.Errorf("%s: size %d, expected %d (file deleted)", f.Path, size, f.Size)
	}
	if f.SHA256 != "" && !strings.EqualFold(sum, f.SHA256) {
		os.Remove(p)
		return ManifestFile{}, &ChecksumError{Path: f.Path, Algorithm: "SHA-256", Want: strings.ToLower(f.SHA256), Got: sum}
	}
	if f.GitSHA1 != "" && !strings.EqualFold(gitSum, f.GitSHA1) {
		os.Remove(p)
		return ManifestFile{}, &ChecksumError{Path: f.Path, Algorithm: "git blob SHA-1", Want: strings.ToLower(f.GitSHA1), Got: gitSum}
	}
	return ManifestFile{Path: f.Path, Size: size, SHA256: sum}, nil
}

// hashFile returns the SHA-256 of a file and, if asked, its git blob id.
func hashFile(ctx context.Context, p string, git bool) (sum, gitSum string, size int64, err error) {
	fh, err := os.Open(p)
	if err != nil {
		return "", "", 0, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return "", "", 0, err
	}
	h := sha256.New()
	var g hash.Hash
	w := io.Writer(h)
	if git {
		g = sha1.New()
		fmt.Fprintf(g, "blob %d\x00", st.Size())
		w = io.MultiWriter(h, g)
	}
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return "", "", 0, err
		}
		n, rerr := fh.Read(buf)
		w.Write(buf[:n])
		size += int64(n)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", "", 0, rerr
		}
	}
	sum = hex.EncodeToString(h.Sum(nil))
	if g != nil {
		gitSum = hex.EncodeToString(g.Sum(nil))
	}
	return sum, gitSum, size, nil
}
