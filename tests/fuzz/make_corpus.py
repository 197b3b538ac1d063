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
