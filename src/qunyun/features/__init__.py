"""Features: each decides what to do about events. One package per feature, the same recipe."""
