"""Builds the tiny ONNX models the engine/ort tests run (testdata/runtime/).

mixed.onnx     x float16 [batch,4], n int64 [batch,1] -> y float16 = x*2 + n, s float32 [batch] = sum(y)
extdata.onnx   x float32 [2,3] -> y = x @ W + 1, W (3x3) stored in extdata.onnx_data
scalar16.onnx  t float16 [] -> y float16 [] = 2t (rank-0 float16 tensors)
slow.onnx      x float32 [256,256], iters int64 scalar -> y: a Loop of MatMul+Tanh, slow enough to cancel
Run: tools/.venv/bin/python tools/runtime/make_runtime_fixtures.py
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "testdata", "runtime")
OPSET = [helper.make_opsetid("", 17)]


def save(model, name, **kw):
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(OUT, name), **kw)


def mixed():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["batch", 4])
    n = helper.make_tensor_value_info("n", TensorProto.INT64, ["batch", 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["batch", 4])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch"])
    two = numpy_helper.from_array(np.array(2, dtype=np.float16), "two")
    axes = numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["x2"]),
        helper.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT16),
        helper.make_node("Add", ["x2", "nf"], ["y"]),
        helper.make_node("Cast", ["y"], ["y32"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["y32", "axes"], ["s"], keepdims=0),
    ]
    g = helper.make_graph(nodes, "mixed", [x, n], [y, s], initializer=[two, axes])
    m = helper.make_model(g, opset_imports=OPSET, producer_name="diptych-fixtures")
    helper.set_model_props(m, {"diptych_fixture": "mixed"})
    save(m, "mixed.onnx")


def extdata():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    w = numpy_helper.from_array(np.arange(9, dtype=np.float32).reshape(3, 3) / 8, "W")
    one = numpy_helper.from_array(np.array(1, dtype=np.float32), "one")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "one"], ["y"])]
    g = helper.make_graph(nodes, "extdata", [x], [y], initializer=[w, one])
    m = helper.make_model(g, opset_imports=OPSET, producer_name="diptych-fixtures")
    save(m, "extdata.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
         location="extdata.onnx_data", size_threshold=0)


def scalar16():
    t = helper.make_tensor_value_info("t", TensorProto.FLOAT16, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, [])
    two = numpy_helper.from_array(np.array(2, dtype=np.float16), "two")
    g = helper.make_graph([helper.make_node("Mul", ["t", "two"], ["y"])], "scalar16", [t], [y], initializer=[two])
    save(helper.make_model(g, opset_imports=OPSET, producer_name="diptych-fixtures"), "scalar16.onnx")


def slow():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [256, 256])
    iters = helper.make_tensor_value_info("iters", TensorProto.INT64, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [256, 256])
    # Loop body: (iter, cond, acc) -> (cond, tanh(acc @ acc))
    b_iter = helper.make_tensor_value_info("i", TensorProto.INT64, [])
    b_cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    b_acc = helper.make_tensor_value_info("acc", TensorProto.FLOAT, [256, 256])
    b_cond_out = helper.make_tensor_value_info("c_out", TensorProto.BOOL, [])
    b_acc_out = helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [256, 256])
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("MatMul", ["acc", "acc"], ["mm"]),
         helper.make_node("Tanh", ["mm"], ["acc_out"])],
        "body", [b_iter, b_cond, b_acc], [b_cond_out, b_acc_out])
    true = numpy_helper.from_array(np.array(True), "true")
    nodes = [helper.make_node("Loop", ["iters", "true", "x"], ["y"], body=body)]
    g = helper.make_graph(nodes, "slow", [x, iters], [y], initializer=[true])
    m = helper.make_model(g, opset_imports=OPSET, producer_name="diptych-fixtures")
    save(m, "slow.onnx")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    mixed()
    extdata()
    slow()
    scalar16()
    print("wrote", sorted(os.listdir(OUT)))
