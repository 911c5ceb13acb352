package models

// The downloader's errors: HTTP statuses (with the Hub's message and
// Retry-After), checksum mismatches, a full disk, and URL redaction for them.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HTTPError is a response with an unexpected status.
type HTTPError struct {
	URL        string
	Status     int
	Message    string
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("GET %s: HTTP %d", redactURL(e.URL), e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (the repository may be gated or private: accept its licence on the Hub and set HF_TOKEN)"
	case http.StatusNotFound:
		msg += " (check the repository name, revision and file path)"
	}
	return msg
}

// retryable reports whether a request may succeed when repeated.
func (e *HTTPError) retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// ChecksumError reports a downloaded or verified file whose digest differs
// from the expected one. A downloader deletes such a file.
type ChecksumError struct {
	Path      string
	Algorithm string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %s mismatch: expected %s, got %s (file deleted; run the command again to download it anew)",
		e.Path, e.Algorithm, e.Want, e.Got)
}

// ErrDiskFull reports that the disk filled up or has too little free space.
var ErrDiskFull = errors.New("not enough disk space")

// ErrExists reports that the destination folder already exists.
var ErrExists = errors.New("destination already exists")

var errStalled = errors.New("no data received")

// errNoRange reports a server that answered a ranged request with the whole
// file; the file is then fetched with a single connection from the start.
var errNoRange = errors.New("server ignored the Range header")

func httpError(resp *http.Response) error {
	he := &HTTPError{URL: resp.Request.URL.String(), Status: resp.StatusCode}
	if msg := resp.Header.Get("X-Error-Message"); msg != "" {
		he.Message = msg
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		var j struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &j) == nil && j.Error != "" {
			he.Message = j.Error
		} else {
			he.Message = strings.TrimSpace(string(body))
		}
	}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if s, err := strconv.Atoi(ra); err == nil {
			he.RetryAfter = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			he.RetryAfter = time.Until(t)
		}
	}
	return he
}

func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %v", ErrDiskFull, err)
	}
	return err
}

// redactURL drops the query (signed CDN URLs carry credentials there).
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
