//go:build !race

package smime_test

const raceEnabled = false
