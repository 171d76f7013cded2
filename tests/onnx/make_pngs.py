#!/usr/bin/python3
"""make_pngs.py OUT - a tiny PNG-folder dataset for the predict/ONNX tests.

OUT/train/<class>/*.png and OUT/test/<class>/*.png: 3 classes of 20x20 RGB
images (stripes of a class-dependent direction and colour, plus noise), so a
few training steps give batch-norm statistics far from 0/1. Some test images
are gray or of another size, so predict's conversion and resizing run.
Deterministic (numpy seed).
"""
import os
import sys

import cv2
import numpy as np

out = sys.argv[1]
rng = np.random.RandomState(7)
classes = ["horizontal", "vertical", "diagonal"]


def image(k, h=20, w=20):
    y, x = np.mgrid[0:h, 0:w]
    phase = [y, x, x + y][k]
    stripes = ((phase // 3) % 2).astype(np.float64)
    colour = np.array([[200, 60, 30], [40, 180, 90], [70, 80, 220]][k], np.float64)
    img = stripes[..., None] * colour + rng.uniform(0, 60, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


for split, count in (("train", 40), ("test", 40)):
    for k, name in enumerate(classes):
        d = os.path.join(out, split, name)
        os.makedirs(d)
        for i in range(count):
            shape = (20, 20) if split == "train" or i % 4 else (26, 17)
            img = image(k, *shape)
            if split == "test" and i % 5 == 1:
                img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
            elif img.ndim == 3:
                img = img[..., ::-1]  # cv2 writes BGR
            cv2.imwrite(os.path.join(d, "%03d.png" % i), img)
