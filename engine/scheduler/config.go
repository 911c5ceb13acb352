package scheduler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
)

// Config is a diffusers scheduler_config.json. Pointer (and nil slice) fields are "absent":
// like diffusers' from_config, each scheduler then uses its own constructor default (e.g.
// timestep_spacing defaults to "linspace" for Euler but "leading" for DDIM). Keys this package
// does not know are ignored, as diffusers ignores keys a scheduler class does not take.
type Config struct {
	ClassName string // "_class_name", informational

	NumTrainTimesteps *int
	BetaStart         *float64
	BetaEnd           *float64
	BetaSchedule      *string // linear, scaled_linear, squaredcos_cap_v2 (exp: Heun only)
	TrainedBetas      []float64
	PredictionType    *string // epsilon, v_prediction, sample
	TimestepSpacing   *string // leading, linspace, trailing
	StepsOffset       *int

	ClipSample      *bool
	ClipSampleRange *float64
	SetAlphaToOne   *bool

	UseKarrasSigmas      *bool
	UseExponentialSigmas *bool
	UseBetaSigmas        *bool
	InterpolationType    *string // linear (log_linear is rejected)
	FinalSigmasType      *string // zero, sigma_min
	TimestepType         *string // discrete, continuous (Euler)
	SigmaMin             *float64
	SigmaMax             *float64
	RescaleBetasZeroSNR  *bool

	SolverOrder      *int
	AlgorithmType    *string // dpmsolver++, sde-dpmsolver++, dpmsolver, sde-dpmsolver
	SolverType       *string // midpoint, heun (DPM-Solver); bh1, bh2 (UniPC)
	LowerOrderFinal  *bool
	EulerAtFinal     *bool
	LambdaMinClipped *float64
	PredictX0        *bool
	DisableCorrector []int

	Thresholding             *bool
	DynamicThresholdingRatio *float64
	SampleMaxValue           *float64
	VarianceType             *string
	UseLuLambdas             *bool
	UseFlowSigmas            *bool
	UseDynamicShifting       *bool
}

// Ptr returns a pointer to v, for filling Config fields in code.
func Ptr[T any](v T) *T { return &v }

// SDXLConfig returns the scheduler config shipped with stabilityai/stable-diffusion-xl-base-1.0
// (and the refiner): EulerDiscreteScheduler, scaled_linear 0.00085→0.012, 1000 train steps,
// "leading" spacing with steps_offset 1, epsilon prediction.
func SDXLConfig() Config {
	return Config{
		ClassName:         "EulerDiscreteScheduler",
		NumTrainTimesteps: Ptr(1000),
		BetaStart:         Ptr(0.00085),
		BetaEnd:           Ptr(0.012),
		BetaSchedule:      Ptr("scaled_linear"),
		PredictionType:    Ptr("epsilon"),
		InterpolationType: Ptr("linear"),
		TimestepSpacing:   Ptr("leading"),
		StepsOffset:       Ptr(1),
		UseKarrasSigmas:   Ptr(false),
		ClipSample:        Ptr(false),
		SetAlphaToOne:     Ptr(false),
		SampleMaxValue:    Ptr(1.0),
	}
}

// LoadConfig reads and parses a scheduler_config.json file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load scheduler config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("load %s: %w", path, err)
	}
	return c, nil
}

// enumValues lists the accepted values of the string fields.
var enumValues = map[string][]string{
	"beta_schedule":      {"linear", "scaled_linear", "squaredcos_cap_v2", "exp"},
	"prediction_type":    {"epsilon", "v_prediction", "sample"},
	"timestep_spacing":   {"leading", "linspace", "trailing"},
	"interpolation_type": {"linear", "log_linear"},
	"final_sigmas_type":  {"zero", "sigma_min"},
	"timestep_type":      {"discrete", "continuous"},
	"algorithm_type":     {"dpmsolver++", "sde-dpmsolver++", "dpmsolver", "sde-dpmsolver", "deis"},
	"solver_type":        {"midpoint", "heun", "bh1", "bh2", "logrho"},
	"variance_type":      {"learned", "learned_range"},
}

