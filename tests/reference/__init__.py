"""Independent float64 reference for the loss service's tests (imports nothing from `service`)."""
