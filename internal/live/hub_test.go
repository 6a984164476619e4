package live

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestPublishAndSubscribe(t *testing.T) {
	h := NewHub()
	if _, ok := h.Revision("ws"); ok {
		t.Fatal("unknown workspace has a revision")
	}
	ch, cancel := h.Subscribe("ws")
	h.Publish("ws", 2)
	h.Publish("ws", 1) // older: ignored
	h.Publish("other", 9)
	if got := <-ch; got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
	// A slow reader gets the latest, not a backlog.
	h.Publish("ws", 3)
	h.Publish("ws", 4)
	if got := <-ch; got != 4 {
		t.Fatalf("got %d, want the latest 4", got)
	}
	select {
	case r := <-ch:
		t.Fatalf("unexpected revision %d", r)
	default:
	}
	if h.Subscribers() != 1 {
		t.Fatal("subscriber not counted")
	}
	cancel()
	if h.Subscribers() != 0 {
		t.Fatal("subscriber not removed")
	}
	if rev, _ := h.Revision("ws"); rev != 4 {
		t.Fatalf("revision %d, want 4", rev)
	}
}

func TestPoll(t *testing.T) {
	h := NewHub()
	ch, cancel := h.Subscribe("ws")
	defer cancel()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.Poll(ctx, time.Millisecond, func(context.Context) (map[string]int64, error) { return map[string]int64{"ws": 7}, nil },
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	select {
	case rev := <-ch:
		if rev != 7 {
			t.Fatalf("got %d", rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("poll never published")
	}
	stop()
	<-done
}
