#!/usr/bin/python3
"""gen_fixtures_cells.py - PyTorch reference fixtures for whole ops, NASNet-A
cells and one training step of a small NASNet-A network.

Writes tests/fixtures/cells.h5 (or the path given as the only argument),
which tests/unit/test_net_torch.c reads. Run with Debian's interpreter, which
has torch and h5py:

    /usr/bin/python3 tests/gen_fixtures_cells.py [tests/fixtures/cells.h5]

The committed file is what `make test` uses; this script is only needed to
regenerate it. It is deterministic (seeded NumPy RandomState, float64 on one
thread, no HDF5 time stamps): two runs give byte-identical files.

The networks below are written from the op and plumbing definitions of
nasnet-facts.md 1.2-1.3, 2.1 and 3 (TensorFlow semantics), not from lib/net/cell.c;
only the parameter NAMES follow the C engine, so that the test can load the
weights into its net by name (net_param_find). Everything runs in float64 on
float32 inputs; results are stored as float32. Inputs and upstream gradients
are random normal / uniform; parameters and BN buffers are random multiples
of 1/256 (exact in float32, and compressible: with shuffle + deflate the
network's weights take half the space, which keeps the file under 600 KB).
Cases are sized so that no BN normalises a nearly constant map (a 7x7 max
pool over a 5x5 image would: float32 itself then disagrees with float64).

  - TF SAME padding: explicit asymmetric F.pad, output ceil(H/s), total pad
    max((out-1)*s + (k-1)*d + 1 - H, 0), floor half top/left. Max pooling pads
    with -inf; average pooling divides by the number of real pixels.
  - ops (C_in -> F, stride s): identity (x, or ReLU-1x1(s)-BN when s > 1 or
    C_in != F); conv 1xk(1,s) then kx1(s,1) then BN after a ReLU; ReLU-3x3
    dilation 2-BN; pools then 1x1-BN (no ReLU) when C_in != F; ReLU-conv-BN;
    separable: twice [ReLU - depthwise k (stride s the first time) - 1x1 -
    BN]; dilated separable (DARTS dil_conv): once, depthwise dilation 2.
  - cells: h_i -> ReLU-1x1-BN; h_{i-1}: none -> raw h_i, other H -> ReLU +
    factorized reduction + BN, other C -> ReLU-1x1-BN; in a reduction cell
    ops on states 0 and 1 have stride 2; add; the output concatenates the
    TF lists ([1..6] Normal, [3..6] Reduction), states of another H or C
    first factorized-reduced (stride 2) or 1x1-BN'd to the last block's
    shape, without ReLU.
  - network: CIFAR stem (3x3 conv to 3F, BN), N Normal, Reduction, N,
    Reduction, N; cell inputs (outputs[-1], outputs[-2]); head ReLU - global
    mean - FC; softmax cross-entropy with label smoothing; no aux head (its
    768-channel conv would make the file megabytes), no dropout, no drop path.
  - BN in training mode (batch statistics, biased variance to normalise,
    running var updated with the unbiased one, momentum 0.1).

Layout (HDF5 1.10 format; datasets under 4 KB compact, larger ones one
deflated chunk): one group per case with attribute "kind" = "op", "cell" or
"net", and integer attributes nparams, nbuffers (parameter and BN buffer
counts) besides:
  op:   attrs op (name), cin, h, w, F, stride, batch, eps, momentum
  cell: attrs reduce, F, cur_c, cur_h, cur_w, prev_c, prev_h, prev_w, batch,
        eps, momentum (the cell is NASNet-A's, genotype "nasnet-a")
  net:  attrs cells, filters, in_c, in_h, in_w, classes, batch, eps,
        momentum, smoothing, lr, sgd_momentum, nesterov, weight_decay, clip
Datasets:
  x, x2           inputs h_i and h_{i-1} (images for the net)
  dout            upstream gradient of the fragment output (fragments)
  out             fragment output; logits (net)
  dx, dx2         input gradients of sum(out * dout) (fragments)
  labels, loss    (net) int32 labels; the mean loss, 1 element
  pnames          parameter names (fixed-length strings, NUL-padded), in this
                  script's order; the count is the attribute nparams
  pinfo           (n, 6) int32 per parameter: its shape padded with zeros (4),
                  1 if L2-decayed (conv / FC weights), 1 if in param1
  param, grad     all parameters concatenated in pnames order, their gradients
  param1          (net) the flagged parameters (stem, fc, one cell input 1x1
                  and one separable op: every parameter kind) after one SGD
                  step over ALL parameters: clip the raw gradients' global
                  norm to `clip` (torch.nn.utils.clip_grad_norm_), then
                  torch.optim.SGD adds weight_decay * w to the decayed weights
                  and applies Nesterov momentum (zero buffer); lr = `lr`.
                  (Only a subset is stored, to keep the file small.)
  bnames          BN buffer names ("<bn>/mean", "<bn>/var"); count nbuffers
  buf             (2, total) the buffers concatenated, before and after the
                  forward pass
The parameter datasets are absent when nparams = 0 (pools, identity).
"""
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as tnf

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
rs = np.random.RandomState(20240717)
DT = torch.float64
NAMELEN = 96
EPS_FRAG, MOM = 1e-3, 0.1