// ParseConfig parses the JSON of a scheduler_config.json. Unknown keys are ignored; a known key
// with a value of the wrong type, or a string value outside the field's known set, is an error
// naming the field and the value. JSON null means "absent". Python's Infinity/-Infinity/NaN
// tokens (written by json.dumps for lambda_min_clipped) are accepted.
func ParseConfig(data []byte) (Config, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(pythonJSON(data), &raw); err != nil {
		return Config{}, fmt.Errorf("parse scheduler config: %w", err)
	}
	var c Config
	var errs []string
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		if string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		if err := c.setField(k, v); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("scheduler config: %s", strings.Join(errs, "; "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// pythonJSON quotes bare Infinity, -Infinity and NaN tokens (outside strings) so that
// encoding/json accepts them; parseFloat turns the strings back into numbers.
func pythonJSON(data []byte) []byte {
	if !bytes.Contains(data, []byte("Infinity")) && !bytes.Contains(data, []byte("NaN")) {
		return data
	}
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(data); i++ {
		ch := data[i]
		if inStr {
			out.WriteByte(ch)
			switch {
			case esc:
				esc = false
			case ch == '\\':
				esc = true
			case ch == '"':
				inStr = false
			}
			continue
		}
		if ch == '"' {
			inStr = true
			out.WriteByte(ch)
			continue
		}
		replaced := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString(`"` + tok + `"`)
				i += len(tok) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out.WriteByte(ch)
		}
	}
	return out.Bytes()
}

func parseFloat(key string, v json.RawMessage) (float64, error) {
	var f float64
	if err := json.Unmarshal(v, &f); err == nil {
		return f, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		switch s {
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		}
	}
	return 0, fmt.Errorf("field %s: want a number, got %s", key, v)
}

func parseInt(key string, v json.RawMessage) (int, error) {
	f, err := parseFloat(key, v)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, fmt.Errorf("field %s: want an integer, got %s", key, v)
	}
	return int(f), nil
}

func parseBool(key string, v json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Errorf("field %s: want true or false, got %s", key, v)
	}
	return b, nil
}

func parseString(key string, v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("field %s: want a string, got %s", key, v)
	}
	return s, nil
}

func (c *Config) setField(key string, v json.RawMessage) error {
	f := func(dst **float64) error {
		x, err := parseFloat(key, v)
		if err == nil {
			*dst = &x
		}
		return err
	}
	i := func(dst **int) error {
		x, err := parseInt(key, v)
		if err == nil {
			*dst = &x
		}
		return err
	}
	b := func(dst **bool) error {
		x, err := parseBool(key, v)
		if err == nil {
			*dst = &x
		}
		return err
	}
	s := func(dst **string) error {
		x, err := parseString(key, v)
		if err == nil {
			*dst = &x
		}
		return err
	}
	switch key {
	case "_class_name":
		x, err := parseString(key, v)
		c.ClassName = x
		return err
	case "num_train_timesteps":
		return i(&c.NumTrainTimesteps)
	case "beta_start":
		return f(&c.BetaStart)
	case "beta_end":
		return f(&c.BetaEnd)
	case "beta_schedule":
		return s(&c.BetaSchedule)
	case "trained_betas":
		var arr []float64
		if err := json.Unmarshal(v, &arr); err != nil {
			return fmt.Errorf("field trained_betas: want a list of numbers, got %.40s", v)
		}
		c.TrainedBetas = arr
		return nil
	case "prediction_type":
		return s(&c.PredictionType)
	case "timestep_spacing":
		return s(&c.TimestepSpacing)
	case "steps_offset":
		return i(&c.StepsOffset)
	case "clip_sample":
		return b(&c.ClipSample)
	case "clip_sample_range":
		return f(&c.ClipSampleRange)
	case "set_alpha_to_one":
		return b(&c.SetAlphaToOne)
	case "use_karras_sigmas":
		return b(&c.UseKarrasSigmas)
	case "use_exponential_sigmas":
		return b(&c.UseExponentialSigmas)
	case "use_beta_sigmas":
		return b(&c.UseBetaSigmas)
	case "interpolation_type":
		return s(&c.InterpolationType)
	case "final_sigmas_type":
		return s(&c.FinalSigmasType)
	case "timestep_type":
		return s(&c.TimestepType)
	case "sigma_min":
		return f(&c.SigmaMin)
	case "sigma_max":
		return f(&c.SigmaMax)
	case "rescale_betas_zero_snr":
		return b(&c.RescaleBetasZeroSNR)
	case "solver_order":
		return i(&c.SolverOrder)
	case "algorithm_type":
		return s(&c.AlgorithmType)
	case "solver_type":
		return s(&c.SolverType)
	case "lower_order_final":
		return b(&c.LowerOrderFinal)
	case "euler_at_final":
		return b(&c.EulerAtFinal)
	case "lambda_min_clipped":
		return f(&c.LambdaMinClipped)
	case "predict_x0":
		return b(&c.PredictX0)
	case "disable_corrector":
		var arr []int
		if err := json.Unmarshal(v, &arr); err != nil {
			return fmt.Errorf("field disable_corrector: want a list of integers, got %s", v)
		}
		c.DisableCorrector = arr
		return nil
	case "thresholding":
		return b(&c.Thresholding)
	case "dynamic_thresholding_ratio":
		return f(&c.DynamicThresholdingRatio)
	case "sample_max_value":
		return f(&c.SampleMaxValue)
	case "variance_type":
		return s(&c.VarianceType)
	case "use_lu_lambdas":
		return b(&c.UseLuLambdas)
	case "use_flow_sigmas":
		return b(&c.UseFlowSigmas)
	case "use_dynamic_shifting":
		return b(&c.UseDynamicShifting)
	}
	return nil // unknown keys are ignored, as diffusers does
}

