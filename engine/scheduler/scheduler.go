// Package scheduler ports diffusers' sampling schedulers (Euler, Euler ancestral, Heun, DDIM,
// DPM-Solver++ multistep, UniPC) to pure Go, following diffusers 0.39 including its float32 /
// float64 choices, so that schedules and steps match the Python pipeline to float32 rounding.
//
// Steps are addressed by position: stepIndex is an index into Timesteps() (for Heun, into the
// expanded 2N-1 list), not a timestep value. A run calls ScaleModelInput/Step with consecutive
// indices starting at the begin index (0 for text-to-image; see StrengthStartIndex and
// DenoisingStartIndex for img2img and the SDXL refiner). Calling Step with an index other than
// the one following the previous call starts a new run there, exactly like a fresh diffusers
// scheduler with set_begin_index(stepIndex): multistep history and Heun's half-step state are
// dropped.
//
// Latents and scheduler maths are float32; schedules are computed like diffusers (float32
// torch tables, float64 numpy interpolation cast to float32) and returned as float64 holding
// those float32/int values.
//
// Exactness: torch.linspace (fused multiply-add), torch.cumprod (float64 accumulator), numpy
// linspace/arange/interp and round-half-even are reproduced bit for bit, so timesteps match
// exactly. torch's x86 builds compute float32 sqrt/exp/log through MKL, which is not always
// correctly rounded; Go's correctly rounded results therefore differ from diffusers by one
// float32 ulp in about one sigma-table entry in six, and final samples agree to about 1e-6
// relative (testdata/diffusers_ref.json, written by tools/ref_schedulers.py, is checked at 1e-5).
package scheduler

import (
	"fmt"
	"strings"
)

// NoiseSource supplies standard normal noise; Randn(n) must return n float32 values, like
// torch.randn(n) with a CPU generator. engine/rng's *Generator satisfies it.
type NoiseSource interface {
	Randn(n int) []float32
}

// Scheduler is one diffusers scheduler instance. It is not safe for concurrent use.
type Scheduler interface {
	// Name is the registry name (see Names).
	Name() string
	// SetTimesteps computes the schedule for n inference steps and resets the run state.
	SetTimesteps(n int) error
	// Timesteps are the model timesteps in call order (Heun: 2n-1 entries). Euler-family
	// values are float32 (fractional with Karras sigmas); DDIM/DPM/UniPC values are integers.
	Timesteps() []float64
	// Sigmas are diffusers' scheduler.sigmas (one more than Timesteps, ending in the final
	// sigma); nil for DDIM, which has none.
	Sigmas() []float64
	// InitNoiseSigma multiplies the initial N(0,1) latents (a float32 value).
	InitNoiseSigma() float64
	// NumTrainTimesteps is the config's num_train_timesteps.
	NumTrainTimesteps() int
	// Order is diffusers' scheduler.order (2 for Heun, else 1); img2img slicing uses it.
	Order() int
	// ScaleModelInput scales sample in place for the model call at stepIndex
	// (x/sqrt(sigma²+1) for the Euler family, identity otherwise).
	ScaleModelInput(sample []float32, stepIndex int)
	// Step computes the previous sample from the model output at stepIndex. sample is the
	// unscaled latent; neither input is modified. noise is used by stochastic schedulers only
	// (Euler ancestral, SDE DPM-Solver, DDIM with eta > 0) and may be nil otherwise.
	Step(modelOutput, sample []float32, stepIndex int, noise NoiseSource) ([]float32, error)
	// AddNoise noises clean latents to the level of stepIndex (img2img start). It panics if
	// the lengths differ or stepIndex is outside the schedule.
	AddNoise(original, noise []float32, stepIndex int) []float32
	// SetBeginIndex declares where the next run starts (diffusers set_begin_index) and resets
	// the run state.
	SetBeginIndex(i int)
}

// Registry names.
const (
	NameEuler          = "euler"
	NameEulerAncestral = "euler_a"
	NameHeun           = "heun"
	NameDDIM           = "ddim"
	NameDPMPP2M        = "dpmpp_2m"
	NameDPMPP2MKarras  = "dpmpp_2m_karras"
	NameUniPC          = "unipc"
)

// diffusers class names.
const (
	classEuler  = "EulerDiscreteScheduler"
	classEulerA = "EulerAncestralDiscreteScheduler"
	classHeun   = "HeunDiscreteScheduler"
	classDDIM   = "DDIMScheduler"
	classDPM    = "DPMSolverMultistepScheduler"
	classUniPC  = "UniPCMultistepScheduler"
)

var registry = []struct {
	name, class string
}{
	{NameEuler, classEuler},
	{NameEulerAncestral, classEulerA},
	{NameHeun, classHeun},
	{NameDDIM, classDDIM},
	{NameDPMPP2M, classDPM},
	{NameDPMPP2MKarras, classDPM},
	{NameUniPC, classUniPC},
}

