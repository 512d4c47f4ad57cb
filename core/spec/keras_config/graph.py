"""A functional spec's graph as Keras sees it: layer calls (nodes) with their
`keras_history`, and the order of `model.layers` that Keras's `map_graph` computes.

That order matters beyond the JSON: Keras names a model's weights `layers/<class>_<n>`
in a `.keras` file by it, and loads a legacy `.h5` file's layers by position in it
(`keras/src/saving/saving_lib.py` `_save_state`, `legacy_h5_format.py`
`load_weights_from_hdf5_group`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from cornu.core.spec.model import FunctionalSpec, split_ref

History = tuple[str, int, int]
"""Keras's `keras_history` of a tensor: (layer name, node index, tensor index)."""
NodeKey = tuple[str, int]


@dataclass(frozen=True)
class Call:
    """One call of a Keras layer: which, its node index on that layer, what it reads."""

    layer: str
    index: int
    reads: tuple[History, ...]
    reverse: bool = False  # a ReversibleEmbedding's `reverse=True` call


class Graph:
    """The calls of a functional spec, each native node as the Keras node it becomes.

    A layer's first call is its node 0, and its later calls (`"call": …`) nodes 1, 2 …
    in graph order, as Keras numbers them when it rebuilds the model from its JSON.
    """

    def __init__(self, spec: FunctionalSpec) -> None:
        self.spec = spec
        self.inputs = [i.name for i in spec.inputs]
        self.calls: dict[str, Call] = {}
        count: Counter[str] = Counter()
        for position in spec.order():
            node = spec.layers[position]
            layer = node.call or node.name
            reads = tuple(self.history(ref) for ref in node.inputs)
            self.calls[node.name] = Call(layer, count[layer], reads, node.reverse)
            count[layer] += 1

    def history(self, ref: str) -> History:
        """The keras_history of a native reference (`"lstm:1"`, an input name …)."""
        name, index = split_ref(ref)
        if name in self.inputs:
            return (name, 0, 0)
        call = self.calls[name]
        return (call.layer, call.index, index)

    def first_call(self, layer: str) -> Call:
        return next(c for c in self.calls.values() if c.layer == layer and c.index == 0)

    def calls_in_order(self) -> list[Call]:
        """Every call, a layer's in node order, in an order where each follows what it reads."""
        return [self.calls[self.spec.layers[i].name] for i in self.spec.order()]

    def layer_order(self) -> list[str]:
        """`model.layers` (inputs included) as Keras's `map_graph` orders them
        (`keras/src/ops/function.py`): by depth from the outputs, deepest first, ties by
        first visit in `_build_map`'s depth-first walk from the outputs."""
        parents: dict[NodeKey, list[NodeKey]] = {(name, 0): [] for name in self.inputs}
        for call in self.calls.values():
            parents[(call.layer, call.index)] = [(h[0], h[1]) for h in call.reads]
        first_visit: dict[str, int] = {}
        finished: set[NodeKey] = set()
        post_order: list[NodeKey] = []
        for ref in self.spec.outputs:  # `_build_map_helper`, without recursion
            root = self.history(ref)[:2]
            if root in finished:
                continue
            first_visit.setdefault(root[0], len(first_visit))
            stack = [(root, iter(parents[root]))]
            while stack:
                node, pending = stack[-1]
                for parent in pending:
                    if parent not in finished:
                        first_visit.setdefault(parent[0], len(first_visit))
                        stack.append((parent, iter(parents[parent])))
                        break
                else:
                    stack.pop()
                    finished.add(node)
                    post_order.append(node)
        node_depth: dict[NodeKey, int] = {}
        layer_depth: dict[str, int] = {}
        for node in reversed(post_order):  # `map_graph`'s depths, as it computes them
            depth = max(node_depth.setdefault(node, 0), layer_depth.get(node[0], 0))
            layer_depth[node[0]] = node_depth[node] = depth
            for parent in parents[node]:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
        return sorted(layer_depth, key=lambda name: (-layer_depth[name], first_visit[name]))


def keras_layer_order(spec: FunctionalSpec) -> list[str]:
    """The names of a functional model's `model.layers` in Keras's order."""
    return Graph(spec).layer_order()
