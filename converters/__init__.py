"""ONNX / PyTorch to .sbn converter."""
