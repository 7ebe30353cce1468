"""sparsebyte: inference engine for fine-grained group-sparse CNNs."""

__version__ = "0.1.0"
