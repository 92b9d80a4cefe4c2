#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""LSTM training loop on synthetic sequences (next-token classification), one NVTX range per step.

    python3 samples/python/lstm_train.py [--steps 50] [--warmup 5] [--batch 32] [--seq 64] [--hidden 256]
    rooftime record -o run.rtdb -- python3 samples/python/lstm_train.py --steps 20

Last line: `# step_ms X`, the mean wall time of a timed step in ms. Exit 2 without torch or a CUDA device.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

PROGRAM = "lstm_train"
VOCAB = 1000


def options(parser):
    parser.add_argument("--seq", type=int, default=64, help="sequence length (default %(default)s)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden size (default %(default)s)")
    parser.add_argument("--layers", type=int, default=2, help="stacked LSTM layers (default %(default)s)")


def main():
    args = _common.parse_args(__doc__.splitlines()[0], 50, options)
    torch = _common.load_torch(PROGRAM)
    nn = torch.nn
    torch.manual_seed(args.seed)
    dev = torch.device("cuda:0")

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, args.hidden)
            self.lstm = nn.LSTM(args.hidden, args.hidden, num_layers=args.layers, batch_first=True)
            self.head = nn.Linear(args.hidden, VOCAB)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out).reshape(-1, VOCAB)

    model = Model().to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    tokens = torch.randint(0, VOCAB, (args.batch, args.seq + 1), device=dev)
    inputs, target = tokens[:, :-1].contiguous(), tokens[:, 1:].reshape(-1).contiguous()
    _common.train(torch, PROGRAM, args, model, lambda: (inputs, target), loss_fn, optimizer)


if __name__ == "__main__":
    main()
