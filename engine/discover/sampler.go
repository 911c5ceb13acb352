package discover

// GPUMemorySampler polls one GPU's used memory through NVML and keeps the
// highest value seen, to report peak device memory of a run.
type GPUMemorySampler struct {
	stop chan struct{}
	done chan int64
}

// Stop ends sampling and returns the peak used memory in MB.
func (s *GPUMemorySampler) Stop() int64 {
	if s == nil {
		return 0
	}
	close(s.stop)
	return <-s.done
}
