package discover

import (
	"sync"
	"testing"
	"time"
)

// fakeMemory is a process whose resident set the test sets; like the
// kernel's VmHWM, hwm is the highest value since the process started.
type fakeMemory struct {
	mu       sync.Mutex
	rss, hwm int64
	gpu      int64
}

func (m *fakeMemory) set(rss int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rss, m.hwm = rss, max(m.hwm, rss)
}

func (m *fakeMemory) sources(withGPU bool) peakSources {
	read := func(p *int64) func() (int64, bool) {
		return func() (int64, bool) { m.mu.Lock(); defer m.mu.Unlock(); return *p, true }
	}
	s := peakSources{rss: read(&m.rss), hwm: read(&m.hwm)}
	if withGPU {
		s.gpu = read(&m.gpu)
	}
	return s
}

// TestOverlappingPeakTrackers: two runs that overlap each get their own
// peak. With the process-wide reset of VmHWM that Generate used to do, the
// second run's start erased the first run's 900 MB peak.
func TestOverlappingPeakTrackers(t *testing.T) {
	m := &fakeMemory{}
	m.set(100)
	a := startPeakTracker(m.sources(true), time.Hour) // samples only when told
	m.set(900)
	m.gpu = 5000
	a.sample()
	m.set(200)
	m.gpu = 3000
	b := startPeakTracker(m.sources(false), time.Hour)
	m.set(300)
	a.sample()
	b.sample()
	pb := b.Stop()
	m.set(250)
	pa := a.Stop()
	if pa.RSSMB != 900 || pa.GPUMB != 5000 {
		t.Errorf("first run's peak %+v, want 900 MB RSS and 5000 MB GPU", pa)
	}
	if pb.RSSMB != 300 || pb.GPUMB != 0 {
		t.Errorf("second run's peak %+v, want 300 MB RSS and no GPU", pb)
	}
	if again := a.Stop(); again != pa {
		t.Errorf("second Stop = %+v, want %+v", again, pa)
	}
}

// TestPeakTrackerCountsASpikeBetweenSamples: a rise of VmHWM during the run
// is the run's peak even when no sample saw it.
func TestPeakTrackerCountsASpikeBetweenSamples(t *testing.T) {
	m := &fakeMemory{}
	m.set(400) // an earlier run's peak
	m.set(100)
	c := startPeakTracker(m.sources(false), time.Hour)
	m.set(350) // below the old high-water mark: invisible to VmHWM
	c.sample()
	m.set(700) // spike, never sampled
	m.set(150)
	if p := c.Stop(); p.RSSMB != 700 {
		t.Errorf("peak %d MB, want the 700 MB spike", p.RSSMB)
	}
	d := startPeakTracker(m.sources(false), time.Hour)
	m.set(500) // below 700, unsampled: lost, but the old 700 is not claimed
	m.set(120)
	if p := d.Stop(); p.RSSMB != 150 {
		t.Errorf("peak %d MB, want 150 (its own samples; VmHWM did not rise)", p.RSSMB)
	}
}

func TestPeakTrackerSamplesOnItsOwn(t *testing.T) {
	m := &fakeMemory{}
	m.set(10)
	tr := startPeakTracker(m.sources(true), time.Millisecond)
	m.set(20) // VmHWM rises too, so force it flat to test the ticker alone
	m.mu.Lock()
	m.hwm = 10
	m.gpu = 77
	m.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.mu.Lock()
		p := tr.peak
		tr.mu.Unlock()
		if p.RSSMB == 20 && p.GPUMB == 77 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticker never sampled: %+v", p)
		}
		time.Sleep(time.Millisecond)
	}
	m.set(5)
	if p := tr.Stop(); p.RSSMB != 20 || p.GPUMB != 77 {
		t.Fatalf("peak %+v", p)
	}
}

func TestNewPeakTrackerReadsThisProcess(t *testing.T) {
	tr := NewPeakTracker(-1)
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	tr.sample()
	rss := ProcessMemory().RSSMB
	p := tr.Stop()
	_ = buf[len(buf)-1]
	if p.RSSMB < 64 || p.RSSMB < rss-1 || p.GPUMB != 0 {
		t.Fatalf("peak %+v after touching 64 MB (RSS then %d MB)", p, rss)
	}
	var nilTracker *PeakTracker
	if nilTracker.Stop() != (Peak{}) {
		t.Fatal("nil tracker")
	}
}
