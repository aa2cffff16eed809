package hsm

// CloseAllSessions closes every session of the token's slot behind the
// Token's back (C_CloseAllSessions), as another party of the process or a
// token reset would.
func CloseAllSessions(t *Token) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.ctx.CloseAllSessions(t.slot)
}
