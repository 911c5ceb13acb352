// Package assets holds the files bundled into the Diptych binary: the app
// icon (rendered from icon.svg by tools/build_icons.sh).
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icons/icon-256.png
var iconPNG []byte

// Icon is the 256×256 app icon, for fyne.App.SetIcon and window icons.
var Icon fyne.Resource = fyne.NewStaticResource("io.github.diptych.png", iconPNG)
