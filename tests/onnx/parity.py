#!/usr/bin/python3
"""parity.py (NAME MODEL.onnx RAW.f32 LOGITS.tsv ORT_LOGITS.f32|-)... - check exported models.

1. Debian's onnx checker (full_check: shapes inferred through the graph)
   accepts MODEL.onnx; its input, output, opset and metadata are as
   documented (lib/io/onnx.h).
2. OpenCV's DNN module runs it on RAW.f32 (predict --raw: float32 images
   N x C x H x W, 0..255) and its logits match LOGITS.tsv (predict --logits)
   within 1e-4 of the largest |logit|; so do onnxruntime's (ORT_LOGITS.f32,
   float32 N x classes from tests/onnx/ort.js) unless "-".
Prints "ok NAME checker", then "ok|FAIL NAME RUNTIME: ..." with the worst
relative error, per model (one Python start for all: cv2 and onnx load slowly).
"""
import sys

import cv2
import numpy as np
import onnx

TOL = 1e-4


def check_model(name, model_path, raw_path, logits_path, ort_path):
    m = onnx.load(model_path)
    onnx.checker.check_model(m, full_check=True)
    props = {p.key: p.value for p in m.metadata_props}
    assert m.opset_import[0].version >= 13, m.opset_import
    assert [i.name for i in m.graph.input] == ["image"], m.graph.input
    assert [o.name for o in m.graph.output] == ["logits"], m.graph.output
    for key in ("classes", "genotype", "nasnet_c_version", "mean", "std", "input"):
        assert props.get(key), "metadata %s missing" % key
    print("ok %s checker" % name)
    c, h, w = (int(v) for v in props["input"].split("x"))
    classes = props["classes"].split("\n")

    rows = [line.rstrip("\n").split("\t") for line in open(logits_path)]
    want = np.array([[float(v) for v in r[1:]] for r in rows], np.float32)
    x = np.fromfile(raw_path, np.float32).reshape(-1, c, h, w)
    assert x.shape[0] == want.shape[0] >= 100, (x.shape, want.shape)
    assert want.shape[1] == len(classes), (want.shape, len(classes))
    scale = float(np.abs(want).max())

    def check(runtime, got):
        err = float(np.abs(got - want).max()) / scale
        ok = got.shape == want.shape and err <= TOL
        print("%s %s %s: %d images, max |logit| %.4g, max error %.3g of it (tolerance %g)"
              % ("ok" if ok else "FAIL", name, runtime, got.shape[0], scale, err, TOL))

    net = cv2.dnn.readNetFromONNX(model_path)
    got = []
    for i in range(0, x.shape[0], 32):
        net.setInput(x[i:i + 32])
        got.append(net.forward().copy())
    check("opencv", np.concatenate(got))
    if ort_path != "-":
        check("onnxruntime", np.fromfile(ort_path, np.float32).reshape(want.shape))


args = sys.argv[1:]
for i in range(0, len(args), 5):
    try:
        check_model(*args[i:i + 5])
    except Exception as e:  # noqa: BLE001 - reported per model, the others still run
        print("FAIL %s: %s: %s" % (args[i], type(e).__name__, str(e).replace("\n", " ")))
