#!/usr/bin/python3
"""Converts a TF.js layers model (Keras functional topology, uint8- or
float32-stored weights) to ONNX, using only Debian's python3-onnx and
python3-numpy. Covers the layers of the MobileNetV2 that npm's nsfwjs
ships: InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D,
BatchNormalization, ReLU (with max_value), Add, AveragePooling2D,
GlobalAveragePooling2D, Flatten, Dense, Dropout. Anything else is refused.

The ONNX model keeps the Keras input layout (NHWC, float32, batch 1) and
transposes to NCHW inside the graph.

  tfjs2onnx.py model.json weights.bin out.onnx
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def load_weights(manifest, blob):
    out, off = {}, 0
    for group in manifest:
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q:
                dt = np.dtype(q["dtype"])
                raw = np.frombuffer(blob, dtype=dt, count=n, offset=off)
                off += n * dt.itemsize
                # as tfjs does: value = q * scale + min, stored as float32
                arr = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            else:
                raw = np.frombuffer(blob, dtype=np.float32, count=n, offset=off)
                off += n * 4
                arr = raw.astype(np.float32)
            out[w["name"]] = arr.reshape(w["shape"])
    if off != len(blob):
        sys.exit(f"weights: manifest covers {off} bytes, file has {len(blob)}")
    return out


class Builder:
    def __init__(self, weights):
        self.w = weights
        self.nodes, self.inits = [], []

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def weight(self, layer, key):
        return self.w[f"{layer}/{key}"]


def activation(b, x, name, act):
    if act == "linear":
        return x
    if act == "relu":
        return b.node("Relu", [x], name + "_act")
    if act == "softmax":
        return b.node("Softmax", [x], name + "_act", axis=-1)
    sys.exit(f"{name}: activation {act} not supported")


def conv_attrs(cfg):
    if cfg.get("dilation_rate", [1, 1]) != [1, 1]:
        sys.exit(f"{cfg['name']}: dilation not supported")
    attrs = {"strides": cfg["strides"]}
    attrs["auto_pad"] = "SAME_UPPER" if cfg["padding"] == "same" else "VALID"
    return attrs


def conv(b, x, name, cfg, depthwise):
    if depthwise:
        k = b.weight(name, "depthwise_kernel")  # kh, kw, in, mult
        kh, kw, cin, mult = k.shape
        w = k.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw)
        group = cin
    else:
        k = b.weight(name, "kernel")  # kh, kw, in, out
        w = k.transpose(3, 2, 0, 1)
        group = 1
    inputs = [x, b.init(name + "_W", w)]
    if cfg.get("use_bias"):
        inputs.append(b.init(name + "_B", b.weight(name, "bias")))
    y = b.node("Conv", inputs, name, group=group, kernel_shape=list(w.shape[2:]), **conv_attrs(cfg))
    return activation(b, y, name, cfg.get("activation", "linear"))


def batchnorm(b, x, name, cfg):
    mean = b.weight(name, "moving_mean")
    ch = mean.shape[0]
    gamma = b.weight(name, "gamma") if cfg.get("scale", True) else np.ones(ch, np.float32)
    beta = b.weight(name, "beta") if cfg.get("center", True) else np.zeros(ch, np.float32)
    ins = [x] + [b.init(f"{name}_{k}", v) for k, v in
                 (("gamma", gamma), ("beta", beta), ("mean", mean),
                  ("var", b.weight(name, "moving_variance")))]
    return b.node("BatchNormalization", ins, name, epsilon=float(cfg["epsilon"]))


def relu(b, x, name, cfg):
    if cfg.get("negative_slope", 0) or cfg.get("threshold", 0):
        sys.exit(f"{name}: leaky/thresholded ReLU not supported")
    mx = cfg.get("max_value")
    if mx is None:
        return b.node("Relu", [x], name)
    lo = b.init(name + "_min", np.array(0, np.float32))
    hi = b.init(name + "_max", np.array(mx, np.float32))
    return b.node("Clip", [x, lo, hi], name)


def zeropad(b, x, name, cfg):
    (t, bo), (le, r) = cfg["padding"]
    pads = b.init(name + "_pads", np.array([0, 0, t, le, 0, 0, bo, r], np.int64))
    return b.node("Pad", [x, pads], name)


def dense(b, x, name, cfg):
    y = b.node("MatMul", [x, b.init(name + "_W", b.weight(name, "kernel"))], name + "_mm")
    if cfg.get("use_bias", True):
        y = b.node("Add", [y, b.init(name + "_B", b.weight(name, "bias"))], name)
    return activation(b, y, name, cfg.get("activation", "linear"))


def layer(b, cls, name, cfg, ins):
    x = ins[0] if ins else None
    if cls in ("Conv2D", "DepthwiseConv2D"):
        return conv(b, x, name, cfg, cls == "DepthwiseConv2D")
    if cls == "BatchNormalization":
        return batchnorm(b, x, name, cfg)
    if cls == "ReLU":
        return relu(b, x, name, cfg)
    if cls == "ZeroPadding2D":
        return zeropad(b, x, name, cfg)
    if cls == "Add":
        return b.node("Add", ins, name)
    if cls == "AveragePooling2D":
        if cfg["padding"] != "valid":
            sys.exit(f"{name}: only valid pooling supported")
        return b.node("AveragePool", [x], name, kernel_shape=cfg["pool_size"], strides=cfg["strides"])
    if cls == "GlobalAveragePooling2D":
        y = b.node("GlobalAveragePool", [x], name + "_gap")
        return b.node("Flatten", [y], name, axis=1)
    if cls == "Flatten":  # Keras flattens NHWC: go back to NHWC first
        y = b.node("Transpose", [x], name + "_nhwc", perm=[0, 2, 3, 1])
        return b.node("Flatten", [y], name, axis=1)
    if cls == "Dense":
        return dense(b, x, name, cfg)
    if cls == "Dropout":
        return x
    sys.exit(f"{name}: layer {cls} not supported")


def convert(model, weights):
    cfg = model["modelTopology"]["model_config"]["config"]
    b = Builder(weights)
    out = {}
    inputs = []
    for l in cfg["layers"]:
        name, cls, lc = l["name"], l["class_name"], l["config"]
        if cls == "InputLayer":
            shape = [1] + lc["batch_input_shape"][1:]
            inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
            out[name] = b.node("Transpose", [name], name + "_nchw", perm=[0, 3, 1, 2])
            continue
        ins = [out[n[0]] for node in l["inbound_nodes"] for n in node]
        out[name] = layer(b, cls, name, lc, ins)
    (oname, _, _), = cfg["output_layers"]
    b.nodes.append(helper.make_node("Identity", [out[oname]], ["output"], name="output"))
    units = next(l["config"].get("units") for l in cfg["layers"] if l["name"] == oname)
    output = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, units or "n"])
    graph = helper.make_graph(b.nodes, cfg["name"], inputs, [output], b.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                          producer_name="borda tfjs2onnx")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: tfjs2onnx.py model.json weights.bin out.onnx")
    with open(sys.argv[1]) as f:
        model = json.load(f)
    with open(sys.argv[2], "rb") as f:
        weights = load_weights(model["weightsManifest"], f.read())
    m = convert(model, weights)
    m = onnx.shape_inference.infer_shapes(m)
    onnx.save(m, sys.argv[3])


if __name__ == "__main__":
    main()
