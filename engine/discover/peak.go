package discover

import (
	"sync"
	"time"
)

// Peak is the memory high-water mark of one run, in MB.
type Peak struct {
	RSSMB int64 // resident set of this process
	// GPUMB is the used memory of the run's GPU (all of its processes), 0
	// when it could not be sampled (no NVML, or no GPU asked for).
	GPUMB int64
}

// PeakTracker measures one run's peak memory: the highest values sampled
// since its own start, so runs that overlap (SDXL and Janus together) each
// get their own peak. The kernel's VmHWM is process-wide and resetting it
// for one run would spoil every other run's; it is only read, and counts
// when it rose during the run (then the run reached it, spikes between
// samples included).
type PeakTracker struct {
	src   peakSources
	hwm0  int64
	hwmOK bool

	mu   sync.Mutex
	peak Peak

	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// peakSources are where a tracker reads memory, in MB; ok is false when a
// value cannot be read. gpu and closeGPU may be nil.
type peakSources struct {
	rss      func() (int64, bool)
	hwm      func() (int64, bool)
	gpu      func() (int64, bool)
	closeGPU func()
}

// peakInterval is how often a tracker samples.
const peakInterval = 50 * time.Millisecond

// NewPeakTracker starts measuring the process's resident memory and, when
// gpu is a CUDA ordinal (>= 0, as in "cuda:N"), the used memory of that GPU,
// found through NVML by UUID or PCI bus id under CUDA_VISIBLE_DEVICES. Call
// Stop when the run ends.
func NewPeakTracker(gpu int) *PeakTracker {
	src := peakSources{rss: procMB("VmRSS"), hwm: procMB("VmHWM")}
	if gpu >= 0 {
		if used, closeFn, err := nvmlGPUUsage(gpu); err == nil {
			src.gpu, src.closeGPU = used, closeFn
		}
	}
	return startPeakTracker(src, peakInterval)
}

func startPeakTracker(src peakSources, interval time.Duration) *PeakTracker {
	t := &PeakTracker{src: src, stop: make(chan struct{}), done: make(chan struct{})}
	t.hwm0, t.hwmOK = src.hwm()
	t.sample()
	go func() {
		defer close(t.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.sample()
			}
		}
	}()
	return t
}

// sample reads every source once and keeps the maxima.
func (t *PeakTracker) sample() {
	rss, rssOK := t.src.rss()
	var gpu int64
	gpuOK := false
	if t.src.gpu != nil {
		gpu, gpuOK = t.src.gpu()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if rssOK {
		t.peak.RSSMB = max(t.peak.RSSMB, rss)
	}
	if gpuOK {
		t.peak.GPUMB = max(t.peak.GPUMB, gpu)
	}
}

// Stop ends sampling and returns the run's peak. Later calls return the same.
func (t *PeakTracker) Stop() Peak {
	if t == nil {
		return Peak{}
	}
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		t.sample()
		if t.src.closeGPU != nil {
			t.src.closeGPU()
		}
		if hwm, ok := t.src.hwm(); ok && t.hwmOK && hwm > t.hwm0 {
			t.mu.Lock()
			t.peak.RSSMB = max(t.peak.RSSMB, hwm)
			t.mu.Unlock()
		}
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.peak
}

// procMB reads a kB field of /proc/self/status as MB.
func procMB(key string) func() (int64, bool) {
	return func() (int64, bool) {
		kb := procKB("/proc/self/status", key)
		return kb / 1024, kb > 0
	}
}
