package autotls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/stormwatch/stormwatch/internal/store"
)

// lockTTL is how long a lock outlives a holder that stopped renewing it
// (a crashed replica); holders renew it every lockTTL/4.
const lockTTL = 2 * time.Minute

// Storage keeps certmagic's certificates, keys and ACME account in the
// database, so that every replica serves what one obtained, and its locks
// there too, so that one name is issued once however many replicas see
// the first handshake.
type Storage struct {
	st   *store.Store
	mu   sync.Mutex
	held map[string]*heldLock
}

type heldLock struct {
	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

var _ certmagic.Storage = (*Storage)(nil)
var _ certmagic.TryLocker = (*Storage)(nil)

// NewStorage returns certmagic storage on st.
func NewStorage(st *store.Store) *Storage {
	return &Storage{st: st, held: map[string]*heldLock{}}
}

// Store puts value at key.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	return s.st.Tx(ctx, func(tx *store.Tx) error { return tx.PutTLS(ctx, key, value) })
}

// Load returns the value at key, or fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	o, err := s.st.TLS(ctx, key)
	if err != nil {
		return nil, err
	}
	return o.Value, nil
}

// Delete removes key and, as a directory, everything under it.
func (s *Storage) Delete(ctx context.Context, key string) error {
	return s.st.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteTLS(ctx, key) })
}

// Exists reports whether key is a value or a directory of values.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	if _, err := s.st.TLS(ctx, key); err == nil {
		return true
	}
	keys, err := s.st.TLSKeys(ctx, key)
	return err == nil && len(keys) > 0
}

// List returns the keys in directory path: all below it when recursive,
// else its direct entries (values and directories).
func (s *Storage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	keys, err := s.st.TLSKeys(ctx, path)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fs.ErrNotExist
	}
	if recursive {
		return keys, nil
	}
	prefix := strings.Trim(path, "/")
	if prefix != "" {
		prefix += "/"
	}
	var out []string
	seen := map[string]bool{}
	for _, k := range keys {
		entry, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), "/")
		if !seen[entry] {
			seen[entry] = true
			out = append(out, prefix+entry)
		}
	}
	return out, nil
}

// Stat describes key: a value with its size and time, or a directory.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	o, err := s.st.TLS(ctx, key)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Modified: o.Modified, Size: int64(len(o.Value)), IsTerminal: true}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return certmagic.KeyInfo{}, err
	}
	keys, err := s.st.TLSKeys(ctx, key)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if len(keys) == 0 {
		return certmagic.KeyInfo{}, fs.ErrNotExist
	}
	return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
}

// Lock waits for lock name, honouring ctx.
func (s *Storage) Lock(ctx context.Context, name string) error {
	for {
		ok, err := s.TryLock(ctx, name)
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// TryLock takes lock name if it is free (or its holder's lease ran out)
// and keeps renewing it until Unlock.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	owner := randomOwner()
	var ok bool
	err := s.st.Tx(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.TryTLSLock(ctx, name, owner, lockTTL)
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	renewCtx, stop := context.WithCancel(context.Background())
	h := &heldLock{owner: owner, stop: stop, done: make(chan struct{})}
	go s.renew(renewCtx, name, h)
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	return true, nil
}

func (s *Storage) renew(ctx context.Context, name string, h *heldLock) {
	defer close(h.done)
	tick := time.NewTicker(lockTTL / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			// A failed renewal is retried next tick; if the database is
			// away longer than the lease, another replica may take over,
			// which certmagic tolerates (it re-checks storage after Lock).
			_ = s.st.Tx(ctx, func(tx *store.Tx) error { return tx.RenewTLSLock(ctx, name, h.owner, lockTTL) })
		}
	}
}

// Unlock releases lock name.
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	h.stop()
	<-h.done
	return s.st.Tx(ctx, func(tx *store.Tx) error { return tx.ReleaseTLSLock(ctx, name, h.owner) })
}

func randomOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
