"""Peer for bench/cost-throughput.ts: how fast PyTorch works out a network's shapes and MACs
without computing it, on the meta device (tensors with shapes and no data), as FLOP counters can.

Two figures, medians over rounds, one thread:
- propagate: a MobileNetV2 already built on the meta device, one forward pass with hooks that
  count conv and linear MACs (only shapes flow);
- build+propagate: the same, the model built each time (procnas's figure includes lowering).

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
        macs += output.numel() * (per_output + (1 if module.bias is not None else 0))

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
        out = model(x)
    for handle in handles:
        handle.remove()
    assert out.device.type == "meta"
    return sum(p.numel() for p in model.parameters()), macs


def build():
    return torchvision.models.mobilenet_v2().to("meta").eval()


def rate(body, seconds, rounds):
    body()
    rates = []
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            body()
            n += 1
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    x = torch.empty(1, 3, 224, 224, device="meta")
    model = build()
    params, macs = count(model, x)
    propagate = rate(lambda: count(model, x), seconds, rounds)
    build_propagate = rate(lambda: count(build(), x), seconds, rounds)
    print(json.dumps({"network": "mobilenet_v2", "params": params, "macs": macs, "propagatePerSecond": propagate,
                      "buildPropagatePerSecond": build_propagate, "torch": torch.__version__}))


main()
