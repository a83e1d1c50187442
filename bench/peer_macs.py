"""Peer for bench/cost-throughput.ts: how fast PyTorch counts a network's params and MACs the
way FLOP counters (thop, ptflops) do, with forward hooks on one batch-1 forward pass.
Prints one JSON object. Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision)."""
import json
import statistics
import sys
import time

import torch
import torchvision

torch.set_num_threads(1)


def count(model, x):
    macs = 0

    def conv_hook(module, _inputs, output):
        nonlocal macs
        per_output = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
        macs += output.numel() * per_output

    def linear_hook(module, _inputs, output):
        nonlocal macs
        macs += module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)

    handles = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    params = sum(p.numel() for p in model.parameters())
    return params, macs


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    model = torchvision.models.mobilenet_v2().eval()
    x = torch.zeros(1, 3, 224, 224)
    params, macs = count(model, x)
    rates = []
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            count(model, x)
            n += 1
        rates.append(n / (time.perf_counter() - start))
    print(json.dumps({"network": "mobilenet_v2", "params": params, "macs": macs,
                      "countsPerSecond": statistics.median(rates), "torch": torch.__version__}))


main()
