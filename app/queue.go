package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"diptych/app/internal/atomicfile"
)

// QueueFileName is the queue's file in the config folder.
const QueueFileName = "queue.json"

// queueVersion is the format of the queue file.
const queueVersion = 1

type queueFile struct {
	Version int   `json:"version"`
	Jobs    []Job `json:"jobs"`
}

// QueuePath is the default queue file ($XDG_CONFIG_HOME/diptych/queue.json).
func QueuePath() (string, error) {
	d, err := ConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, QueueFileName), nil
}

// CorruptQueueError says the queue file could not be read and where it was
// kept so that nothing is lost.
type CorruptQueueError struct {
	Path   string // the queue file
	KeptAs string // where the unreadable file was moved ("" if it could not be)
	Err    error
}

func (e *CorruptQueueError) Error() string {
	if e.KeptAs == "" {
		return fmt.Sprintf("queue file %s is unreadable (%v); it was left in place", e.Path, e.Err)
	}
	return fmt.Sprintf("queue file %s is unreadable (%v); it was kept as %s and the queue starts empty", e.Path, e.Err, e.KeptAs)
}

func (e *CorruptQueueError) Unwrap() error { return e.Err }

// LoadQueue reads the jobs waiting in path, in order. A missing file is an
// empty queue. A file that does not parse is moved aside to
// path.corrupt-<time> and reported as a *CorruptQueueError, never discarded.
// Jobs that were running when the file was written are queued again.
func LoadQueue(path string, now time.Time) ([]Job, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read queue %s: %w", path, err)
	}
	var f queueFile
	err = json.Unmarshal(b, &f)
	if err == nil && f.Version != queueVersion {
		err = fmt.Errorf("version %d, expected %d", f.Version, queueVersion)
	}
	if err == nil {
		for i, j := range f.Jobs {
			if j.ID == "" {
				err = fmt.Errorf("job %d has no id", i)
				break
			}
		}
	}
	if err != nil {
		ce := &CorruptQueueError{Path: path, Err: err}
		kept := fmt.Sprintf("%s.corrupt-%s", path, now.Format("20060102-150405"))
		if rerr := os.Rename(path, kept); rerr == nil {
			ce.KeptAs = kept
		}
		return nil, ce
	}
	out := f.Jobs[:0]
	for _, j := range f.Jobs {
		if j.State.Finished() {
			continue
		}
		j.State, j.Started = JobQueued, time.Time{}
		out = append(out, j)
	}
	return out, nil
}

// SaveQueue writes the jobs atomically (temporary file, then rename).
func SaveQueue(path string, jobs []Job) error {
	if jobs == nil {
		jobs = []Job{}
	}
	b, err := json.MarshalIndent(queueFile{Version: queueVersion, Jobs: jobs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode queue: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}
