"""Properties over every route or entry point: fuzzing, differencing, storage anonymity."""
