package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakePipe records when it is closed.
type fakePipe struct {
	name   string
	closed *[]string
	mu     *sync.Mutex
}

func (p fakePipe) Close() error {
	p.mu.Lock()
	*p.closed = append(*p.closed, p.name)
	p.mu.Unlock()
	return nil
}

type cacheHarness struct {
	c      *cache
	mu     sync.Mutex
	closed []string
	loads  int
}

func (h *cacheHarness) get(t *testing.T, key string, mb int64) func() {
	t.Helper()
	_, release, err := h.c.acquire(context.Background(), key, mb, func() (pipeline, error) {
		h.mu.Lock()
		h.loads++
		h.mu.Unlock()
		return fakePipe{name: key, closed: &h.closed, mu: &h.mu}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return release
}

func (h *cacheHarness) closedNames() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return fmt.Sprint(h.closed)
}

// TestCacheFreesWhatDoesNotFit: on a 16 GB machine (a 12 GB budget), SDXL
// (7 GB) then Janus-Pro (8 GB) must not both be held: SDXL is freed before
// Janus loads, and a second Janus run reuses it.
func TestCacheFreesWhatDoesNotFit(t *testing.T) {
	h := &cacheHarness{c: newCache(12 << 10)}
	h.get(t, "sdxl", 7<<10)()
	h.get(t, "janus", 8<<10)()
	if got := h.closedNames(); got != "[sdxl]" {
		t.Fatalf("closed %s, want [sdxl] before Janus loaded", got)
	}
	h.get(t, "janus", 8<<10)()
	if h.loads != 2 {
		t.Fatalf("%d loads, want 2 (the second Janus run reuses it)", h.loads)
	}
	held := h.c.held()
	if len(held) != 1 || held[0].Key != "janus" {
		t.Fatalf("held %+v", held)
	}
}

// TestCacheLeastRecentlyUsedGoesFirst and models in use are never freed.
func TestCacheLeastRecentlyUsedGoesFirst(t *testing.T) {
	h := &cacheHarness{c: newCache(10 << 10)}
	h.get(t, "a", 3<<10)()
	h.get(t, "b", 3<<10)()
	h.get(t, "a", 3<<10)() // a is now the most recent
	running := h.get(t, "c", 3<<10)
	h.get(t, "d", 3<<10)() // needs 3 GB: b (least recent, idle) goes
	if got := h.closedNames(); got != "[b]" {
		t.Fatalf("closed %s, want [b]", got)
	}
	h.get(t, "e", 8<<10)() // only a and d are idle; c runs and stays
	if got := h.closedNames(); got != "[b a d]" && got != "[b d a]" {
		t.Fatalf("closed %s, want b then a and d", got)
	}
	for _, l := range h.c.held() {
		if l.Key == "c" && !l.InUse {
			t.Fatal("c is running but not marked in use")
		}
	}
	running()
	if n, mb := h.c.unload(); n != 2 || mb != 11<<10 {
		t.Fatalf("unload freed %d models, %d MB; want c and e, 11 GB", n, mb)
	}
	if len(h.c.held()) != 0 {
		t.Fatalf("held after unload: %+v", h.c.held())
	}
}

// TestCacheLoadsOutsideTheLock: while one model loads, another held model
// can be used, Unload answers, and a second caller for the loading model
// waits for that one load instead of loading again.
func TestCacheLoadsOutsideTheLock(t *testing.T) {
	c := newCache(0)
	var mu sync.Mutex
	var closed []string
	quick := func(name string) func() (pipeline, error) {
		return func() (pipeline, error) { return fakePipe{name: name, closed: &closed, mu: &mu}, nil }
	}
	_, rel, _ := c.acquire(context.Background(), "held", 1, quick("held"))
	rel()
	gate := make(chan struct{})
	loads := 0
	slow := func() (pipeline, error) {
		mu.Lock()
		loads++
		mu.Unlock()
		<-gate
		return fakePipe{name: "slow", closed: &closed, mu: &mu}, nil
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_, rel, err := c.acquire(context.Background(), "slow", 1, slow)
			if err == nil {
				rel()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		_, rel, _ := c.acquire(context.Background(), "held", 1, quick("again"))
		rel()
		c.held()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("a held model could not be used while another loaded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.acquire(ctx, "slow", 1, slow); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait for a load: %v", err)
	}
	close(gate)
	wg.Wait()
	if loads != 1 {
		t.Fatalf("%d loads of the same model, want 1", loads)
	}
}

// TestCacheLoadErrorIsNotKept: a failed load is reported and retried next
// time rather than cached.
func TestCacheLoadErrorIsNotKept(t *testing.T) {
	c := newCache(0)
	boom := errors.New("load unet: no such file")
	if _, _, err := c.acquire(context.Background(), "x", 1, func() (pipeline, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("%v", err)
	}
	if len(c.held()) != 0 {
		t.Fatal("a failed load was kept")
	}
}
