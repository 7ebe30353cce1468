"""Training side: prune a dense PyTorch model into the engine's group-sparse pattern.

Masks (`masks`), per-layer sparsity allocation (`allocate`), whole-network channel rearrangement (`rearrange`),
masked training with one-shot / gradual / SR-STE schedules (`masked`, `schedule`, `train`), export for
`sparsebyte convert` (`export`), and the `sparsebyte sparsify` command (`cli`). torch is imported by the submodules.
"""
