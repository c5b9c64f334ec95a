"""Step 02: concurrency."""
