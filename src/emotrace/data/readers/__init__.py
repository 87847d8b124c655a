"""One module per dataset layout; each maps its labels into emotrace's set through `emotrace.labels`."""
