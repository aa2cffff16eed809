// Package chaos holds the chaos run of the reference pair (issue 15, item 9;
// `make chaos`, docs/reliability.md): 1,000 certified messages alpha ⇄ beta
// while alpha, beta, clamd and slapd are killed with SIGKILL and restarted,
// slapd is frozen with SIGSTOP for 30 s, and the providers talk through a
// fault-injecting proxy (internal/faultproxy: latency, resets, a half-open
// connection). Then every message must have exactly one accettazione, one
// busta di trasporto per recipient, one presa in carico and one avvenuta
// consegna (or, for a full mailbox, one avviso di mancata consegna), both
// registri must pass `pecspec log verify`, and no pecref may have gone over
// its memory bound. It prints its figures.
//
// The run is a test that runs only under make chaos (PECSPEC_CHAOS=1): it
// takes minutes and loads the machine, so make test skips it. It is bounded
// (every wait has a deadline), uses loopback only and stops by itself.
package chaos
