#!/usr/bin/python3
"""gen_fixtures_ops.py - PyTorch reference fixtures for the primitives of lib/ops/ops.h.

Writes tests/fixtures/ops.h5 (or the path given as the only argument), which
tests/unit/test_ops_torch.c reads. Run with Debian's interpreter, which has
torch and h5py:

    /usr/bin/python3 tests/gen_fixtures_ops.py [tests/fixtures/ops.h5]

The committed file is what `make test` uses; this script is only needed to
regenerate it. It is deterministic: inputs come from a seeded NumPy
RandomState, PyTorch computes in float64 on one thread, and HDF5 object
time stamps are off, so two runs give byte-identical files.

Layout: one group per case, e.g. /conv_3x3_s2_7x7. Group attributes hold the
integer (and float) settings of the op (N, C, H, W, K, kh, kw, sh, sw, dil,
valid, momentum, eps, ...). Datasets are float32 (labels int32):
  inputs/parameters    in, w, gamma, beta, w1, w2, b, logits, labels, mask, ...
  output               out (loss for xent, a 1-element array)
  upstream gradient    dout (the backward computes d sum(out * dout))
  gradients            din, dw, dgamma, dbeta, db, dlogits, ...
  extra state          running_mean/var before (rm0, rv0) and after (rm1, rv1)

TensorFlow "SAME" padding is emulated with an explicit asymmetric F.pad:
output ceil(H/s), total pad max((out-1)*s + (k-1)*d + 1 - H, 0), floor half
at the top/left and the rest at the bottom/right. Max pooling pads with -inf;
average pooling divides the window sum by the count of real pixels (a pooled
padded ones-plane), i.e. padding is not counted.
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as tnf

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
rs = np.random.RandomState(20240601)
DT = torch.float64


def rnd(*shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, size=shape).astype(np.float32)


def leaf(a):
    return torch.tensor(a, dtype=DT, requires_grad=True)


def same_pad(n, k, s, d):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_same(x, kh, kw, sh, sw, d, value=0.0):
    pt, pb = same_pad(x.shape[2], kh, sh, d)
    pl, pr = same_pad(x.shape[3], kw, sw, d)
    return tnf.pad(x, (pl, pr, pt, pb), value=value)


def backward(out, dout_shape=None):
    """d sum(out * dout) for a random dout; returns dout (float32)."""
    dout = rnd(*(dout_shape or out.shape))
    (out * torch.tensor(dout, dtype=DT)).sum().backward()
    return dout


def f32(t):
    return t.detach().numpy().astype(np.float32)


class Writer:
    def __init__(self, path):
        self.f = h5py.File(path, "w", libver="earliest")
        self.names = []

    def case(self, name, kind, attrs, arrays):
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)
        gid = h5py.h5g.create(self.f.id, name.encode(), gcpl=gcpl)
        g = h5py.Group(gid)
        g.attrs["kind"] = np.bytes_(kind)
        for k in sorted(attrs):
            v = attrs[k]
            g.attrs[k] = np.float64(v) if isinstance(v, float) else np.int32(v)
        for k in sorted(arrays):
            a = arrays[k]
            if isinstance(a, torch.Tensor):
                a = f32(a)
            g.create_dataset(k, data=a, track_times=False)
        self.names.append(name)

    def close(self):
        self.f.close()


def conv_case(w5, name, N, C, H, W, K, kh, kw, sh, sw, dil, valid=False):
    x, w = leaf(rnd(N, C, H, W)), leaf(rnd(K, C, kh, kw))
    xp = x if valid else pad_same(x, kh, kw, sh, sw, dil)
    out = tnf.conv2d(xp, w, stride=(sh, sw), dilation=dil)
    dout = backward(out)
    w5.case(name, "conv", dict(N=N, C=C, H=H, W=W, K=K, kh=kh, kw=kw, sh=sh, sw=sw, dil=dil,
                               valid=int(valid)),
            dict(**{"in": x}, w=w, out=out, dout=dout, din=x.grad, dw=w.grad))


def depthwise_case(w5, name, N, C, H, W, k, s, dil):
    x, w = leaf(rnd(N, C, H, W)), leaf(rnd(C, 1, k, k))
    out = tnf.conv2d(pad_same(x, k, k, s, s, dil), w, stride=s, dilation=dil, groups=C)
    dout = backward(out)
    w5.case(name, "depthwise", dict(N=N, C=C, H=H, W=W, k=k, s=s, dil=dil),
            dict(**{"in": x}, w=w, out=out, dout=dout, din=x.grad, dw=w.grad))


def pool_case(w5, name, is_max, N, C, H, W, k, s):
    x = leaf(rnd(N, C, H, W))
    if is_max:
        out = tnf.max_pool2d(pad_same(x, k, k, s, s, 1, value=-np.inf), k, s)
    else:
        ones = torch.ones(1, 1, H, W, dtype=DT)
        out = (tnf.avg_pool2d(pad_same(x, k, k, s, s, 1), k, s) /
               tnf.avg_pool2d(pad_same(ones, k, k, s, s, 1), k, s))
    dout = backward(out)
    w5.case(name, "maxpool" if is_max else "avgpool", dict(N=N, C=C, H=H, W=W, k=k, s=s),
            dict(**{"in": x}, out=out, dout=dout, din=x.grad))


def bn_case(w5, name, N, C, H, W, training, momentum=0.1, eps=1e-3):
    x = leaf(rnd(N, C, H, W, lo=-1.0, hi=3.0))
    gamma, beta = leaf(rnd(C, lo=0.5, hi=1.5)), leaf(rnd(C))
    rm0, rv0 = rnd(C), rnd(C, lo=0.5, hi=2.0)
    rm, rv = torch.tensor(rm0, dtype=DT), torch.tensor(rv0, dtype=DT)
    out = tnf.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    arrays = dict(**{"in": x}, gamma=gamma, beta=beta, rm0=rm0, rv0=rv0, out=out)
    if training:
        arrays.update(rm1=rm, rv1=rv, dout=backward(out), din=x.grad, dgamma=gamma.grad,
                      dbeta=beta.grad)
    w5.case(name, "bn_train" if training else "bn_eval",
            dict(N=N, C=C, H=H, W=W, momentum=momentum, eps=eps), arrays)


def factorized_case(w5, name, N, C, H, W, F):
    x, w1, w2 = leaf(rnd(N, C, H, W)), leaf(rnd(F // 2, C)), leaf(rnd(F // 2, C))
    p1 = tnf.conv2d(x[:, :, ::2, ::2], w1.view(F // 2, C, 1, 1))
    shifted = tnf.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]   # TF: pad bottom/right, drop first row/col
    p2 = tnf.conv2d(shifted[:, :, ::2, ::2], w2.view(F // 2, C, 1, 1))
    out = torch.cat([p1, p2], 1)
    dout = backward(out)
    w5.case(name, "factorized", dict(N=N, C=C, H=H, W=W, F=F),
            dict(**{"in": x}, w1=w1, w2=w2, out=out, dout=dout, din=x.grad, dw1=w1.grad,
                 dw2=w2.grad))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/ops.h5"
    w5 = Writer(path)

    # name, N, C, H, W, K, kh, kw, sh, sw, dil
    conv_case(w5, "conv_1x1_s1", 2, 3, 5, 6, 4, 1, 1, 1, 1, 1)
    conv_case(w5, "conv_1x1_s2_odd", 2, 3, 7, 5, 4, 1, 1, 2, 2, 1)
    conv_case(w5, "conv_3x3_s1", 2, 3, 6, 5, 4, 3, 3, 1, 1, 1)
    conv_case(w5, "conv_3x3_s2_odd", 2, 3, 7, 7, 4, 3, 3, 2, 2, 1)
    conv_case(w5, "conv_3x3_s2_even", 2, 3, 8, 6, 4, 3, 3, 2, 2, 1)
    conv_case(w5, "conv_1x3_s1x2", 2, 3, 6, 7, 4, 1, 3, 1, 2, 1)
    conv_case(w5, "conv_3x1_s2x1", 2, 3, 7, 6, 4, 3, 1, 2, 1, 1)
    conv_case(w5, "conv_1x7_s1", 2, 3, 5, 9, 4, 1, 7, 1, 1, 1)
    conv_case(w5, "conv_7x1_s2x1", 2, 3, 8, 5, 4, 7, 1, 2, 1, 1)
    conv_case(w5, "conv_3x3_dil2_s1", 2, 3, 7, 6, 4, 3, 3, 1, 1, 2)
    conv_case(w5, "conv_3x3_dil2_s2", 2, 3, 8, 7, 4, 3, 3, 2, 2, 2)
    conv_case(w5, "conv_3x3_valid_s2", 2, 3, 9, 8, 4, 3, 3, 2, 2, 1, valid=True)

    # name, N, C, H, W, k, s, dil
    depthwise_case(w5, "dw_3x3_s1", 2, 3, 6, 7, 3, 1, 1)
    depthwise_case(w5, "dw_3x3_s2", 2, 3, 7, 7, 3, 2, 1)
    depthwise_case(w5, "dw_5x5_s1", 2, 3, 7, 6, 5, 1, 1)
    depthwise_case(w5, "dw_5x5_s2", 2, 3, 8, 8, 5, 2, 1)
    depthwise_case(w5, "dw_7x7_s1", 2, 3, 8, 9, 7, 1, 1)
    depthwise_case(w5, "dw_7x7_s2", 2, 3, 9, 8, 7, 2, 1)
    depthwise_case(w5, "dw_3x3_dil2_s1", 2, 3, 7, 7, 3, 1, 2)
    depthwise_case(w5, "dw_5x5_dil2_s2", 2, 3, 9, 8, 5, 2, 2)

    # name, max?, N, C, H, W, k, s
    pool_case(w5, "avg_3x3_s1", False, 2, 2, 6, 5, 3, 1)
    pool_case(w5, "avg_3x3_s2_even", False, 2, 2, 8, 8, 3, 2)
    pool_case(w5, "avg_3x3_s2_odd", False, 2, 2, 7, 9, 3, 2)
    pool_case(w5, "max_3x3_s1", True, 2, 2, 5, 6, 3, 1)
    pool_case(w5, "max_3x3_s2", True, 2, 2, 7, 8, 3, 2)
    pool_case(w5, "max_5x5_s1", True, 2, 2, 6, 6, 5, 1)
    pool_case(w5, "max_5x5_s2", True, 2, 2, 8, 7, 5, 2)
    pool_case(w5, "max_7x7_s1", True, 2, 2, 7, 8, 7, 1)
    pool_case(w5, "max_7x7_s2", True, 2, 2, 9, 9, 7, 2)

    bn_case(w5, "bn_train", 2, 3, 4, 5, True)
    bn_case(w5, "bn_eval", 2, 3, 4, 5, False)

    factorized_case(w5, "factorized_even", 2, 3, 6, 6, 4)
    factorized_case(w5, "factorized_odd", 2, 3, 7, 5, 4)

    x = leaf(rnd(2, 3, 4, 5))
    out = torch.relu(x)
    dout = backward(out)
    w5.case("relu", "relu", dict(N=2, C=3, H=4, W=5),
            dict(**{"in": x}, out=out, dout=dout, din=x.grad))

    a, b = leaf(rnd(2, 3, 4, 5)), leaf(rnd(2, 3, 4, 5))
    out = a + b
    dout = backward(out)
    w5.case("add", "add", dict(N=2, C=3, H=4, W=5),
            dict(a=a, b=b, out=out, dout=dout, da=a.grad, db=b.grad))

    xs = [leaf(rnd(2, c, 3, 4)) for c in (2, 3, 1)]
    out = torch.cat(xs, 1)
    dout = backward(out)
    w5.case("concat", "concat", dict(N=2, C0=2, C1=3, C2=1, H=3, W=4),
            dict(in0=xs[0], in1=xs[1], in2=xs[2], out=out, dout=dout, din0=xs[0].grad,
                 din1=xs[1].grad, din2=xs[2].grad))

    x = leaf(rnd(2, 3, 5, 4))
    out = x.mean(dim=(2, 3))
    dout = backward(out)
    w5.case("gap", "gap", dict(N=2, C=3, H=5, W=4),
            dict(**{"in": x}, out=out, dout=dout, din=x.grad))

    x, w, b = leaf(rnd(3, 7)), leaf(rnd(5, 7)), leaf(rnd(5))
    out = tnf.linear(x, w, b)
    dout = backward(out)
    w5.case("linear", "linear", dict(N=3, Fi=7, Fo=5),
            dict(**{"in": x}, w=w, b=b, out=out, dout=dout, din=x.grad, dw=w.grad, db=b.grad))

    for name, eps in (("xent", 0.0), ("xent_smooth", 0.1)):
        logits = leaf(rnd(4, 6, lo=-2.0, hi=2.0))
        labels = rs.randint(0, 6, size=4).astype(np.int32)
        loss = tnf.cross_entropy(logits, torch.tensor(labels, dtype=torch.long),
                                 label_smoothing=eps)
        scale = 0.75
        (loss * scale).backward()
        w5.case(name, "xent", dict(N=4, K=6, smoothing=eps, scale=scale),
                dict(logits=logits, labels=labels, loss=f32(loss).reshape(1),
                     probs=torch.softmax(logits, 1), dlogits=logits.grad))

    keep = 0.6
    x = leaf(rnd(4, 10))
    mask = ((rs.uniform(size=(4, 10)) < keep) / keep).astype(np.float32)
    out = x * torch.tensor(mask, dtype=DT)
    dout = backward(out)
    w5.case("dropout", "dropout", dict(N=4, per=10, keep=keep),
            dict(**{"in": x}, mask=mask, out=out, dout=dout, din=x.grad))

    x = leaf(rnd(4, 2, 3, 2))
    mask = np.array([1 / keep, 0, 1 / keep, 0], dtype=np.float32)
    out = x * torch.tensor(mask, dtype=DT).view(4, 1, 1, 1)
    dout = backward(out)
    w5.case("droppath", "droppath", dict(N=4, per=12, keep=keep),
            dict(**{"in": x}, mask=mask, out=out, dout=dout, din=x.grad))

    w5.close()


if __name__ == "__main__":
    main()
