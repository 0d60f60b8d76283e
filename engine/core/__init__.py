"""The functional core: pure steps from (state, input, now) to (state, effects)."""
