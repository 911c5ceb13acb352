package app

import (
	"context"
	"testing"
)

// TestOneSeedRange: every seed drawn anywhere (Generate's -1, a compare's
// shared seed, the window's dice button through RandomSeed) is a 32-bit
// number that `diptych generate --seed` takes back and reproduces.
func TestOneSeedRange(t *testing.T) {
	high := false
	for range 2000 {
		s := RandomSeed()
		if s < 0 || s > MaxSeed {
			t.Fatalf("seed %d outside [0, %d]", s, int64(MaxSeed))
		}
		high = high || s > 1<<31
	}
	if !high {
		t.Fatal("2000 draws never used the top bit: not 32-bit seeds")
	}
	ctx := context.Background()
	drawn, err := Generate(ctx, &fakeEngine{}, sdxlReq("dice", -1), RecordOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	seed := int64(drawn.Generations[0].Seed)
	if seed != drawn.Request.Seed || seed < 0 || seed > MaxSeed {
		t.Fatalf("recorded seed %d, request %d", seed, drawn.Request.Seed)
	}
	again, err := Generate(ctx, &fakeEngine{}, sdxlReq("dice", seed), RecordOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !samePixels(drawn.Result.Images[0], again.Result.Images[0]) {
		t.Fatal("the shown seed did not reproduce the image")
	}
	cr, err := CompareRequest{SDXL: sdxlReq("pair", -1), Janus: Request{ModelDir: "/m/janus"}}.Prepare()
	if err != nil || cr.SDXL.Seed < 0 || cr.SDXL.Seed > MaxSeed || cr.Janus.Seed != cr.SDXL.Seed {
		t.Fatalf("compare seeds %d/%d %v", cr.SDXL.Seed, cr.Janus.Seed, err)
	}
}
