"""PyTorch definitions of the bundled models; `registry.build(name)` builds one by name."""
