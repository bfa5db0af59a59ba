"""A torchrun rank that reports what its SLURM job gave it (the toy's 'train').

Every rank joins a gloo process group and sums its rank; rank 0 writes the world
size, the sum and the GPU ids SLURM exported (CUDA_VISIBLE_DEVICES) as JSON.
"""

import json
import os
import sys

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
total = torch.tensor([dist.get_rank()])
dist.all_reduce(total)
if dist.get_rank() == 0:
    facts = {
        "world_size": dist.get_world_size(),
        "rank_sum": int(total.item()),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
    }
    with open(sys.argv[1], "w") as fh:
        json.dump(facts, fh)
dist.destroy_process_group()
