//go:build !pecspecfault

package compose

// omitsRiferimento is always false in a normal build: the fault switch
// exists only in a pecref built with the pecspecfault tag (fault.go).
func omitsRiferimento(string) bool { return false }
