#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/{idx,checkpoint}/)."""
import gzip, os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def checkpoint(entries):
    payload = struct.pack("<I", len(entries))
    for name, code, rows, cols, data in entries:
        n = name.encode()
        payload += struct.pack("<I", len(n)) + n + struct.pack("<BQQ", code, rows, cols) + data
    head = b"AIGCCKPT" + struct.pack("<IIQII", 1, 0, len(payload), zlib.crc32(payload), 0)
    return head + payload


def write(folder, name, data):
    os.makedirs(os.path.join(here, "corpus", folder), exist_ok=True)
    with open(os.path.join(here, "corpus", folder, name), "wb") as f:
        f.write(data)


px = [(i * 37) % 256 for i in range(3 * 4 * 5)]
seeds = {
    "images-3x4x5": idx([3, 4, 5], px),
    "labels-6": idx([6], [0, 1, 2, 9, 4, 3]),
    "labels-out-of-range": idx([3], [1, 11, 255]),
    "truncated": idx([3, 4, 5], px)[:-7],
    "lying-header": idx([60000, 28, 28], px[:10]),
    "empty": b"",
}
for name, data in seeds.items():
    write("idx", name, data)
    write("idx", name + ".gz", gzip.compress(data, mtime=0))

f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
write("checkpoint", "params", checkpoint([
    ("param/net.fc1.weight", 1, 3, 2, f32), ("param/net.fc1.bias", 1, 1, 3, f32[:12])]))
write("checkpoint", "full", checkpoint([
    ("param/net.fc1.weight", 1, 3, 2, f32), ("param/net.fc1.bias", 1, 1, 3, f32[:12]),
    ("optim/steps", 3, 1, 1, struct.pack("<q", 7)),
    ("optim/net.fc1.weight.exp_avg", 1, 3, 2, f32), ("optim/net.fc1.weight.exp_avg_sq", 1, 3, 2, f32),
    ("optim/net.fc1.bias.exp_avg", 1, 1, 3, f32[:12]), ("optim/net.fc1.bias.exp_avg_sq", 1, 1, 3, f32[:12]),
    ("rng", 4, 1, 6, struct.pack("<6Q", 1, 2, 3, 4, 1, 0x3FF0000000000000)),
    ("doubles", 2, 2, 1, struct.pack("<2d", 0.5, -2.0))]))
write("checkpoint", "empty-dict", checkpoint([]))
write("checkpoint", "wrong-shape", checkpoint([("param/net.fc1.weight", 1, 2, 3, f32)]))


def text(name, s):
    b = s.encode()
    return (name, 5, 1, len(b), b)


def i64(name, *v):
    return (name, 3, 1, len(v), struct.pack("<%dq" % len(v), *v))


def f64(name, *v):
    return (name, 2, 1, len(v), struct.pack("<%dd" % len(v), *v))


# A model file: "net" = Sequential(input_shape {2}) of Dense fc (2 -> 3, relu) and BatchNorm1d bn.
model = [
    i64("model/format", 1), text("model/name", "net"), i64("model/layers", 3),
    text("layer/0/type", "Sequential"), text("layer/0/name", "net"), i64("layer/0/parent", -1),
    i64("layer/0/option/input_shape", 2),
    text("layer/1/type", "Dense"), text("layer/1/name", "fc"), i64("layer/1/parent", 0),
    i64("layer/1/option/in_features", 2), i64("layer/1/option/out_features", 3),
    i64("layer/1/option/bias", 1), text("layer/1/option/activation", "relu"),
    f64("layer/1/option/negative_slope", 0.01),
    text("layer/2/type", "BatchNorm1d"), text("layer/2/name", "bn"), i64("layer/2/parent", 0),
    i64("layer/2/option/num_features", 3), f64("layer/2/option/eps", 1e-5),
    f64("layer/2/option/momentum", 0.1), i64("layer/2/option/affine", 1),
    text("meta/class_names", "a\0b\0"), i64("meta/latent", 2),
    ("param/net.fc.weight", 1, 3, 2, f32), ("param/net.fc.bias", 1, 1, 3, f32[:12]),
    ("param/net.bn.weight", 1, 1, 3, f32[:12]), ("param/net.bn.bias", 1, 1, 3, f32[:12]),
    ("buffer/net.bn.running_mean", 1, 1, 3, f32[:12]),
    ("buffer/net.bn.running_var", 1, 1, 3, f32[:12]),
]
write("checkpoint", "model", checkpoint(model))
write("checkpoint", "model-unknown-type",
      checkpoint([text("layer/1/type", "Conv9d") if e[0] == "layer/1/type" else e for e in model]))
