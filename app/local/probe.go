package local

import (
	"errors"

	"diptych/app"
	"diptych/engine/ort"
)

// ProbeRuntime finds and opens the ONNX Runtime library this engine uses and
// tries its CUDA provider on device 0 (app.RuntimeProber). It opens the
// library afresh, so it reports the files as they are now.
func (e *Engine) ProbeRuntime() app.RuntimeProbe {
	var p app.RuntimeProbe
	path, tried, err := ort.Locate(e.locate)
	for _, c := range tried {
		line := c.Source + ": " + c.Path
		if c.Err != nil {
			line += " (" + c.Err.Error() + ")"
		}
		p.Runtime.SearchLog = append(p.Runtime.SearchLog, line)
	}
	var rt *ort.Runtime
	if err == nil {
		rt, err = ort.Open(path)
	}
	if err != nil {
		p.Runtime.Error = err.Error()
		p.Runtime.Path = path
		return p
	}
	defer rt.Close()
	p.Runtime.Path, p.Runtime.Version = rt.Path, rt.Version
	p.Runtime.Providers, _ = rt.Providers()
	if err := rt.ProbeCUDA(0); err != nil {
		p.CUDAError = err.Error()
		var cu *ort.CUDAUnavailableError
		if errors.As(err, &cu) {
			p.CUDAError, p.CUDADetail = cu.Reason, cu.Detail
		}
	}
	return p
}