// Validate checks value domains of the fields that are set: enum strings, positive
// num_train_timesteps, betas in range, solver_order 1..3.
func (c Config) Validate() error {
	var errs []string
	checkEnum := func(key string, v *string) {
		if v == nil {
			return
		}
		for _, ok := range enumValues[key] {
			if *v == ok {
				return
			}
		}
		errs = append(errs, fmt.Sprintf("field %s: unknown value %q (want one of %s)", key, *v,
			strings.Join(enumValues[key], ", ")))
	}
	checkEnum("beta_schedule", c.BetaSchedule)
	checkEnum("prediction_type", c.PredictionType)
	checkEnum("timestep_spacing", c.TimestepSpacing)
	checkEnum("interpolation_type", c.InterpolationType)
	checkEnum("final_sigmas_type", c.FinalSigmasType)
	checkEnum("timestep_type", c.TimestepType)
	checkEnum("algorithm_type", c.AlgorithmType)
	checkEnum("solver_type", c.SolverType)
	checkEnum("variance_type", c.VarianceType)
	if c.NumTrainTimesteps != nil && (*c.NumTrainTimesteps < 2 || *c.NumTrainTimesteps > 1_000_000) {
		errs = append(errs, fmt.Sprintf("field num_train_timesteps: %d out of range (want 2..1000000)", *c.NumTrainTimesteps))
	}
	if c.BetaStart != nil && !(*c.BetaStart > 0 && *c.BetaStart < 1) {
		errs = append(errs, fmt.Sprintf("field beta_start: %v out of range (want 0 < beta_start < 1)", *c.BetaStart))
	}
	if c.BetaEnd != nil && !(*c.BetaEnd > 0 && *c.BetaEnd < 1) {
		errs = append(errs, fmt.Sprintf("field beta_end: %v out of range (want 0 < beta_end < 1)", *c.BetaEnd))
	}
	for i, b := range c.TrainedBetas {
		if !(b > 0 && b < 1) {
			errs = append(errs, fmt.Sprintf("field trained_betas: element %d = %v out of range (want 0 < beta < 1)", i, b))
			break
		}
	}
	if c.SolverOrder != nil && (*c.SolverOrder < 1 || *c.SolverOrder > 3) {
		errs = append(errs, fmt.Sprintf("field solver_order: %d out of range (want 1, 2 or 3)", *c.SolverOrder))
	}
	if c.StepsOffset != nil && *c.StepsOffset < 0 {
		errs = append(errs, fmt.Sprintf("field steps_offset: %d is negative", *c.StepsOffset))
	}
	if len(errs) > 0 {
		return fmt.Errorf("scheduler config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// params is a Config resolved against one scheduler class's constructor defaults.
type params struct {
	class string

	numTrain      int
	betaStart     float64
	betaEnd       float64
	betaSchedule  string
	trainedBetas  []float64
	prediction    string
	spacing       string
	stepsOffset   int
	clipSample    bool
	clipRange     float64
	setAlphaToOne bool

	karras         bool
	exponential    bool
	interpolation  string
	finalSigmas    string
	timestepType   string
	sigmaMin       *float64
	sigmaMax       *float64
	rescaleZeroSNR bool

	order            int
	algorithm        string
	solverType       string
	lowerOrderFinal  bool
	eulerAtFinal     bool
	lambdaMinClipped float64
	predictX0        bool
	disableCorrector []int
}

// classDefaults are the constructor defaults of the diffusers classes (diffusers 0.39).
func classDefaults(class string) params {
	p := params{
		class: class, numTrain: 1000, betaStart: 0.0001, betaEnd: 0.02, betaSchedule: "linear",
		prediction: "epsilon", spacing: "linspace", clipRange: 1.0, interpolation: "linear",
		finalSigmas: "zero", timestepType: "discrete", order: 2, algorithm: "dpmsolver++",
		lowerOrderFinal: true, lambdaMinClipped: math.Inf(-1), predictX0: true,
	}
	switch class {
	case classHeun:
		p.betaStart, p.betaEnd = 0.00085, 0.012
	case classDDIM:
		p.clipSample, p.setAlphaToOne, p.spacing = true, true, "leading"
	case classDPM:
		p.solverType = "midpoint"
	case classUniPC:
		p.solverType = "bh2"
	}
	return p
}

func (c Config) resolve(class string) params {
	p := classDefaults(class)
	setF := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setB := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setS := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setI(&p.numTrain, c.NumTrainTimesteps)
	setF(&p.betaStart, c.BetaStart)
	setF(&p.betaEnd, c.BetaEnd)
	setS(&p.betaSchedule, c.BetaSchedule)
	p.trainedBetas = c.TrainedBetas
	setS(&p.prediction, c.PredictionType)
	setS(&p.spacing, c.TimestepSpacing)
	setI(&p.stepsOffset, c.StepsOffset)
	setB(&p.clipSample, c.ClipSample)
	setF(&p.clipRange, c.ClipSampleRange)
	setB(&p.setAlphaToOne, c.SetAlphaToOne)
	setB(&p.karras, c.UseKarrasSigmas)
	setB(&p.exponential, c.UseExponentialSigmas)
	setS(&p.interpolation, c.InterpolationType)
	setS(&p.finalSigmas, c.FinalSigmasType)
	setS(&p.timestepType, c.TimestepType)
	p.sigmaMin, p.sigmaMax = c.SigmaMin, c.SigmaMax
	setB(&p.rescaleZeroSNR, c.RescaleBetasZeroSNR)
	setI(&p.order, c.SolverOrder)
	setS(&p.algorithm, c.AlgorithmType)
	setS(&p.solverType, c.SolverType)
	setB(&p.lowerOrderFinal, c.LowerOrderFinal)
	setB(&p.eulerAtFinal, c.EulerAtFinal)
	setF(&p.lambdaMinClipped, c.LambdaMinClipped)
	setB(&p.predictX0, c.PredictX0)
	p.disableCorrector = c.DisableCorrector
	return p
}

// unsupported returns an error for options diffusers has but this port does not implement,
// for the fields a class actually reads.
func (c Config) unsupported(class string) error {
	on := func(b *bool) bool { return b != nil && *b }
	var bad []string
	usesSigmaVariants := class == classEuler || class == classHeun || class == classDPM || class == classUniPC
	if usesSigmaVariants && on(c.UseBetaSigmas) {
		bad = append(bad, "use_beta_sigmas=true")
	}
	if (class == classUniPC) && on(c.UseExponentialSigmas) {
		bad = append(bad, "use_exponential_sigmas=true")
	}
	if (class == classDDIM || class == classDPM || class == classUniPC) && on(c.Thresholding) {
		bad = append(bad, "thresholding=true")
	}
	if (class == classDPM || class == classUniPC) && (on(c.UseFlowSigmas) || on(c.UseDynamicShifting)) {
		bad = append(bad, "use_flow_sigmas/use_dynamic_shifting=true")
	}
	if class == classDPM && on(c.UseLuLambdas) {
		bad = append(bad, "use_lu_lambdas=true")
	}
	if class == classDPM && c.VarianceType != nil {
		bad = append(bad, fmt.Sprintf("variance_type=%q", *c.VarianceType))
	}
	if class == classEuler && c.InterpolationType != nil && *c.InterpolationType != "linear" {
		bad = append(bad, fmt.Sprintf("interpolation_type=%q", *c.InterpolationType))
	}
	if class == classHeun && c.BetaSchedule != nil && *c.BetaSchedule == "exp" {
		return nil
	}
	if class != classHeun && c.BetaSchedule != nil && *c.BetaSchedule == "exp" {
		bad = append(bad, `beta_schedule="exp" (HeunDiscreteScheduler only)`)
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: not supported by this port: %s", class, strings.Join(bad, ", "))
	}
	return nil
}
