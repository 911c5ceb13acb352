// Package locale makes Fyne quiet under the C locale of servers,
// containers and CI (LANG=C.UTF-8), where it would otherwise log three lines
// of "Fyne error: Error parsing user locale C" from every run of the binary.
//
// Fyne's lang package reads the locale in its package init, so the message
// appears in every process that links Fyne, whatever command it runs: not
// calling Fyne is not enough. This package is initialised before Fyne's lang:
// Go initialises packages in import-path order among those whose imports are
// ready, "diptych/..." sorts before "fyne.io/...", and this package imports
// nothing that lang does not import too. Import it for its side effect from
// package main:
//
//	import _ "diptych/ui/locale"
//
// What it does: go-locale (Fyne's locale reader) understands the bare C and
// POSIX locales but hands "C.UTF-8" to the BCP 47 parser as the language "C",
// which fails. When the locale it would report does not parse, LANGUAGE (the
// GNU list of preferred message languages, which go-locale consults and the
// C library ignores under the C locale) is set to the entries that do parse,
// or to "en", so the window falls back to English quietly. LANG and LC_* are
// left alone, so child processes keep their character set.
package locale

import (
	"os"
	"strings"

	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"
)

func init() { Fix() }

// Fix sets LANGUAGE when the locale Fyne would read does not parse, and
// reports the value it set ("" when nothing needed fixing).
func Fix() string {
	if parses() {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(os.Getenv("LANGUAGE"), ":") {
		tag := l // ll_CC.codeset@modifier, as go-locale reads it
		if i := strings.IndexAny(tag, ".@"); i >= 0 {
			tag = tag[:i]
		}
		if tag == "" || tag == "C" || tag == "POSIX" {
			continue
		}
		if _, err := language.Parse(strings.ReplaceAll(tag, "_", "-")); err == nil {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		keep = []string{"en"}
	}
	old, had := os.LookupEnv("LANGUAGE")
	v := strings.Join(keep, ":")
	os.Setenv("LANGUAGE", v)
	if !parses() { // not a case LANGUAGE can mend (another platform): undo
		if had {
			os.Setenv("LANGUAGE", old)
		} else {
			os.Unsetenv("LANGUAGE")
		}
		return ""
	}
	return v
}

// parses reports whether every locale go-locale reports is a valid language
// tag, as Fyne needs (lang.SystemLocale and the translation matcher).
func parses() bool {
	all, err := locale.GetLocales()
	if err != nil {
		return true // Fyne falls back to English itself, with its own message
	}
	first, _ := locale.GetLocale()
	for _, l := range append(all, first) {
		if l == "" {
			continue
		}
		if _, err := language.Parse(l); err != nil {
			return false
		}
	}
	return true
}
