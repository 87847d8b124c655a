"""Dataset readers and the transforms that turn them into training samples."""
