// ONNX Runtime's side of scripts/check_onnx.sh: runs each model of <folder>/manifest.json (written
// by onnx_reference) on its fixed inputs, compares the outputs with aigc's and prints a Markdown
// table with both sampling times. Exits 1 when a max absolute difference exceeds the tolerance.
// Usage: node check_onnx.js <folder> [--tolerance 1e-4] [--write-outputs]
"use strict";
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

function readFloat32(file) {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

function readInt64(file) {
  const b = fs.readFileSync(file);
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

async function medianMs(reps, f) {
  await f();
  const ms = [];
  for (let i = 0; i < reps; ++i) {
    const t0 = process.hrtime.bigint();
    await f();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)];
}

async function main() {
  const args = process.argv.slice(2);
  const dir = args[0];
  const t = args.indexOf("--tolerance");
  const tolerance = t >= 0 ? Number(args[t + 1]) : 1e-4;
  const writeOutputs = args.includes("--write-outputs");
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));
  const rows = [];
  let failed = false;
  for (const m of manifest) {
    const session = await ort.InferenceSession.create(path.join(dir, m.onnx));
    for (const b of m.batches) {
      const feeds = {z: new ort.Tensor("float32", readFloat32(path.join(dir, b.z)), [b.n, m.latent])};
      if (b.label) feeds.label = new ort.Tensor("int64", readInt64(path.join(dir, b.label)), [b.n]);
      const run = () => session.run(feeds);
      const out = (await run()).image;
      const want = readFloat32(path.join(dir, b.aigc));
      const shape = [b.n, ...m.image_shape];
      if (out.dims.join() !== shape.join() || out.data.length !== want.length) {
        throw new Error(`${m.name}: ONNX Runtime gives ${out.dims}, aigc [${shape}]`);
      }
      let abs = 0, rel = 0;
      for (let i = 0; i < want.length; ++i) {
        const d = Math.abs(out.data[i] - want[i]);
        abs = Math.max(abs, d);
        if (Math.abs(want[i]) >= 1e-3) rel = Math.max(rel, d / Math.abs(want[i]));
      }
      const ms = b.n >= 1000 ? 0 : await medianMs(9, run);
      if (writeOutputs) {
        const f = path.join(dir, `${m.name}-${b.n}-ort.f32`);
        fs.writeFileSync(f, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
      }
      const ok = abs <= tolerance;
      failed = failed || !ok;
      rows.push(`| ${m.name} | ${b.n} | ${abs.toExponential(2)} | ${rel.toExponential(2)} | ` +
                `${b.aigc_ms.toFixed(3)} | ${b.n >= 1000 ? "-" : ms.toFixed(3)} | ` +
                `${ok ? "yes" : "NO"} |`);
    }
  }
  console.log(`ONNX Runtime ${require("onnxruntime-node/package.json").version}, tolerance ` +
              `${tolerance} (max absolute difference); relative over |aigc| >= 1e-3; times: ` +
              `median of 9 runs after one warm-up, ms per batch`);
  console.log("| model | batch | max abs diff | max rel diff | aigc ms | ORT ms | within |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(`check_onnx.js: error: ${e.message}`);
  process.exit(2);
});
