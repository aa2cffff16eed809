//go:build race

package smime_test

// raceEnabled: the race detector's instrumented runtime allocates more, so
// allocation bounds do not hold under it.
const raceEnabled = true
