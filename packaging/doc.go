// Package packaging holds no code: its folder keeps the Linux desktop
// integration files (linux/: the .desktop entry and the AppStream metainfo)
// that tools/build_deb.sh and `fyne package` ship. Its tests check that they
// validate and agree with FyneApp.toml, the CHANGELOG and the app ID, and,
// with DIPTYCH_TEST_DEB=1, build the .deb and install it into a clean Debian
// root (tools/test_deb.sh; needs root, debootstrap and the Debian mirror).
package packaging
