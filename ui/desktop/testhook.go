//go:build cgo

package desktop

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"diptych/app"
	"diptych/ui"
)

// TestHookEnv names a file: when set, the window installs the demo models,
// runs one small generation through the Studio exactly as a user would
// (picker, prompt, sliders, Generate) and writes a HookStatus there. The
// real-window test uses it to drive the app under Xvfb.
const TestHookEnv = "DIPTYCH_GUI_TEST_HOOK"

// HookStatus is what the test hook reports.
type HookStatus struct {
	State        string `json:"state"` // "done" or "failed"
	Error        string `json:"error,omitempty"`
	GenerationID int64  `json:"generation_id,omitempty"`
	Image        string `json:"image,omitempty"`
	Model        string `json:"model,omitempty"`
}

func runTestHook(path string, u *ui.UI, b *Backend, w fyne.Window) {
	write := func(s HookStatus) {
		data, _ := json.Marshal(s)
		tmp := path + ".tmp"
		if os.WriteFile(tmp, data, 0o644) == nil {
			os.Rename(tmp, path)
		}
	}
	fail := func(msg string) { write(HookStatus{State: "failed", Error: msg}) }
	ctx := context.Background()
	if _, err := b.InstallDemoModels(ctx); err != nil {
		fail(err.Error())
		return
	}
	fyne.Do(u.LoadModels)
	var model string
	for deadline := time.Now().Add(time.Minute); model == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		fyne.DoAndWait(func() {
			for _, o := range u.Studio.Model.Options {
				if strings.HasPrefix(o, "demo-sdxl-tiny") {
					u.Studio.Model.SetSelected(o)
					model = o
				}
			}
		})
	}
	if model == "" {
		fail("the demo SDXL model did not appear in the model picker")
		return
	}
	final := make(chan ui.Event, 1)
	unsub := b.Subscribe(func(e ui.Event) {
		if e.Kind == app.EventDone || e.Kind == app.EventFailed || e.Kind == app.EventCancelled {
			select {
			case final <- e:
			default:
			}
		}
	})
	defer unsub()
	fyne.DoAndWait(func() {
		s := u.Studio
		s.Prompt.SetText("a lighthouse on a cliff at dusk (demo model: noise)")
		s.Negative.SetText("blurry")
		s.Width.SetValue(256)
		s.Height.SetValue(256)
		s.Steps.SetValue(4)
		s.Seed.SetText("42")
		s.SeedLock.SetChecked(true)
		s.Device.SetSelected("CPU")
		s.Generate.OnTapped()
	})
	select {
	case e := <-final:
		st := HookStatus{State: string(e.Job.State), Error: e.Err, Model: model}
		if len(e.Generations) > 0 && e.Generations[0].Image != nil {
			st.GenerationID = e.Generations[0].ID
			st.Image = b.Path(e.Generations[0].Image.Path)
		}
		time.Sleep(1500 * time.Millisecond) // let the result render
		write(st)
	case <-time.After(5 * time.Minute):
		fail("the generation did not finish within 5 minutes")
	}
}
