"""Data-parallel training under torchrun: DDP with NCCL on GPUs and gloo on CPUs.

Train options with `nproc_per_node` N > 1 (or several nodes) make the family's train function
re-launch `python -m training train FAMILY` with the same options under
`python -m torch.distributed.run`; each rank then calls `init_distributed`. Only rank 0 logs and
saves, and its record comes back to the caller.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from training.options import TrainOptions, to_argv


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def under_torchrun() -> bool:
    """True inside a process started by torchrun."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def record_path(checkpoint: Path) -> Path:
    """Where rank 0 writes a training run's record: beside the checkpoint, `model.train.json`."""
    return Path(checkpoint).with_suffix(".train.json")


def write_record(record: dict, checkpoint: Path) -> None:
    """The run's record (loss curve included) beside the checkpoint."""
    record_path(checkpoint).write_text(json.dumps(record, indent=1))


def relaunch_under_torchrun(family: str, options: TrainOptions) -> dict | None:
    """If several processes were asked for and this is not one of them, train under torchrun and
    return rank 0's record; otherwise None (the caller trains in this process)."""
    if under_torchrun() or (options.nproc_per_node <= 1 and options.nnodes <= 1):
        return None
    command = [sys.executable, "-m", "torch.distributed.run",
               f"--nproc-per-node={options.nproc_per_node}", f"--nnodes={options.nnodes}",
               f"--node-rank={options.node_rank}", f"--master-addr={options.master_addr}",
               f"--master-port={options.master_port}", "-m", "training", "train", family, *to_argv(options)]
    status = subprocess.call(command)
    if status != 0:
        raise RuntimeError(f"torchrun exited with status {status}")
    return json.loads(record_path(options.out).read_text())


def init_distributed(device: torch.device) -> DistInfo:
    """Join the process group when under torchrun (NCCL on CUDA, gloo on CPU)."""
    if not under_torchrun():
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]),
                    int(os.environ["LOCAL_RANK"]))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend=backend)
    return info


def wrap_model(model: torch.nn.Module, info: DistInfo, device: torch.device,
               find_unused_parameters: bool = False) -> torch.nn.Module:
    """DDP (with synchronised batch norm on CUDA) when distributed; the model itself otherwise."""
    if not info.enabled:
        return model
    if device.type == "cuda":  # SyncBatchNorm runs on GPUs only; CPU ranks keep their own statistics
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ids = [device.index or 0] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids, find_unused_parameters=find_unused_parameters)


def rank_slice(batch_size: int, info: DistInfo) -> slice:
    """This rank's share of a global batch (the global batch and its order stay the same)."""
    if batch_size % info.world_size:
        raise ValueError(f"batch size {batch_size} does not split over {info.world_size} processes")
    share = batch_size // info.world_size
    return slice(info.rank * share, (info.rank + 1) * share)


def gathered_rows(tensor: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Every rank's rows in rank order, this rank's own rows keeping their gradient.

    No collective runs in the backward pass (gloo's all-to-all there, beside DDP's own gradient
    all-reduce, corrupted memory on CPU). Every rank computes the same global loss; the gradient
    reaching its own rows is that loss's gradient through them, so scaling the loss by the world
    size before DDP averages the ranks' gradients gives the one-process gradient.
    """
    if not info.enabled:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(info.world_size)]
    dist.all_gather(parts, tensor.detach().contiguous())
    parts[info.rank] = tensor
    return torch.cat(parts)


def mean_over_ranks(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """The mean of a scalar over all ranks (for logging the global loss)."""
    if not info.enabled:
        return value.detach()
    total = value.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return total / info.world_size


def past_deadline(elapsed_s: float, minutes: float | None, info: DistInfo, device: torch.device) -> bool:
    """True once any rank has trained `minutes` (None: never); every rank answers the same at each step."""
    if minutes is None:
        return False
    late = torch.tensor(float(elapsed_s >= 60 * minutes), device=device)
    return bool(mean_over_ranks(late, info) > 0)


def shutdown(info: DistInfo) -> None:
    """Leave the process group, all ranks together."""
    if info.enabled and dist.is_initialized():
        dist.barrier()  # a rank tearing gloo down while another still saves aborts the job
        dist.destroy_process_group()