ID, C13, C17, DIL3, AVG3, MAX3, MAX5, MAX7, CONV1, CONV3, SEP3, SEP5, SEP7, DSEP3, DSEP5 = \
    range(15)
OP_NAMES = ["identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3",
            "max_pool_3x3", "max_pool_5x5", "max_pool_7x7", "conv_1x1", "conv_3x3",
            "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "dil_sep_conv_3x3",
            "dil_sep_conv_5x5"]

# NASNet-A (nasnet-facts.md 2.1, TF indices): blocks (in_a, op_a, in_b, op_b), add; concat
NORMAL = ([(0, SEP5, 1, SEP3), (1, SEP5, 1, SEP3), (0, AVG3, 1, ID), (1, AVG3, 1, AVG3),
           (0, SEP3, 0, ID)], [1, 2, 3, 4, 5, 6])
REDUCE = ([(0, SEP5, 1, SEP7), (0, MAX3, 1, SEP7), (0, AVG3, 1, SEP5), (3, ID, 2, AVG3),
           (2, SEP3, 0, MAX3)], [3, 4, 5, 6])


def rnd(*shape, lo=-1.0, hi=1.0):
    return rs.uniform(lo, hi, size=shape).astype(np.float32)


def randn(*shape):
    return rs.standard_normal(shape).astype(np.float32)


def grid(a):
    """round to multiples of 1/256: exact in float32 and compressible"""
    return (np.round(a * 256) / 256).astype(np.float32)


def f32(t):
    return t.detach().numpy().astype(np.float32)


def same_pad(n, k, s, d):
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pad_same(x, kh, kw, sh, sw, d, value=0.0):
    pt, pb = same_pad(x.shape[2], kh, sh, d)
    pl, pr = same_pad(x.shape[3], kw, sw, d)
    return tnf.pad(x, (pl, pr, pt, pb), value=value)


