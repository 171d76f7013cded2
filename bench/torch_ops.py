#!/usr/bin/python3
"""torch_ops.py - the PyTorch half of `make bench-ops`: forward + backward
time of the same ops as build/bench/bench-ops (same names, batch 64, TF SAME
padding via the ops' own symmetric padding or F.pad), median of 5 runs after
one warm-up. Prints `op <name> <ms>`.

    /usr/bin/python3 bench/torch_ops.py [--threads T]
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

OPS = [
    ('conv1x1-16-28', 'conv', 16, 28, 16, 1, 1), ('conv1x1-32-14', 'conv', 32, 14, 32, 1, 1),
    ('conv3x3-8-28', 'conv', 8, 28, 8, 3, 1), ('conv3x3-32-14', 'conv', 32, 14, 32, 3, 1),
    ('dw3x3-16-28', 'dw', 16, 28, 0, 3, 1), ('dw5x5-16-28', 'dw', 16, 28, 0, 5, 1),
    ('dw7x7-16-28', 'dw', 16, 28, 0, 7, 1), ('dw5x5s2-16-28', 'dw', 16, 28, 0, 5, 2),
    ('dw3x3-32-14', 'dw', 32, 14, 0, 3, 1), ('dw7x7s2-32-14', 'dw', 32, 14, 0, 7, 2),
    ('bn-16-28', 'bn', 16, 28, 0, 1, 1), ('bn-32-14', 'bn', 32, 14, 0, 1, 1),
    ('relu-16-28', 'relu', 16, 28, 0, 1, 1), ('avgpool3x3-16-28', 'avg', 16, 28, 0, 3, 1),
    ('maxpool3x3s2-16-28', 'max', 16, 28, 0, 3, 2), ('avgpool3x3-32-14', 'avg', 32, 14, 0, 3, 1),
]


def same(x, k, s):
    """x padded TF SAME for a k x k window of stride s."""
    H = x.shape[2]
    out = (H + s - 1) // s
    t = max((out - 1) * s + k - H, 0)
    return F.pad(x, (t // 2, t - t // 2, t // 2, t - t // 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    for name, kind, C, H, K, k, s in OPS:
        x = torch.randn(64, C, H, H, requires_grad=True)
        if kind == 'conv':
            w = torch.randn(K, C, k, k, requires_grad=True)
            f = lambda: F.conv2d(same(x, k, s), w, stride=s)
        elif kind == 'dw':
            w = torch.randn(C, 1, k, k, requires_grad=True)
            f = lambda: F.conv2d(x, w, stride=s, padding=k // 2, groups=C) if s == 1 else \
                F.conv2d(same(x, k, s), w, stride=s, groups=C)
        elif kind == 'bn':
            g = torch.ones(C, requires_grad=True)
            b = torch.zeros(C, requires_grad=True)
            f = lambda: F.batch_norm(x, None, None, g, b, True, 0.1, 1e-3)
        elif kind == 'relu':
            f = lambda: F.relu(x)
        elif kind == 'avg':
            f = lambda: F.avg_pool2d(x, k, s, padding=k // 2, count_include_pad=False)
        else:
            f = lambda: F.max_pool2d(same(x, k, s), k, s)
        times = []
        for i in range(6):
            t0 = time.perf_counter()
            y = f()
            y.backward(torch.ones_like(y))
            times.append(time.perf_counter() - t0)
        print('op %s %.3f' % (name, statistics.median(times[1:]) * 1e3))


if __name__ == '__main__':
    main()
