#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Small CNN training loop on synthetic data (CIFAR-sized images, 10 classes), one NVTX range per step.

    python3 samples/python/cnn_train.py [--steps 50] [--warmup 5] [--batch 32] [--width 64]
    rooftime record -o run.rtdb -- python3 samples/python/cnn_train.py --steps 20

Last line: `# step_ms X`, the mean wall time of a timed step in ms. Exit 2 without torch or a CUDA device.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

PROGRAM = "cnn_train"


def main():
    args = _common.parse_args(
        __doc__.splitlines()[0], 50,
        lambda p: p.add_argument("--width", type=int, default=64, help="channels of the first layer (default %(default)s)"))
    torch = _common.load_torch(PROGRAM)
    nn = torch.nn
    torch.manual_seed(args.seed)
    dev = torch.device("cuda:0")
    w = args.width
    model = nn.Sequential(
        nn.Conv2d(3, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(4 * w, 10)).to(dev)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    # One fixed synthetic batch: the loop measures the GPU work, not data loading.
    images = torch.randn(args.batch, 3, 32, 32, device=dev)
    labels = torch.randint(0, 10, (args.batch,), device=dev)
    _common.train(torch, PROGRAM, args, model, lambda: (images, labels), loss_fn, optimizer)


if __name__ == "__main__":
    main()
