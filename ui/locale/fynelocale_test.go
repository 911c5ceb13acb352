package locale

import (
	"os"
	"testing"

	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"
)

func TestFix(t *testing.T) {
	for _, c := range []struct {
		lcAll, lang, language string
		set                   bool
		want                  string // LANGUAGE afterwards
	}{
		{lang: "C.UTF-8", set: false, want: "en"},
		{lang: "C.utf8", set: false, want: "en"},
		{lang: "POSIX.UTF-8", set: false, want: "en"},
		{lcAll: "C.UTF-8", lang: "fr_FR.UTF-8", want: "en"},
		{lang: "C.UTF-8", language: "fr:C", set: true, want: "fr"},
		{lang: "C.UTF-8", language: "C.UTF-8:pt_BR.UTF-8@x", set: true, want: "pt_BR.UTF-8@x"},
		{lang: "C.UTF-8", language: "de_DE:en_GB", set: true, want: "de_DE:en_GB"}, // already fine
		{lang: "C", want: ""},
		{lang: "en_GB.UTF-8", want: ""},
		{lang: "", want: ""},
	} {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		if !c.set {
			os.Unsetenv("LANGUAGE")
		}
		Fix()
		if got := os.Getenv("LANGUAGE"); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE is now %q, want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
		all, _ := locale.GetLocales()
		for _, l := range all {
			if _, err := language.Parse(l); err != nil {
				t.Errorf("LANG=%q: go-locale still reports %q: %v", c.lang, l, err)
			}
		}
	}
}