class Model:
    """Parameters (created on first use, by C engine name) and the layers."""

    def __init__(self, eps, momentum):
        self.eps, self.momentum = eps, momentum
        self.params = {}    # name -> (leaf tensor, decayed?)
        self.buffers = {}   # name -> (before (float32 array), tensor updated in place)

    def weight(self, name, shape, fan_in):
        assert name not in self.params, name
        a = np.sqrt(3.0 / fan_in)   # uniform with variance 1/fan_in
        w = torch.tensor(grid(rnd(*shape, lo=-a, hi=a)), dtype=DT, requires_grad=True)
        self.params[name] = (w, 1)
        return w

    def conv(self, x, name, K, kh, kw, sh, sw, dil=1, same=True):
        C = x.shape[1]
        w = self.weight(name, (K, C, kh, kw), C * kh * kw)
        if same:
            x = pad_same(x, kh, kw, sh, sw, dil)
        return tnf.conv2d(x, w, stride=(sh, sw), dilation=dil)

    def depthwise(self, x, name, k, s, dil):
        C = x.shape[1]
        w = self.weight(name, (C, 1, k, k), k * k)
        return tnf.conv2d(pad_same(x, k, k, s, s, dil), w, stride=s, dilation=dil, groups=C)

    def bn(self, x, prefix):
        C = x.shape[1]
        gamma = torch.tensor(grid(rnd(C, lo=0.7, hi=1.3)), dtype=DT, requires_grad=True)
        beta = torch.tensor(grid(rnd(C, lo=-0.3, hi=0.3)), dtype=DT, requires_grad=True)
        self.params[prefix + "/gamma"] = (gamma, 0)
        self.params[prefix + "/beta"] = (beta, 0)
        m0, v0 = grid(rnd(C, lo=-0.5, hi=0.5)), grid(rnd(C, lo=0.5, hi=2.0))
        rm, rv = torch.tensor(m0, dtype=DT), torch.tensor(v0, dtype=DT)
        self.buffers[prefix + "/mean"] = (m0, rm)
        self.buffers[prefix + "/var"] = (v0, rv)
        return tnf.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=self.momentum,
                              eps=self.eps)

    def factorized(self, x, F, prefix):
        """Two stride-2 1x1 paths (the second shifted by one pixel), concat, BN."""
        C = x.shape[1]
        w1 = self.weight(prefix + "/fr/w1", (F // 2, C), C)
        w2 = self.weight(prefix + "/fr/w2", (F // 2, C), C)
        p1 = tnf.conv2d(x[:, :, ::2, ::2], w1.view(F // 2, C, 1, 1))
        shifted = tnf.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        p2 = tnf.conv2d(shifted[:, :, ::2, ::2], w2.view(F // 2, C, 1, 1))
        return self.bn(torch.cat([p1, p2], 1), prefix + "/bn")

    def relu_conv_bn(self, x, F, k, s, prefix):
        return self.bn(self.conv(torch.relu(x), prefix + "/conv", F, k, k, s, s), prefix + "/bn")

    def conv_bn(self, x, F, prefix):
        return self.bn(self.conv(x, prefix + "/conv", F, 1, 1, 1, 1), prefix + "/bn")

    def op(self, op, x, F, s, prefix):
        C = x.shape[1]
        if op == ID:
            return x if s == 1 and C == F else self.relu_conv_bn(x, F, 1, s, prefix)
        if op in (C13, C17):
            k = 3 if op == C13 else 7
            y = self.conv(torch.relu(x), "%s/conv_1x%d" % (prefix, k), F, 1, k, 1, s)
            y = self.conv(y, "%s/conv_%dx1" % (prefix, k), F, k, 1, s, 1)
            return self.bn(y, prefix + "/bn")
        if op == DIL3:
            y = self.conv(torch.relu(x), prefix + "/conv", F, 3, 3, s, s, dil=2)
            return self.bn(y, prefix + "/bn")
        if op == AVG3:
            ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype=DT)
            y = (tnf.avg_pool2d(pad_same(x, 3, 3, s, s, 1), 3, s) /
                 tnf.avg_pool2d(pad_same(ones, 3, 3, s, s, 1), 3, s))
            return y if C == F else self.conv_bn(y, F, prefix)
        if op in (MAX3, MAX5, MAX7):
            k = {MAX3: 3, MAX5: 5, MAX7: 7}[op]
            y = tnf.max_pool2d(pad_same(x, k, k, s, s, 1, value=-np.inf), k, s)
            return y if C == F else self.conv_bn(y, F, prefix)
        if op in (CONV1, CONV3):
            return self.relu_conv_bn(x, F, 1 if op == CONV1 else 3, s, prefix)
        k = {SEP3: 3, SEP5: 5, SEP7: 7, DSEP3: 3, DSEP5: 5}[op]
        dil, reps = (2, 1) if op in (DSEP3, DSEP5) else (1, 2)
        y = x
        for i in range(1, reps + 1):
            p = "%s/sep_%d" % (prefix, i)
            y = self.depthwise(torch.relu(y), p + "/dw", k, s if i == 1 else 1, dil)
            y = self.conv(y, p + "/pw", F, 1, 1, 1, 1)
            y = self.bn(y, p + "/bn")
        return y

    def cell(self, genotype, reduce, F, cur, prev, name):
        blocks, concat = genotype
        st = [self.relu_conv_bn(cur, F, 1, 1, name + "/cur")]
        if prev is None:
            st.append(cur)
        elif prev.shape[2:] != cur.shape[2:]:
            st.append(self.factorized(torch.relu(prev), F, name + "/prev"))
        elif prev.shape[1] != F:
            st.append(self.relu_conv_bn(prev, F, 1, 1, name + "/prev"))
        else:
            st.append(prev)
        for b, (ia, oa, ib, ob) in enumerate(blocks):
            ya = self.op(oa, st[ia], F, 2 if reduce and ia < 2 else 1,
                         "%s/block_%d/op_a" % (name, b))
            yb = self.op(ob, st[ib], F, 2 if reduce and ib < 2 else 1,
                         "%s/block_%d/op_b" % (name, b))
            st.append(ya + yb)
        last = st[-1]
        outs = []
        for i in concat:
            t, p = st[i], "%s/out_%d" % (name, i)
            if t.shape[2] != last.shape[2]:
                t = self.factorized(t, last.shape[1], p)
            elif t.shape[1] != last.shape[1]:
                t = self.conv_bn(t, last.shape[1], p)
            outs.append(t)
        return torch.cat(outs, 1)


def cat(arrays):
    return np.concatenate(arrays) if arrays else np.zeros(0, np.float32)


def str_array(names):
    """fixed-length strings, as long as the longest name plus a NUL"""
    size = max([len(n) for n in names] + [0]) + 1
    return np.array([n.encode() for n in names], dtype="S%d" % size)


class Writer:
    def __init__(self, path):
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_obj_track_times(False)       # root group: no time stamps either
        fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
        fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
        self.f = h5py.File(h5py.h5f.create(path.encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl,
                                           fapl=fapl))

    def case(self, name, kind, attrs, arrays):
        gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
        gcpl.set_obj_track_times(False)
        gcpl.set_attr_phase_change(32, 24)     # attributes inside the group's header
        g = h5py.Group(h5py.h5g.create(self.f.id, name.encode(), gcpl=gcpl))
        g.attrs["kind"] = np.bytes_(kind)
        for k in sorted(attrs):
            v = attrs[k]
            if isinstance(v, str):
                g.attrs[k] = np.bytes_(v)
            elif isinstance(v, float):
                g.attrs[k] = np.float64(v)
            else:
                g.attrs[k] = np.int32(v)
        for k in sorted(arrays):
            a = arrays[k]
            if isinstance(a, torch.Tensor):
                a = f32(a)
            a = np.ascontiguousarray(a)
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_obj_track_times(False)
            if a.nbytes < 4096:   # small: data inside the object header
                dcpl.set_layout(h5py.h5d.COMPACT)
            else:                 # one compressed chunk
                dcpl.set_chunk(a.shape)
                dcpl.set_shuffle()
                dcpl.set_deflate(9)
            space = h5py.h5s.create_simple(a.shape)
            d = h5py.h5d.create(g.id, k.encode(), h5py.h5t.py_create(a.dtype), space,
                                dcpl=dcpl)
            d.write(h5py.h5s.ALL, h5py.h5s.ALL, a)

    def close(self):
        self.f.close()


def model_arrays(m, stepped=()):
    """pnames, pinfo, param, grad, bnames, buf of a model after backward (nothing when
    it has no parameters); parameters named with a prefix in `stepped` are flagged."""
    names, bn = list(m.params), list(m.buffers)
    if not names:
        return {}
    info = np.zeros((len(names), 6), dtype=np.int32)
    for i, n in enumerate(names):
        p, decay = m.params[n]
        info[i, :p.dim()] = p.shape
        info[i, 4] = decay
        info[i, 5] = n.startswith(tuple(stepped)) if stepped else 0
    ps = [m.params[n][0] for n in names]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps]
    arrays = dict(pnames=str_array(names), pinfo=info, param=cat([f32(p).ravel() for p in ps]),
                  grad=cat([f32(g).ravel() for g in grads]))
    if bn:
        arrays.update(bnames=str_array(bn),
                      buf=np.stack([cat([m.buffers[n][0] for n in bn]),
                                    cat([f32(m.buffers[n][1]) for n in bn])]))
    return arrays


def fragment(w5, name, kind, attrs, build, x, x2=None):
    """Run build(model, x, x2) -> out, backprop sum(out * dout), write the case."""
    m = Model(EPS_FRAG, MOM)
    xt = torch.tensor(x, dtype=DT, requires_grad=True)
    x2t = torch.tensor(x2, dtype=DT, requires_grad=True) if x2 is not None else None
    out = build(m, xt, x2t)
    dout = rnd(*out.shape)
    (out * torch.tensor(dout, dtype=DT)).sum().backward()
    arrays = dict(x=x, out=out, dout=dout, dx=xt.grad, **model_arrays(m))
    if x2 is not None:
        arrays.update(x2=x2, dx2=x2t.grad)
    w5.case(name, kind, dict(attrs, eps=EPS_FRAG, momentum=MOM, nparams=len(m.params),
                             nbuffers=len(m.buffers)), arrays)


def op_case(w5, op, cin, hw, F, s):
    name = "op_%s_s%d_c%d_f%d_%dx%d" % (OP_NAMES[op], s, cin, F, hw, hw)
    fragment(w5, name, "op", dict(op=OP_NAMES[op], cin=cin, h=hw, w=hw, F=F, stride=s, batch=2),
             lambda m, x, _: m.op(op, x, F, s, "op"), randn(2, cin, hw, hw))


def cell_case(w5, name, reduce, F, cur, prev):
    genotype = REDUCE if reduce else NORMAL
    x2 = randn(2, *prev) if prev else None
    fragment(w5, name, "cell",
             dict(reduce=int(reduce), F=F, cur_c=cur[0], cur_h=cur[1], cur_w=cur[2],
                  prev_c=prev[0] if prev else 0, prev_h=prev[1] if prev else 0,
                  prev_w=prev[2] if prev else 0, batch=2),
             lambda m, x, p: m.cell(genotype, reduce, F, x, p, "cell"), randn(2, *cur), x2)


def net_case(w5, N, F, in_shape, classes, B):
    eps, smoothing = 1e-5, 0.1
    lr, mu, wd, clip = 0.1, 0.9, 5e-4, 5.0
    m = Model(eps, MOM)
    x = randn(B, *in_shape)
    labels = rs.randint(0, classes, size=B).astype(np.int32)

    y = m.bn(m.conv(torch.tensor(x, dtype=DT), "stem/conv", 3 * F, 3, 3, 1, 1), "stem/bn")
    outputs = [None, y]
    f = F
    for c in range(3 * N):
        if c in (N, 2 * N):
            f *= 2
            name = "reduction_cell_%d" % (0 if c == N else 1)
            outputs.append(m.cell(REDUCE, True, f, outputs[-1], outputs[-2], name))
        outputs.append(m.cell(NORMAL, False, f, outputs[-1], outputs[-2], "cell_%d" % c))
    feat = torch.relu(outputs[-1]).mean(dim=(2, 3))
    fc_w = m.weight("fc/w", (classes, feat.shape[1]), feat.shape[1])
    fc_b = torch.tensor(grid(rnd(classes, lo=-0.1, hi=0.1)), dtype=DT, requires_grad=True)
    m.params["fc/b"] = (fc_b, 0)
    logits = tnf.linear(feat, fc_w, fc_b)
    loss = tnf.cross_entropy(logits, torch.tensor(labels, dtype=torch.long),
                             label_smoothing=smoothing)
    loss.backward()
    stepped = ("stem/", "fc/", "cell_0/cur/", "reduction_cell_1/block_0/op_a/")
    arrays = model_arrays(m, stepped)

    # one SGD step the PyTorch way: clip_grad_norm_ on the raw gradients, then
    # torch.optim.SGD adds weight decay (decayed group only) and momentum
    ps = [p for p, _ in m.params.values()]
    norm = float(torch.nn.utils.clip_grad_norm_(ps, clip))
    assert norm > clip, "the fixture must exercise the clipping"
    opt = torch.optim.SGD([{"params": [p for p, d in m.params.values() if d],
                            "weight_decay": wd},
                           {"params": [p for p, d in m.params.values() if not d],
                            "weight_decay": 0.0}],
                          lr=lr, momentum=mu, nesterov=True)
    opt.step()
    arrays["param1"] = cat([f32(p).ravel() for p, on in zip(ps, arrays["pinfo"][:, 5]) if on])
    print("net: loss %.6f, gradient norm %.4f (clip %g), %d parameters, %d floats"
          % (float(loss), norm, clip, len(ps), arrays["param"].size))
    w5.case("net_nasnet_a_n%d_f%d" % (N, F), "net",
            dict(cells=N, filters=F, in_c=in_shape[0], in_h=in_shape[1], in_w=in_shape[2],
                 classes=classes, batch=B, eps=eps, momentum=MOM, smoothing=smoothing, lr=lr,
                 sgd_momentum=mu, nesterov=1, weight_decay=wd, clip=clip,
                 nparams=len(m.params), nbuffers=len(m.buffers)),
            dict(x=x, labels=labels, out=logits, loss=f32(loss).reshape(1), **arrays))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/cells.h5"
    w5 = Writer(path)
    net_case(w5, 1, 4, (1, 12, 12), 10, 4)
    for op in range(len(OP_NAMES)):
        # 5x5 and 7x7 max pools on a 5x5 image would give one value per channel and
        # example, and BN of nearly constant maps is ill-conditioned in float32
        odd, even = (7, 8) if op in (MAX5, MAX7) else (5, 6)
        op_case(w5, op, 4, odd, 4, 1)       # C_in == F (identity passes through)
        op_case(w5, op, 3, even, 4, 2)      # C_in != F, even input: asymmetric SAME pads
        if op in (ID, AVG3, MAX3, MAX5, MAX7):
            op_case(w5, op, 3, odd, 4, 1)   # the 1x1 conv + BN these ops insert
            op_case(w5, op, 4, odd, 4, 2)   # strided with C_in == F (no 1x1 for pools)
    # Normal cell after a reduction: h_{i-1} twice the size (factorized reduction)
    cell_case(w5, "cell_normal_prev_reduced", False, 4, (8, 4, 4), (6, 8, 8))
    # Normal cell on the stem: no previous cell (h_{i-1} = raw h_i, 1x1 on output)
    cell_case(w5, "cell_normal_no_prev", False, 4, (6, 5, 5), None)
    # Reduction cell, odd input, h_{i-1} of other channels (ReLU-1x1-BN)
    cell_case(w5, "cell_reduce_prev_1x1", True, 4, (6, 7, 7), (5, 7, 7))
    w5.close()


if __name__ == "__main__":
    main()
