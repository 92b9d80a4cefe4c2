# SPDX-License-Identifier: MIT
"""Shared by the PyTorch samples: lazy torch import, options, the NVTX-marked training loop and its summary line.

torch is imported only inside load_torch(), so `python3 -m py_compile` and `--help` work on machines without it;
without torch or without a CUDA device the samples print one line on stderr and exit 2.
"""
import argparse
import sys
import time

EXIT_MISSING = 2


def parse_args(description, default_steps, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=default_steps, help="timed training steps (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps before them (default %(default)s)")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of data and weights (default %(default)s)")
    parser.add_argument("--torch-profiler", action="store_true",
                        help="run the loop under torch.profiler with CUDA activities only (Kineto's CUPTI kernel "
                             "tracing): the reference for rooftime's time-mode overhead")
    if extra:
        extra(parser)
    args = parser.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 1:
        parser.error("--steps and --batch must be at least 1, --warmup at least 0")
    return args


def load_torch(program):
    """Returns the torch module with a usable CUDA device, or exits 2 with a message saying what is missing."""
    try:
        import torch  # noqa: PLC0415 (lazy on purpose)
    except ImportError as e:
        print(f"{program}: PyTorch is not installed ({e}); install torch with CUDA support", file=sys.stderr)
        sys.exit(EXIT_MISSING)
    if not torch.cuda.is_available():
        print(f"{program}: no CUDA device available to PyTorch (torch {torch.__version__}, "
              f"built for CUDA {torch.version.cuda})", file=sys.stderr)
        sys.exit(EXIT_MISSING)
    return torch


def train(torch, program, args, model, make_batch, loss_fn, optimizer):
    """Runs warmup + steps training steps; each step is an NVTX range "step" with sub-ranges "forward", "backward"
    and "optimizer" (nested, so `rooftime report --window-range step` gives one row per step). Prints the mean
    time of the timed steps as the machine-readable last line `# step_ms X`, after `# step_ms_median X` (single
    steps of a launch-bound loop scatter widely: the median resists the slow outliers)."""
    nvtx = torch.cuda.nvtx
    times = []
    profiler = None
    if args.torch_profiler:
        profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA])
        profiler.__enter__()
    for i in range(args.warmup + args.steps):
        inputs, target = make_batch()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        nvtx.range_push("step")
        nvtx.range_push("forward")
        loss = loss_fn(model(inputs), target)
        nvtx.range_pop()
        nvtx.range_push("backward")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nvtx.range_pop()
        nvtx.range_push("optimizer")
        optimizer.step()
        nvtx.range_pop()
        torch.cuda.synchronize()
        nvtx.range_pop()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    if profiler is not None:
        profiler.__exit__(None, None, None)
        events = profiler.events()
        print(f"{program}: torch.profiler recorded {len(events)} events")
    mean_ms = 1e3 * sum(times) / len(times)
    print(f"{program}: {args.steps} steps after {args.warmup} warmup, loss {loss.item():.4f}, "
          f"device {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    ordered = sorted(times)
    median_ms = 1e3 * (ordered[len(ordered) // 2] + ordered[(len(ordered) - 1) // 2]) / 2
    print(f"# step_ms_median {median_ms:.4f}")
    print(f"# step_ms {mean_ms:.4f}")
