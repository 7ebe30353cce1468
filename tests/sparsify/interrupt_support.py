"""An interrupted training run for the resume tests: batches that stop partway through one epoch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


class Interrupted(Exception):
    pass


def failing_batches(data: list[Any], epoch: int = 1, after: int = 4) -> Callable[[int], Any]:
    """batches(epoch) for sparsify: `data` every epoch, except that `epoch` raises Interrupted after `after` batches."""

    def batches(e: int) -> Any:
        if e != epoch:
            return data

        def gen() -> Iterator[Any]:
            yield from data[:after]
            raise Interrupted

        return gen()

    return batches
