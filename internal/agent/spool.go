// Package agent runs a node's agent: it feeds a traffic source into the
// detector, keeps every attack event in a durable on-disk spool, sends the
// spool to the server in order with retries, reports heartbeats, and runs
// mitigation actions.
package agent

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	sw "github.com/stormwatch/stormwatch"
)

// Spool is a durable, ordered queue of events on disk: an append-only
// file of JSON lines and a cursor file with the offset of the first event
// the server has not acknowledged. Appends are fsynced, so an event the
// detector produced survives a crash of the agent, and events go out in
// the order they were made.
type Spool struct {
	dir    string
	mu     sync.Mutex
	log    *os.File
	size   int64 // bytes in the log
	cursor int64 // bytes acknowledged
	count  int   // events not yet acknowledged
}

// OpenSpool opens (creating) the spool in dir.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "events.log"), os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, log: f}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s.size = st.Size()
	if b, err := os.ReadFile(s.cursorPath()); err == nil {
		if s.cursor, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool cursor %s: %w", s.cursorPath(), err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, err
	}
	if s.cursor > s.size {
		s.cursor = s.size
	}
	// A torn last line (the agent died mid-append) is cut off: it was never
	// acknowledged to anyone, and a half event cannot be sent.
	if err := s.repairTail(); err != nil {
		f.Close()
		return nil, err
	}
	if s.count, err = s.countPending(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func (s *Spool) cursorPath() string { return filepath.Join(s.dir, "events.cursor") }

func (s *Spool) repairTail() error {
	if s.size == 0 {
		return nil
	}
	buf := make([]byte, 1)
	if _, err := s.log.ReadAt(buf, s.size-1); err != nil {
		return err
	}
	if buf[0] == '\n' {
		return nil
	}
	data, err := s.readRange(s.cursor, s.size)
	if err != nil {
		return err
	}
	cut := s.cursor + int64(bytes.LastIndexByte(data, '\n')+1)
	if err := s.log.Truncate(cut); err != nil {
		return err
	}
	s.size = cut
	return nil
}

func (s *Spool) readRange(from, to int64) ([]byte, error) {
	data := make([]byte, to-from)
	_, err := s.log.ReadAt(data, from)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return data, err
}

func (s *Spool) countPending() (int, error) {
	data, err := s.readRange(s.cursor, s.size)
	if err != nil {
		return 0, err
	}
	return bytes.Count(data, []byte{'\n'}), nil
}

// Append adds events at the end, durably.
func (s *Spool) Append(events ...sw.AttackEvent) error {
	if len(events) == 0 {
		return nil
	}
	var b bytes.Buffer
	for i := range events {
		line, err := json.Marshal(&events[i])
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.log.Write(b.Bytes()); err != nil {
		return fmt.Errorf("spool append: %w", err)
	}
	if err := s.log.Sync(); err != nil {
		return fmt.Errorf("spool sync: %w", err)
	}
	s.size += int64(b.Len())
	s.count += len(events)
	return nil
}

// Peek returns up to max of the oldest unacknowledged events and the
// offset to Ack once the server has them.
func (s *Spool) Peek(max int) ([]sw.AttackEvent, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := s.readRange(s.cursor, s.size)
	if err != nil {
		return nil, 0, err
	}
	var out []sw.AttackEvent
	end := s.cursor
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for len(out) < max && sc.Scan() {
		var e sw.AttackEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, 0, fmt.Errorf("spool line at %d: %w", end, err)
		}
		out = append(out, e)
		end += int64(len(sc.Bytes())) + 1
	}
	return out, end, sc.Err()
}

// Ack records that everything before offset reached the server. When the
// whole log is acknowledged, it is emptied.
func (s *Spool) Ack(offset int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if offset <= s.cursor {
		return nil
	}
	acked, err := s.readRange(s.cursor, offset)
	if err != nil {
		return err
	}
	s.count -= bytes.Count(acked, []byte{'\n'})
	if offset == s.size {
		if err := s.log.Truncate(0); err != nil {
			return err
		}
		s.size, offset = 0, 0
	}
	if err := writeFileAtomic(s.cursorPath(), []byte(strconv.FormatInt(offset, 10))); err != nil {
		return err
	}
	s.cursor = offset
	return nil
}

// Pending counts the events not yet acknowledged.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Reject moves events the server refused for good to rejected.log, so that
// one bad event cannot block the queue and none is lost silently.
func (s *Spool) Reject(events []sw.AttackEvent, reason string) error {
	f, err := os.OpenFile(filepath.Join(s.dir, "rejected.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := range events {
		line, err := json.Marshal(map[string]any{"reason": reason, "event": &events[i]})
		if err != nil {
			return err
		}
		if _, err := f.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return f.Sync()
}

// Close closes the log.
func (s *Spool) Close() error { return s.log.Close() }

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
