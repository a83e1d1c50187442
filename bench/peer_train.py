"""Peer for bench/train-throughput.ts: PyTorch trains one of the benchmark's nets on random
images, batch 64, SGD momentum: `cifar`, the MobileNetV2-like CIFAR net of shared/notes/engine.md
(32x32x3, ReLU6), or `mnist`, the main job's default initial mnist-mbconv (28x28x1, ReLU).
Prints one JSON object. Run with Debian's /usr/bin/python3 (python3-torch), with the allocator
settings bench/train-throughput.ts gives it.  usage: peer_train.py THREADS STEPS ROUNDS [NET]"""
import json
import statistics
import sys
import time

import torch
from torch import nn

THREADS, STEPS, ROUNDS = (int(a) for a in sys.argv[1:4])
NET = sys.argv[4] if len(sys.argv) > 4 else "cifar"
torch.set_num_threads(THREADS)
torch.manual_seed(0)

# (input channels, input size, activation, blocks as (expand, in, out, kernel, stride)), as procnas
# writes them: cifar as in the notes; mnist is ['cn_k3_c16'], ['ir_k3_s2_e4_c32'], ['ir_r2_k3_s2_e4_c48'].
NETS = {
    "cifar": (3, 32, nn.ReLU6, [(3, 16, 16, 3, 1), (6, 16, 24, 3, 2), (6, 24, 24, 5, 1), (6, 24, 40, 5, 2), (6, 40, 40, 7, 1), (6, 40, 64, 3, 2)]),
    "mnist": (1, 28, nn.ReLU, [(4, 16, 32, 3, 2), (4, 32, 48, 3, 2), (4, 48, 48, 3, 1)]),
}
CHANNELS, SIZE, ACT, BLOCKS = NETS[NET]


class InvertedResidual(nn.Module):
    def __init__(self, expand, cin, cout, k, s):
        super().__init__()
        mid = cin * expand
        self.body = nn.Sequential(
            nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), ACT(),
            nn.Conv2d(mid, mid, k, s, k // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), ACT(),
            nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = s == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.residual else y


model = nn.Sequential(
    nn.Conv2d(CHANNELS, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), ACT(),
    *[InvertedResidual(*b) for b in BLOCKS],
    nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(BLOCKS[-1][2], 10)).to(memory_format=torch.channels_last)
params = sum(p.numel() for p in model.parameters())
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
loss_fn = nn.CrossEntropyLoss()
x = torch.randn(64, CHANNELS, SIZE, SIZE).to(memory_format=torch.channels_last)
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
print(json.dumps({"net": NET, "threads": THREADS, "params": params, "imagesPerSecond": statistics.median(rates), "torch": torch.__version__}))