// Names lists the scheduler names New accepts.
func Names() []string {
	out := make([]string, len(registry))
	for i, r := range registry {
		out[i] = r.name
	}
	return out
}

// DefaultName maps a config's _class_name to a registry name ("" if not one of ours); a DPM
// config with use_karras_sigmas maps to dpmpp_2m_karras.
func DefaultName(cfg Config) string {
	for _, r := range registry {
		if r.class == cfg.ClassName && r.name != NameDPMPP2MKarras {
			if r.name == NameDPMPP2M && cfg.UseKarrasSigmas != nil && *cfg.UseKarrasSigmas {
				return NameDPMPP2MKarras
			}
			return r.name
		}
	}
	return ""
}

// New builds the named scheduler from cfg, as diffusers' <Class>.from_config(cfg) would:
// euler → EulerDiscreteScheduler, euler_a → EulerAncestralDiscreteScheduler, heun →
// HeunDiscreteScheduler, ddim → DDIMScheduler, dpmpp_2m → DPMSolverMultistepScheduler,
// dpmpp_2m_karras → the same with use_karras_sigmas=true, unipc → UniPCMultistepScheduler.
// Absent config keys take the class's constructor defaults.
func New(name string, cfg Config) (Scheduler, error) {
	class := ""
	for _, r := range registry {
		if r.name == name {
			class = r.class
		}
	}
	if class == "" {
		return nil, fmt.Errorf("unknown scheduler %q (valid: %s)", name, strings.Join(Names(), ", "))
	}
	if name == NameDPMPP2MKarras {
		cfg.UseKarrasSigmas = Ptr(true)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scheduler %s: %w", name, err)
	}
	if err := cfg.unsupported(class); err != nil {
		return nil, fmt.Errorf("scheduler %s: %w", name, err)
	}
	p := cfg.resolve(class)
	var (
		s   Scheduler
		err error
	)
	switch class {
	case classEuler:
		s, err = newEuler(name, p, false)
	case classEulerA:
		s, err = newEuler(name, p, true)
	case classHeun:
		s, err = newHeun(name, p)
	case classDDIM:
		s, err = newDDIM(name, p)
	case classDPM:
		s, err = newDPM(name, p)
	case classUniPC:
		s, err = newUniPC(name, p)
	}
	if err != nil {
		return nil, fmt.Errorf("scheduler %s: %w", name, err)
	}
	return s, nil
}

// Describe returns the schedule of the named scheduler for steps inference steps (for
// `diptych inspect schedule`): timesteps and sigmas as diffusers stores them (Heun's are the
// expanded 2N-1 / 2N lists; DDIM has no sigmas: nil) and init_noise_sigma.
func Describe(name string, steps int, cfg Config) (timesteps, sigmas []float64, initNoiseSigma float64, err error) {
	s, err := New(name, cfg)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := s.SetTimesteps(steps); err != nil {
		return nil, nil, 0, fmt.Errorf("scheduler %s: %w", name, err)
	}
	return s.Timesteps(), s.Sigmas(), s.InitNoiseSigma(), nil
}

// StrengthStartIndex mirrors StableDiffusionXLImg2ImgPipeline.get_timesteps without
// denoising_start: init = min(int(n*strength), n), tStart = max(n-init, 0). It returns the
// begin index into Timesteps() (tStart*order, to pass to SetBeginIndex and AddNoise) and the
// pipeline's step count n-tStart. strength must be in [0, 1].
func StrengthStartIndex(numInferenceSteps int, strength float64, order int) (begin, steps int, err error) {
	if numInferenceSteps < 1 {
		return 0, 0, fmt.Errorf("num_inference_steps %d: want >= 1", numInferenceSteps)
	}
	if !(strength >= 0 && strength <= 1) {
		return 0, 0, fmt.Errorf("strength %v: want a value in [0, 1]", strength)
	}
	init := int(float64(numInferenceSteps) * strength)
	if init > numInferenceSteps {
		init = numInferenceSteps
	}
	tStart := numInferenceSteps - init
	if tStart < 0 {
		tStart = 0
	}
	return tStart * order, numInferenceSteps - tStart, nil
}

// timestepCutoff is diffusers' discrete_timestep_cutoff = int(round(T - frac*T)).
func timestepCutoff(frac float64, numTrain int) (float64, error) {
	if !(frac > 0 && frac < 1) {
		return 0, fmt.Errorf("denoising fraction %v: want a value strictly between 0 and 1", frac)
	}
	T := float64(numTrain)
	return roundEven(T - frac*T), nil
}

