"""Infrastructure shared by the rooms above it: atomic file writes and thread settings for few cores."""
