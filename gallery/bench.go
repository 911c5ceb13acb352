package gallery

import (
	"diptych/engine/scheduler"

	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"
)

// BenchResult is what Bench measured, in the shape
// `diptych history bench --json` prints.
type BenchResult struct {
	Rows        int     `json:"rows"`
	SeedMS      float64 `json:"seed_ms"`        // building the throw-away library
	OpenMS      float64 `json:"open_ms"`        // Open on the full library
	FirstPageMS float64 `json:"first_page_ms"`  // List, newest 60
	SearchMS    float64 `json:"search_ms"`      // full-text search, first page
	FilterMS    float64 `json:"filter_ms"`      // model + size filter, first page
	PageAllMS   float64 `json:"page_all_ms"`    // paging through every row, 200 at a time
	HeapGrowMB  float64 `json:"heap_growth_mb"` // live heap after paging all minus before
	PeakRSSMB   float64 `json:"peak_rss_mb"`
}

var benchWords = strings.Fields(`castle astronaut ramen lighthouse forest fox dragon city portrait
	landscape ocean mountain robot garden cat owl desert neon rain snow sunset river temple train
	bridge market library cabin meadow glacier volcano harbor canyon galaxy bottle cathedral`)

var benchStyles = strings.Fields(`watercolor cinematic photograph oil-painting sketch anime isometric
	low-poly baroque minimal`)

// seedSynthetic inserts n plausible generations (rows only, no files) in
// large transactions. It is the fast path behind Bench and the benchmarks.
func (s *Store) seedSynthetic(ctx context.Context, n int) error {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	models := []string{"sdxl-base-1.0", "janus-pro-7b", "juggernaut-xl-9", "sdxl-turbo"}
	schedulers := scheduler.Names()
	sizes := [][2]int{{1024, 1024}, {832, 1216}, {1216, 832}, {384, 384}, {768, 768}}
	timings, _ := json.Marshal([]StageTiming{{"text_encoder", 40 * time.Millisecond}, {"unet", 3 * time.Second}, {"vae_decode", 250 * time.Millisecond}})
	const batch = 5000
	for done := 0; done < n; {
		m := min(batch, n-done)
		err := s.write(ctx, "seed synthetic rows", func(tx *sql.Tx) error {
			pst, err := tx.PrepareContext(ctx, `INSERT INTO prompts (text, negative, first_used, last_used, use_count)
				VALUES (?, ?, ?, ?, 1) ON CONFLICT (text, negative) DO UPDATE SET
				last_used = max(last_used, excluded.last_used), use_count = use_count + 1 RETURNING id`)
			if err != nil {
				return err
			}
			defer pst.Close()
			gst, err := tx.PrepareContext(ctx, `INSERT INTO generations (created_at, prompt_id, engine, model,
				seed, steps, scheduler, width, height, guidance, device, provider, precision, rng, timings,
				peak_memory, status, favourite) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
			if err != nil {
				return err
			}
			defer gst.Close()
			ist, err := tx.PrepareContext(ctx, `INSERT INTO images (generation_id, path, thumb_path, sha256, width, height, bytes)
				VALUES (?,?,?,?,?,?,?)`)
			if err != nil {
				return err
			}
			defer ist.Close()
			fst, err := tx.PrepareContext(ctx, `INSERT INTO search (rowid, prompt, negative, caption, tags) VALUES (?,?,?,'','')`)
			if err != nil {
				return err
			}
			defer fst.Close()
			for i := 0; i < m; i++ {
				k := done + i
				ms := start + int64(k)*60_000 + int64(r.IntN(30_000))
				words := make([]string, 0, 6)
				for w := 0; w < 4; w++ {
					words = append(words, benchWords[r.IntN(len(benchWords))])
				}
				words = append(words, benchStyles[r.IntN(len(benchStyles))])
				prompt := "a " + strings.Join(words, " ")
				neg := "blurry, lowres"
				var pid int64
				if err := pst.QueryRowContext(ctx, prompt, neg, ms, ms).Scan(&pid); err != nil {
					return err
				}
				model := models[r.IntN(len(models))]
				sz := sizes[r.IntN(len(sizes))]
				res, err := gst.ExecContext(ctx, ms, pid, "sdxl", model, int64(r.Uint32()), 20+r.IntN(30),
					schedulers[r.IntN(len(schedulers))], sz[0], sz[1], 3+float64(r.IntN(9)), "NVIDIA H100",
					"CUDA", "fp16", "cpu", string(timings), int64(8+r.IntN(8))<<30, "ok", r.IntN(20) == 0)
				if err != nil {
					return err
				}
				id, _ := res.LastInsertId()
				p := fmt.Sprintf("images/%s/%06d.png", time.UnixMilli(ms).UTC().Format("2006-01-02"), id)
				if _, err := ist.ExecContext(ctx, id, p, thumbFor(p), fmt.Sprintf("%064x", id), sz[0], sz[1], 1_500_000); err != nil {
					return err
				}
				if _, err := fst.ExecContext(ctx, id, prompt, neg); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += m
	}
	_, err := s.w.ExecContext(ctx, `PRAGMA optimize`)
	return err
}

// Bench builds a throw-away library of rows synthetic generations in dir
// (which should be empty), reopens it and times the queries the grid makes.
func Bench(ctx context.Context, dir string, rows int) (BenchResult, error) {
	res := BenchResult{Rows: rows}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	s, err := Open(ctx, dir)
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	if err := s.seedSynthetic(ctx, rows); err != nil {
		s.Close()
		return res, fmt.Errorf("bench: build library: %w", err)
	}
	res.SeedMS = ms(time.Since(t0))
	if err := s.Close(); err != nil {
		return res, err
	}

	t0 = time.Now()
	s, err = Open(ctx, dir)
	if err != nil {
		return res, err
	}
	defer s.Close()
	res.OpenMS = ms(time.Since(t0))

	timeList := func(q Query) (float64, error) {
		t := time.Now()
		_, err := s.List(ctx, q)
		return ms(time.Since(t)), err
	}
	if res.FirstPageMS, err = timeList(Query{}); err != nil {
		return res, err
	}
	if res.SearchMS, err = timeList(Query{Text: "lighthouse"}); err != nil {
		return res, err
	}
	if res.FilterMS, err = timeList(Query{Model: "janus-pro-7b", Width: 1024, Height: 1024}); err != nil {
		return res, err
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 = time.Now()
	q := Query{Limit: 200}
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			return res, err
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	res.PageAllMS = ms(time.Since(t0))
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.HeapGrowMB = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / (1 << 20)
	res.PeakRSSMB = peakRSSMB()
	return res, nil
}
