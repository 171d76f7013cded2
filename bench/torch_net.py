#!/usr/bin/python3
"""torch_net.py - the PyTorch half of `make bench`: the same network as a
nasnet-c network file, with the same weights, timed in PyTorch.

    /usr/bin/python3 bench/torch_net.py NET.h5 PREFIX --mode train|eval
        [--threads T] [--format nchw|cl] [--warmup W] [--repeat R]

NET.h5 is nasnet-c's network file (bin/build-net -o; schemas/network.md),
read with h5py: /params/<name> and /buffers/<name> give every weight and BN
running statistic. PREFIX.tape, PREFIX.x and PREFIX.y come from
`build/bench/bench-net --export PREFIX NET.h5`: the graph as nasnet-c built it
from the genotype (one line per tensor and per step, with the parameter
names and the TF SAME geometry of every window), and the batch of images and
labels. The graph is rebuilt here from PyTorch ops, one per step:

  conv/dwconv   F.conv2d (groups=C for depthwise), TF SAME padding: the
                conv's own padding when symmetric, else an explicit F.pad
  bn            F.batch_norm (batch statistics in train mode, running in eval)
  avgpool       F.avg_pool2d, padding not counted (count_include_pad=False)
  maxpool       F.max_pool2d (-inf padding)
  factred       two strided 1x1 paths, the second shifted by one pixel
  gap, linear   mean over H, W; F.linear
  droppath/dropout  identity (the bench runs without them, as bench-net)

A training step is forward + cross-entropy + backward + SGD (momentum 0.9,
lr 0.01), as bench-net. Prints one line:

  torch-net: train threads 1 batch 64 format nchw img/s 131.0 ms 488.5 loss0 2.302585 rss-kb 700000
loss0 is the first training forward's loss: it must equal bench-net's.
"""
import argparse
import os
import resource
import shutil
import statistics
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F


def read_tape(path):
    head, tensors, steps = None, {}, []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w[0] == 'net':
                head = {w[i]: w[i + 1] for i in range(1, len(w), 2)}
            elif w[0] == 'tensor':
                tensors[int(w[1])] = tuple(int(v) for v in w[2:5])
            elif w[0] == 'step':
                i_in = w.index('in')
                steps.append({
                    'kind': w[1], 'out': int(w[3]), 'p': [v for v in w[5:7] if v != '-'],
                    'b': [v for v in w[8:10] if v != '-'],
                    'cs': [int(v) for v in w[11:20]], 'in': [int(v) for v in w[i_in + 1:]],
                })
    return head, tensors, steps


def pads(cs, H, W):
    """(left, right, top, bottom) of TF SAME (or VALID: zeros) for one window."""
    kh, kw, sh, sw, dil, pt, pl, OH, OW = cs
    tb = max((OH - 1) * sh + (kh - 1) * dil + 1 - H, 0)
    lr = max((OW - 1) * sw + (kw - 1) * dil + 1 - W, 0)
    return (pl, lr - pl, pt, tb - pt)


