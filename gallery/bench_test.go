package gallery

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
)

// benchRows is the library size for the list benchmarks
// (GALLERY_BENCH_ROWS overrides the default 100,000).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("GALLERY_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

var (
	benchOnce  sync.Once
	benchDir   string
	benchErr   error
	benchStore *Store
)

// bigLibrary builds one synthetic library shared by the list benchmarks.
func bigLibrary(b *testing.B) *Store {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "gallery-bench-")
		if benchErr != nil {
			return
		}
		benchStore, benchErr = Open(context.Background(), benchDir)
		if benchErr == nil {
			benchErr = benchStore.seedSynthetic(context.Background(), benchRows())
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchStore
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore != nil {
		benchStore.Close()
	}
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func benchList(b *testing.B, q Query) {
	s := bigLibrary(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := s.List(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) == 0 {
			b.Fatal("empty page")
		}
	}
}

func BenchmarkListFirstPage(b *testing.B) { benchList(b, Query{}) }
func BenchmarkListSearch(b *testing.B)    { benchList(b, Query{Text: "lighthouse"}) }
func BenchmarkListFilter(b *testing.B) {
	benchList(b, Query{Model: "janus-pro-7b", Width: 1024, Height: 1024})
}
func BenchmarkListFavourite(b *testing.B) { benchList(b, Query{Favourite: true}) }
func BenchmarkListScheduler(b *testing.B) { benchList(b, Query{Scheduler: "unipc"}) }

// BenchmarkListDeepPage reads a page far into the library: keyset paging
// costs the same there as on the first page.
func BenchmarkListDeepPage(b *testing.B) {
	s := bigLibrary(b)
	ctx := context.Background()
	q := Query{Limit: MaxPageSize}
	for i := 0; i < 50; i++ { // skip ~50,000 rows
		p, err := s.List(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	q.Limit = DefaultPageSize
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.List(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	s := bigLibrary(b)
	ctx := context.Background()
	for b.Loop() {
		s2, err := Open(ctx, s.Root())
		if err != nil {
			b.Fatal(err)
		}
		s2.Close()
	}
}

// BenchmarkSave is one 1024x1024 save: PNG encode with metadata, thumbnail,
// two fsynced files and the rows.
func BenchmarkSave(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	img := testImage(1024, 1024, 1)
	i := 0
	for b.Loop() {
		i++
		g := fakeGeneration(fmt.Sprintf("benchmark prompt %d", i%50), uint64(i))
		g.Width, g.Height = 1024, 1024
		if _, err := s.Save(ctx, SaveRequest{Generation: g, Image: img}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveRowOnly is the database part of a save (a failed run: no files).
func BenchmarkSaveRowOnly(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		g := fakeGeneration(fmt.Sprintf("benchmark prompt %d", i%50), uint64(i))
		g.Status = StatusFailed
		if _, err := s.Save(ctx, SaveRequest{Generation: g}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchSmall(t *testing.T) {
	res, err := Bench(context.Background(), t.TempDir(), 2000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2000 || res.OpenMS <= 0 || res.FirstPageMS <= 0 || res.SearchMS <= 0 || res.FilterMS <= 0 {
		t.Errorf("Bench = %+v", res)
	}
}

// TestPagingMemoryFlat pages through a library and checks the live heap does
// not grow with the number of rows read.
func TestPagingMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20,000 rows")
	}
	res, err := Bench(context.Background(), t.TempDir(), 20_000)
	if err != nil {
		t.Fatal(err)
	}
	if res.HeapGrowMB > 4 {
		t.Errorf("live heap grew %.1f MiB while paging 20,000 rows", res.HeapGrowMB)
	}
	t.Logf("%+v", res)
}
