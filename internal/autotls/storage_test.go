package autotls_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/stormwatch/stormwatch/internal/autotls"
	"github.com/stormwatch/stormwatch/internal/store"
	"github.com/stormwatch/stormwatch/internal/store/storetest"
)

func TestStorageKeysAndDirectories(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		s := autotls.NewStorage(st)
		files := map[string]string{
			"certificates/ca/status.example.com/status.example.com.crt":   "cert",
			"certificates/ca/status.example.com/status.example.com.key":   "key",
			"certificates/ca/other_x.example.com/other_x.example.com.crt": "cert2",
			"acme/ca/users/ops@example.com/ops.json":                      "account",
		}
		for k, v := range files {
			if err := s.Store(ctx, k, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Store(ctx, "certificates/ca/status.example.com/status.example.com.crt", []byte("renewed")); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Load(ctx, "certificates/ca/status.example.com/status.example.com.crt"); err != nil || string(v) != "renewed" {
			t.Errorf("load after overwrite: %q, %v", v, err)
		}
		if _, err := s.Load(ctx, "certificates/ca/nope.crt"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("load of a missing key: %v", err)
		}
		tests := []struct {
			path      string
			recursive bool
			want      []string
		}{
			{"certificates/ca", false, []string{"certificates/ca/other_x.example.com", "certificates/ca/status.example.com"}},
			{"certificates/ca/status.example.com", false, []string{"certificates/ca/status.example.com/status.example.com.crt", "certificates/ca/status.example.com/status.example.com.key"}},
			{"acme", true, []string{"acme/ca/users/ops@example.com/ops.json"}},
			// LIKE wildcards in a key are taken literally.
			{"certificates/ca/other%", false, nil},
		}
		for _, tt := range tests {
			got, err := s.List(ctx, tt.path, tt.recursive)
			if tt.want == nil {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("List(%s) = %v, %v; want not found", tt.path, got, err)
				}
				continue
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("List(%s, %v) = %v, %v; want %v", tt.path, tt.recursive, got, err, tt.want)
			}
		}
		if info, err := s.Stat(ctx, "certificates/ca"); err != nil || info.IsTerminal {
			t.Errorf("stat of a directory: %+v, %v", info, err)
		}
		if info, err := s.Stat(ctx, "acme/ca/users/ops@example.com/ops.json"); err != nil || !info.IsTerminal || info.Size != 7 {
			t.Errorf("stat of a file: %+v, %v", info, err)
		}
		if !s.Exists(ctx, "certificates") || s.Exists(ctx, "certificates/c") {
			t.Error("Exists does not tell directories from prefixes")
		}
		if err := s.Delete(ctx, "certificates/ca/status.example.com"); err != nil {
			t.Fatal(err)
		}
		if s.Exists(ctx, "certificates/ca/status.example.com/status.example.com.key") || !s.Exists(ctx, "certificates/ca/other_x.example.com") {
			t.Error("deleting a directory removed too little or too much")
		}
		if err := s.Delete(ctx, "never/was"); err != nil {
			t.Errorf("deleting a missing key: %v", err)
		}
	})
}

// TestLocksAcrossReplicas: two storages on one database are two replicas;
// a lock is one holder's at a time, and a crashed holder's lock is taken
// over once its lease runs out.
func TestLocksAcrossReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, b := autotls.NewStorage(st), autotls.NewStorage(st)
		if ok, err := a.TryLock(ctx, "issue_cert_status.example.com"); !ok || err != nil {
			t.Fatalf("first lock: %v, %v", ok, err)
		}
		if ok, err := b.TryLock(ctx, "issue_cert_status.example.com"); ok || err != nil {
			t.Fatalf("second replica took a held lock: %v, %v", ok, err)
		}
		waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		if err := b.Lock(waitCtx, "issue_cert_status.example.com"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Lock on a held lock returned %v, want it to wait until the deadline", err)
		}
		cancel()
		got := make(chan error, 1)
		go func() { got <- b.Lock(ctx, "issue_cert_status.example.com") }()
		if err := a.Unlock(ctx, "issue_cert_status.example.com"); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the lock was not handed over after Unlock")
		}
		_ = b.Unlock(ctx, "issue_cert_status.example.com")

		// A holder that died: its lease is in the past.
		if err := st.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.TryTLSLock(ctx, "issue_cert_dead.example.com", "crashed-replica", -time.Second)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.TryLock(ctx, "issue_cert_dead.example.com"); !ok || err != nil {
			t.Errorf("a stale lock was not taken over: %v, %v", ok, err)
		}
		_ = a.Unlock(ctx, "issue_cert_dead.example.com")
	})
}