class Net:
    def __init__(self, netfile, tape, fmt):
        self.head, self.tensors, self.steps = read_tape(tape)
        self.eps = float(self.head['eps'])
        self.momentum = float(self.head['momentum'])
        self.fmt = fmt
        self.params, self.buffers = {}, {}
        with h5py.File(netfile, 'r') as f:
            for st in self.steps:
                for name in st['p']:
                    if name not in self.params:
                        t = torch.from_numpy(np.array(f['params/' + name], dtype=np.float32))
                        if t.dim() == 4 and fmt == 'cl':
                            t = t.contiguous(memory_format=torch.channels_last)
                        self.params[name] = t.requires_grad_(True)
                for name in st['b']:
                    if name not in self.buffers:
                        self.buffers[name] = torch.from_numpy(
                            np.array(f['buffers/' + name], dtype=np.float32))
        self.order = list(self.params.values())

    def window(self, x, st, value=0.0):
        """x padded for the step's window, and the padding left for the op (symmetric case)."""
        H, W = x.shape[2], x.shape[3]
        l, r, t, b = pads(st['cs'], H, W)
        if l == r and t == b:
            return x, (t, l)
        return F.pad(x, (l, r, t, b), value=value), (0, 0)

    def forward(self, x, train):
        v = {int(self.head['input']): x}
        for st in self.steps:
            k, ins = st['kind'], [v[i] for i in st['in']]
            kh, kw, sh, sw, dil = st['cs'][:5]
            a = ins[0]
            if k in ('conv', 'dwconv'):
                w = self.params[st['p'][0]]
                a, pad = self.window(a, st)
                y = F.conv2d(a, w, stride=(sh, sw), padding=pad, dilation=dil,
                             groups=a.shape[1] if k == 'dwconv' else 1)
            elif k == 'bn':
                y = F.batch_norm(a, self.buffers[st['b'][0]], self.buffers[st['b'][1]],
                                 self.params[st['p'][0]], self.params[st['p'][1]], train,
                                 self.momentum, self.eps)
            elif k == 'relu':
                y = F.relu(a)
            elif k == 'add':
                y = a + ins[1]
            elif k == 'concat':
                y = torch.cat(ins, 1)
            elif k == 'avgpool':
                H, W = a.shape[2], a.shape[3]
                l, r, t, b = pads(st['cs'], H, W)
                if l == r and t == b:
                    y = F.avg_pool2d(a, (kh, kw), (sh, sw), padding=(t, l),
                                     count_include_pad=False)
                else:
                    ones = torch.ones((1, 1, H, W), dtype=a.dtype)
                    s = F.avg_pool2d(F.pad(a, (l, r, t, b)), (kh, kw), (sh, sw),
                                     divisor_override=1)
                    c = F.avg_pool2d(F.pad(ones, (l, r, t, b)), (kh, kw), (sh, sw),
                                     divisor_override=1)
                    y = s / c
            elif k == 'maxpool':
                a, pad = self.window(a, st, float('-inf'))
                y = F.max_pool2d(a, (kh, kw), (sh, sw), padding=pad)
            elif k == 'factred':
                w1, w2 = self.params[st['p'][0]], self.params[st['p'][1]]
                p1 = F.conv2d(a[:, :, 0::2, 0::2], w1[:, :, None, None])
                sh_ = F.pad(a[:, :, 1:, 1:], (0, 1, 0, 1))[:, :, 0::2, 0::2]
                p2 = F.conv2d(sh_, w2[:, :, None, None])
                y = torch.cat([p1, p2], 1)
            elif k == 'gap':
                y = a.mean((2, 3), keepdim=True)
            elif k == 'linear':
                y = F.linear(a.flatten(1), self.params[st['p'][0]], self.params[st['p'][1]])
                y = y[:, :, None, None]
            elif k in ('droppath', 'dropout'):
                y = a
            else:
                raise ValueError('unknown step ' + k)
            v[st['out']] = y
        return v[int(self.head['logits'])].flatten(1)


def calibrate(net, x, netfile, out):
    """Eval benchmarks need the running statistics of a trained network: with the
    defaults (mean 0, var 1) activations grow cell after cell (logits in the
    thousands), an unrepresentative workload. One train-mode forward with
    momentum 1 makes them the batch statistics (unbiased variance), the same
    update rule as nasnet-c's."""
    net.momentum = 1.0
    with torch.no_grad():
        net.forward(x, True)
    tmp = out + '.tmp'
    shutil.copyfile(netfile, tmp)
    with h5py.File(tmp, 'r+') as f:
        for name, t in net.buffers.items():
            f['buffers/' + name][...] = t.numpy()
        # edited outside nasnet-c, the copy no longer matches its checksums
        # (schemas/integrity.md): without the root one it is read unverified
        if 'checksum' in f.attrs:
            del f.attrs['checksum']
    os.replace(tmp, out)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('netfile')
    ap.add_argument('prefix')
    ap.add_argument('--mode', default='train', choices=['train', 'eval'])
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--format', default='nchw', choices=['nchw', 'cl'])
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--repeat', type=int, default=10)
    ap.add_argument('--calibrate', metavar='OUT',
                    help='write a copy of NETFILE whose BN running statistics are the '
                         'statistics of the batch (one train-mode forward, momentum 1) and exit')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = Net(a.netfile, a.prefix + '.tape', a.format)
    B = int(net.head['batch'])
    C, H, W = net.tensors[int(net.head['input'])]
    x = torch.from_numpy(np.fromfile(a.prefix + '.x', dtype=np.float32).reshape(B, C, H, W))
    y = torch.from_numpy(np.fromfile(a.prefix + '.y', dtype=np.int32).astype(np.int64))
    if a.format == 'cl':
        x = x.contiguous(memory_format=torch.channels_last)
    if a.calibrate:
        return calibrate(net, x, a.netfile, a.calibrate)
    train = a.mode == 'train'
    opt = torch.optim.SGD(net.order, lr=0.01, momentum=0.9) if train else None
    times, loss0 = [], None
    for i in range(a.warmup + a.repeat):
        t0 = time.perf_counter()
        if train:
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net.forward(x, True), y)
            loss.backward()
            opt.step()
        else:
            with torch.no_grad():
                loss = F.cross_entropy(net.forward(x, False), y)
        if i == 0:
            loss0 = float(loss)
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print('torch-net: %s threads %d batch %d format %s img/s %.1f ms %.2f loss0 %.6f rss-kb %d'
          % (a.mode, a.threads, B, a.format, B / med, med * 1e3, loss0, rss))
    return 0


if __name__ == '__main__':
    sys.exit(main())