// DenoisingEndIndex mirrors StableDiffusionXLPipeline's denoising_end: the base model runs
// timesteps[:end], the leading entries with t >= int(round(T - frac*T)). No second-order
// adjustment is made on this side (diffusers makes none).
func DenoisingEndIndex(timesteps []float64, frac float64, numTrainTimesteps int) (int, error) {
	cutoff, err := timestepCutoff(frac, numTrainTimesteps)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range timesteps {
		if t >= cutoff {
			n++
		}
	}
	return n, nil
}

// DenoisingStartIndex mirrors StableDiffusionXLImg2ImgPipeline.get_timesteps with
// denoising_start (the refiner side of the hand-off): n = #(timesteps < cutoff), bumped to n+1
// when order == 2 and n is even so that a Heun run never starts between its two half steps;
// the refiner runs timesteps[begin:] with begin = len(timesteps) - n, adds no noise, and should
// call SetBeginIndex(begin).
func DenoisingStartIndex(timesteps []float64, frac float64, numTrainTimesteps, order int) (int, error) {
	cutoff, err := timestepCutoff(frac, numTrainTimesteps)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range timesteps {
		if t < cutoff {
			n++
		}
	}
	if order == 2 && n%2 == 0 {
		n++
	}
	begin := len(timesteps) - n
	if begin < 0 {
		begin = 0
	}
	return begin, nil
}

// core holds what every scheduler shares.
type core struct {
	name      string
	p         params
	tt        trainTables
	timesteps []float64
	sigmas    []float32 // nil for DDIM
	initSigma float32
	steps     int // num_inference_steps as diffusers stores it
	ready     bool
	next      int // index the next Step continues from
}

func newCore(name string, p params, zsnrFloor bool) (core, error) {
	tt, err := buildTables(&p, zsnrFloor)
	if err != nil {
		return core{}, err
	}
	return core{name: name, p: p, tt: tt, initSigma: 1}, nil
}

func (c *core) Name() string            { return c.name }
func (c *core) NumTrainTimesteps() int  { return c.p.numTrain }
func (c *core) InitNoiseSigma() float64 { return float64(c.initSigma) }

func (c *core) Timesteps() []float64 { return append([]float64(nil), c.timesteps...) }

func (c *core) Sigmas() []float64 {
	if c.sigmas == nil {
		return nil
	}
	return f32to64(c.sigmas)
}

func (c *core) checkSteps(n int) error {
	if n < 1 {
		return fmt.Errorf("num_inference_steps %d: want >= 1", n)
	}
	if n > c.p.numTrain {
		return fmt.Errorf("num_inference_steps %d: cannot exceed num_train_timesteps %d", n, c.p.numTrain)
	}
	return nil
}

// checkStep validates Step arguments and reports whether the call continues the current run.
func (c *core) checkStep(modelOutput, sample []float32, i int) (continues bool, err error) {
	if !c.ready {
		return false, fmt.Errorf("%s: Step called before SetTimesteps", c.name)
	}
	if i < 0 || i >= len(c.timesteps) {
		return false, fmt.Errorf("%s: step index %d outside the schedule [0, %d)", c.name, i, len(c.timesteps))
	}
	if len(modelOutput) != len(sample) {
		return false, fmt.Errorf("%s: model output has %d values, sample %d", c.name, len(modelOutput), len(sample))
	}
	continues = i == c.next
	c.next = i + 1
	return continues, nil
}

func (c *core) mustIndex(i int, what string) {
	if !c.ready {
		panic(fmt.Sprintf("scheduler %s: %s called before SetTimesteps", c.name, what))
	}
	if i < 0 || i >= len(c.timesteps) {
		panic(fmt.Sprintf("scheduler %s: %s step index %d outside the schedule [0, %d)", c.name, what, i, len(c.timesteps)))
	}
}

func drawNoise(name string, noise NoiseSource, n int) ([]float32, error) {
	if noise == nil {
		return nil, fmt.Errorf("%s: this scheduler needs a NoiseSource", name)
	}
	z := noise.Randn(n)
	if len(z) != n {
		return nil, fmt.Errorf("%s: NoiseSource returned %d values, want %d", name, len(z), n)
	}
	return z, nil
}

// predictionCheck rejects prediction types a class does not implement.
func predictionCheck(class, pred string, allowed ...string) error {
	for _, a := range allowed {
		if pred == a {
			return nil
		}
	}
	return fmt.Errorf("%s: prediction_type %q is not supported (want one of %s)", class, pred, strings.Join(allowed, ", "))
}

// alphaSigma is diffusers' _sigma_to_alpha_sigma_t in float32.
func alphaSigma(sigma float32) (alpha, sigmaT float32) {
	alpha = 1 / sqrt32(float32(sigma*sigma)+1)
	return alpha, float32(sigma * alpha)
}

// lambdaOf is log(alpha) - log(sigma_t) in float32 (+Inf for sigma 0).
func lambdaOf(alpha, sigmaT float32) float32 { return log32(alpha) - log32(sigmaT) }
