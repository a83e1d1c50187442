"""Peer for bench/train-throughput.ts: PyTorch trains the MobileNetV2-like CIFAR net of
shared/notes/engine.md on random 32x32x3 images, batch 64, SGD momentum. Prints one JSON object.
Run with Debian's /usr/bin/python3 (python3-torch).  usage: peer_train.py THREADS STEPS ROUNDS"""
import json
import statistics
import sys
import time

import torch
from torch import nn

THREADS, STEPS, ROUNDS = (int(a) for a in sys.argv[1:4])
torch.set_num_threads(THREADS)
torch.manual_seed(0)

# (expand, in, out, kernel, stride), as in the notes.
BLOCKS = [(3, 16, 16, 3, 1), (6, 16, 24, 3, 2), (6, 24, 24, 5, 1), (6, 24, 40, 5, 2), (6, 40, 40, 7, 1), (6, 40, 64, 3, 2)]


class InvertedResidual(nn.Module):
    def __init__(self, expand, cin, cout, k, s):
        super().__init__()
        mid = cin * expand
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, mid, k, s, k // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


model = nn.Sequential(
    nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
    *[InvertedResidual(*b) for b in BLOCKS],
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)).to(memory_format=torch.channels_last)
params = sum(p.numel() for p in model.parameters())
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(64, 3, 32, 32).to(memory_format=torch.channels_last)
y = torch.randint(0, 10, (64,))
model.train()


def step():
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()


for _ in range(3):
    step()
rates = []
for _ in range(ROUNDS):
    start = time.perf_counter()
    for _ in range(STEPS):
        step()
    rates.append(STEPS * 64 / (time.perf_counter() - start))
print(json.dumps({"threads": THREADS, "params": params, "imagesPerSecond": statistics.median(rates), "torch": torch.__version__}))
