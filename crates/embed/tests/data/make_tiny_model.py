"""Writes tiny.onnx, the test model of crates/embed: y = 2x + 1 on a float [batch, 3] input.
Run with any Python that has the onnx package: python3 make_tiny_model.py"""
import onnx
from onnx import TensorProto, helper

two = helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])
one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
graph = helper.make_graph(
    [helper.make_node("Mul", ["x", "two"], ["x2"]), helper.make_node("Add", ["x2", "one"], ["y"])],
    "tiny",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
    initializer=[two, one],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
onnx.checker.check_model(model)
onnx.save(model, __file__.replace("make_tiny_model.py", "tiny.onnx"))
