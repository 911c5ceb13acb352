package dl

// Probe reports whether name can be opened, with the system's reason if not.
func Probe(name string) error {
	l, err := Open(name)
	if err != nil {
		return err
	}
	l.Close()
	return nil
}
