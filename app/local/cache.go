package local

import (
	"context"
	"fmt"
	"sync"
)

// pipeline is a loaded model the engine keeps for the next run.
type pipeline interface {
	Close() error
}

// cacheEntry is one loaded pipeline and what it costs to keep.
type cacheEntry struct {
	key    string
	p      pipeline
	sizeMB int64
	refs   int    // runs using it now; never evicted while > 0
	used   uint64 // cache clock at the last acquire: lower = less recent
}

// loadCall is a load in progress; others asking for the same key wait on it.
type loadCall struct {
	done chan struct{}
	err  error
}

// cache keeps loaded pipelines, least recently used first out, so that the
// pipelines held stay within a memory budget: before a model is loaded, idle
// models are freed until the new one fits (SDXL then Janus-Pro on a 16 GB
// machine never holds both). Loading happens outside the lock, so a long
// load never blocks a run of an already-loaded model, nor Unload.
type cache struct {
	budgetMB int64 // 0 = no limit

	mu      sync.Mutex
	clock   uint64
	entries map[string]*cacheEntry
	loading map[string]*loadCall
}

func newCache(budgetMB int64) *cache {
	return &cache{budgetMB: budgetMB, entries: map[string]*cacheEntry{}, loading: map[string]*loadCall{}}
}

// acquire returns the pipeline for key, loading it with load when it is not
// held (sizeMB is what it will cost). The caller must call release when the
// run is over.
func (c *cache) acquire(ctx context.Context, key string, sizeMB int64, load func() (pipeline, error)) (pipeline, func(), error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok {
			e.refs++
			c.clock++
			e.used = c.clock
			c.mu.Unlock()
			return e.p, c.releaser(e), nil
		}
		if call, ok := c.loading[key]; ok {
			c.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			if call.err != nil {
				return nil, nil, call.err
			}
			continue // loaded: take it from the entries
		}
		call := &loadCall{done: make(chan struct{})}
		c.loading[key] = call
		victims := c.evictLocked(sizeMB)
		c.mu.Unlock()

		for _, v := range victims {
			v.p.Close()
		}
		p, err := load()

		c.mu.Lock()
		delete(c.loading, key)
		call.err = err
		close(call.done)
		if err != nil {
			c.mu.Unlock()
			return nil, nil, err
		}
		c.clock++
		e := &cacheEntry{key: key, p: p, sizeMB: sizeMB, refs: 1, used: c.clock}
		c.entries[key] = e
		c.mu.Unlock()
		return p, c.releaser(e), nil
	}
}

func (c *cache) releaser(e *cacheEntry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			e.refs--
			c.mu.Unlock()
		})
	}
}

// evictLocked takes idle entries out, least recently used first, until
// needMB more fits in the budget. It returns them for closing outside the
// lock. Entries in use stay, even if the budget is then exceeded.
func (c *cache) evictLocked(needMB int64) []*cacheEntry {
	if c.budgetMB <= 0 {
		return nil
	}
	var out []*cacheEntry
	for c.heldLocked()+needMB > c.budgetMB {
		var lru *cacheEntry
		for _, e := range c.entries {
			if e.refs == 0 && (lru == nil || e.used < lru.used) {
				lru = e
			}
		}
		if lru == nil {
			break
		}
		delete(c.entries, lru.key)
		out = append(out, lru)
	}
	return out
}

func (c *cache) heldLocked() int64 {
	var n int64
	for _, e := range c.entries {
		n += e.sizeMB
	}
	return n
}

// Loaded describes one pipeline the engine holds.
type Loaded struct {
	Key    string
	SizeMB int64
	InUse  bool
}

// held lists the loaded pipelines, most recently used first.
func (c *cache) held() []Loaded {
	c.mu.Lock()
	defer c.mu.Unlock()
	var es []*cacheEntry
	for _, e := range c.entries {
		es = append(es, e)
	}
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].used > es[j-1].used; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
	out := make([]Loaded, len(es))
	for i, e := range es {
		out[i] = Loaded{Key: e.key, SizeMB: e.sizeMB, InUse: e.refs > 0}
	}
	return out
}

// unload closes every idle pipeline and returns how many and how much
// memory that freed; pipelines in use stay.
func (c *cache) unload() (int, int64) {
	c.mu.Lock()
	var victims []*cacheEntry
	for k, e := range c.entries {
		if e.refs == 0 {
			victims = append(victims, e)
			delete(c.entries, k)
		}
	}
	c.mu.Unlock()
	var mb int64
	for _, v := range victims {
		v.p.Close()
		mb += v.sizeMB
	}
	return len(victims), mb
}

// closeAll closes every pipeline, in use or not (the engine is closing).
func (c *cache) closeAll() error {
	c.mu.Lock()
	es := c.entries
	c.entries = map[string]*cacheEntry{}
	c.mu.Unlock()
	var first error
	for _, e := range es {
		if err := e.p.Close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", e.key, err)
		}
	}
	return first
}
