// Unwraps the MobileNetV2 model that npm's nsfwjs ships as browserified
// JavaScript modules into a TF.js layers model: model.json (topology and
// weights manifest) and weights.bin (the shard bytes, still quantized).
//
//   node nsfwjs-extract.js <unpacked nsfwjs package dir> <out dir>
"use strict";
const fs = require("fs");
const path = require("path");

const [pkg, out] = process.argv.slice(2);
if (!pkg || !out) {
  console.error("usage: node nsfwjs-extract.js <nsfwjs package dir> <out dir>");
  process.exit(2);
}
const dir = path.resolve(pkg, "dist/models/mobilenet_v2");
const model = require(path.join(dir, "model.min.js"));
const shards = model.weightsManifest.flatMap((g) => g.paths);
const bytes = shards.map((p) => Buffer.from(require(path.join(dir, p + ".min.js")), "base64"));
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "model.json"), JSON.stringify(model));
fs.writeFileSync(path.join(out, "weights.bin"), Buffer.concat(bytes));
