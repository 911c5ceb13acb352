package app

import (
	"crypto/rand"
	"encoding/binary"
	"image"

	"diptych/engine/imagefile"
)

// MaxSeed is the largest seed RandomSeed draws: seeds are 32-bit, as A1111
// and ComfyUI write them, so a seed shown anywhere in the app can be typed
// into `diptych generate --seed` and reproduces the image.
const MaxSeed = 1<<32 - 1

// RandomSeed picks a seed for a request that asks for one (-1). It is the one
// place seeds are drawn, for the GUI, the CLI and the engines alike.
func RandomSeed() int64 {
	var b [4]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint32(b[:]))
}

// LoadImage reads an image a person gave (an init image, a dropped file, a
// history image) with the limits of engine/imagefile, naming the file in
// every error.
func LoadImage(path string) (image.Image, error) { return imagefile.Load(path) }
