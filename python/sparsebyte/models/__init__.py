"""Model definitions (PyTorch) for the bundled models."""
