"""One training loop for one process or many: ``torchrun`` sets the environment, the loop does the rest.

Under ``torchrun`` (``WORLD_SIZE > 1`` in the environment) :func:`context` starts the process
group (gloo on CPU, NCCL when CUDA is available), and a training loop then

- wraps its network in :class:`~torch.nn.parallel.DistributedDataParallel` (:meth:`Context.wrap`),
  which starts every rank from rank 0's weights and averages the gradients of each step;
- draws each epoch's global batches from one generator seeded alike on every rank, so all ranks
  agree on them, and trains on its own disjoint share of each (:meth:`Context.share`);
- validates on rank 0 only and broadcasts the score (:meth:`Context.broadcast`), so every rank
  takes the same early-stopping decision and keeps the same best weights;
- prints, shows progress and writes files on rank 0 only (:attr:`Context.is_main`).

Started as a plain process, the same code runs with ``world_size == 1``: the wrapper and the
collectives do nothing.

Example:
    >>> ctx = context()
    >>> ctx.world_size, ctx.rank, ctx.is_main
    (1, 0, True)
    >>> ctx.share(torch.arange(5)).tolist()
    [0, 1, 2, 3, 4]
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn


@dataclass(frozen=True)
class Context:
    """Where this process stands among the training processes.

    Attributes:
        rank: this process's index, ``0 <= rank < world_size``.
        world_size: the number of processes (1 without ``torchrun``).
        device: the device this rank trains on (``cuda:<local rank>`` with NCCL, else CPU).
    """

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Whether this rank prints and writes files (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def wrap(self, module: nn.Module, *, find_unused_parameters: bool = False) -> nn.Module:
        """``module`` in DistributedDataParallel when there are several ranks, else itself.

        ``find_unused_parameters``: set it when a step may leave a part of ``module`` unused (a node
        type's tower in a step without its labels), so that DDP still agrees on every gradient.
        """
        if not self.distributed:
            return module
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(
            module, device_ids=device_ids, find_unused_parameters=find_unused_parameters
        )

    def share(self, batch: Tensor) -> Tensor:
        """This rank's disjoint part of a global batch (contiguous, sizes differing by at most one).

        Shapes:
            batch: ``(n, ...)``; return: ``(about n / world_size, ...)``.
        """
        if not self.distributed:
            return batch
        return torch.tensor_split(batch, self.world_size)[self.rank]

    def broadcast(self, value: float) -> float:
        """Rank 0's ``value`` on every rank (other ranks pass anything)."""
        if not self.distributed:
            return value
        tensor = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.broadcast(tensor, src=0)
        return float(tensor.item())

    def barrier(self) -> None:
        """Waits for every rank (nothing with one process)."""
        if self.distributed:
            dist.barrier()


def context() -> Context:
    """The current process's :class:`Context`; starts the process group under ``torchrun`` once.

    ``torchrun`` sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``;
    without them (or with ``WORLD_SIZE=1``) this is a single process and nothing is started.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Context()
    cuda = torch.cuda.is_available()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if not dist.is_initialized():
        if cuda:
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size(), device=device)


def is_main_process() -> bool:
    """Whether this process should print and write files: rank 0, or the only process."""
    return int(os.environ.get("RANK", "0")) == 0


def shutdown() -> None:
    """Ends the process group if one was started (call once at the end of a ``torchrun`` script)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
