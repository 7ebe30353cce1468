"""Training side: prune a dense PyTorch model into the engine's group-sparse pattern.

Masks (`masks`), per-layer sparsity allocation (`allocate`), whole-network channel rearrangement (`rearrange`),
masked training with one-shot / gradual / SR-STE schedules (`masked`, `schedule`, `train`), recovery without the
training set (`bn`: BatchNorm re-estimation, `distill`: distillation from the dense teacher, `data`: image folders,
augmentations and data-free synthesis, `delta`: a recovered model as a small delta), export for
`sparsebyte convert` (`export`), and the `sparsebyte sparsify` command (`cli`). torch is imported by the submodules.
"""
