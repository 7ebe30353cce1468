"""The demo's recovered group-sparse MobileNetV2 (30% G=4) as a delta from the dense ImageNet weights (delta.py).

Input: the export of a recovery_bench.py run (--save DIR: state_dict.pt, masks.pt). If its masks are the one-shot
masks that `sparsebyte.prune.prune_groups` recomputes from the dense weights, the delta holds the weight changes only;
otherwise (layer-wise reconstruction, error allocation) it also stores the masks, bit-packed (about 0.1 MB). Writes
the delta to python/sparsebyte/data/, rebuilds the model from it and reports the largest logit difference of the
rebuilt model from the run's model, both models' top-3 on the demo photo and the .sbn sizes (dense, sparse).

    nice -n 19 python benchmarks/sparsify/recovery_bench.py --sparsity 0.3 --group 4 --keep-last-dense \
        --allocation error --damp 0.1 --reconstruct obs --method distill --calib-images 512 --steps 150 \
        --eval-every 50 --lr 2e-5 --save out/r30kd
    python benchmarks/sparsify/make_demo_delta.py out/r30kd 0.3 4   # SPARSITY (default 0.5), BITS (default 8)
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch

from sparsebyte.images import preprocess, sample_photo, top_k
from sparsebyte.models.mobilenet_v2 import mobilenet_v2
from sparsebyte.prune import prune_groups
from sparsebyte.sparsify.delta import apply_delta, save_delta
from sparsebyte.sparsify.export import load_masks

DATA = Path(__file__).resolve().parents[2] / "python" / "sparsebyte" / "data"


def main(run_dir: str, sparsity: float = 0.5, group: int = 4, bits: int = 8) -> None:
    torch.set_num_threads(1)
    dense = mobilenet_v2(pretrained=True).eval()
    recovered = mobilenet_v2(pretrained=False)
    recovered.load_state_dict(torch.load(Path(run_dir) / "state_dict.pt", map_location="cpu"))
    recovered.eval()
    run_masks, _ = load_masks(Path(run_dir) / "masks.pt")
    rebuilt = copy.deepcopy(dense)
    oneshot = prune_groups(copy.deepcopy(dense), sparsity, group=group)
    store = set(run_masks) != set(oneshot) or any(not torch.equal(m.float(), oneshot[n].float())
                                                  for n, m in run_masks.items())
    masks = run_masks if store else oneshot
    with torch.no_grad():
        modules = dict(rebuilt.named_modules())
        for name, mask in masks.items():
            modules[name].weight.mul_(mask)
    path = DATA / f"mobilenet_v2_g{group}_{round(sparsity * 100)}.npz"  # then list it in demo.DELTAS
    size = save_delta(dense, recovered, masks, path, store_masks=store, bits=bits)
    apply_delta(rebuilt, masks, path)
    print(f"masks: {'stored in the delta' if store else 'the one-shot masks (recomputed)'}")
    x = torch.from_numpy(preprocess(sample_photo("chelsea")))
    with torch.no_grad():
        err = float((rebuilt(x) - recovered(x)).abs().max())
        print(f"{path}: {size / 1e6:.2f} MB; rebuilt vs run logits max abs diff {err:.2e}")
        print("dense:", top_k(dense(x)[0].numpy(), 3))
        print("recovered (rebuilt):", top_k(rebuilt(x)[0].numpy(), 3))
    import tempfile

    from sparsebyte.converters import convert

    with tempfile.TemporaryDirectory() as tmp:
        example = torch.zeros(1, 3, 224, 224)
        convert(dense, Path(tmp) / "d.sbn", example_input=example, force_dense=True)
        convert(rebuilt, Path(tmp) / "s.sbn", example_input=example, group=group)
        d, s = ((Path(tmp) / n).stat().st_size for n in ("d.sbn", "s.sbn"))
        print(f".sbn: dense {d / 1e6:.2f} MB, sparse {s / 1e6:.2f} MB ({s / d:.3f}x)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], float(args[1]) if len(args) > 1 else 0.5, bits=int(args[2]) if len(args) > 2 else 8)
