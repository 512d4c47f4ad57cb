"""A layered layout of a directed acyclic graph, as Graphviz's `dot` draws one in
outline: each node on the rank of its longest path from an input, edges that skip ranks
routed through points on the ranks between, nodes ordered within ranks to keep
crossings down and pulled toward the nodes they connect to.

Positions are computed with ranks going down ("TB") and then turned for "LR", "BT"
and "RL".
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]


def _ranks(keys: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    rank = dict.fromkeys(keys, 0)
    parents: dict[str, list[str]] = {k: [] for k in keys}
    for source, target in edges:
        parents[target].append(source)
    done: set[str] = set()

    def visit(key: str) -> int:  # longest path from a node with no parents
        stack = [key]
        while stack:
            top = stack[-1]
            pending = [p for p in parents[top] if p not in done]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if top not in done:
                rank[top] = max((rank[p] + 1 for p in parents[top]), default=0)
                done.add(top)
        return rank[key]

    for key in keys:
        visit(key)
    return rank


def layout(
    keys: Sequence[str],
    edges: Sequence[tuple[str, str]],
    sizes: dict[str, tuple[float, float]],
    rankdir: str,
    scale: float,
) -> tuple[dict[str, Point], list[list[Point]], Point]:
    """Place nodes of `sizes` (width, height) and route `edges`.

    Returns each node's top-left corner, each edge's polyline (ending on the target's
    border), and the drawing's (width, height).
    """
    vertical = rankdir in ("TB", "BT")
    # Each node's (extent across its rank, extent along the flow).
    extent = {k: sizes[k] if vertical else (sizes[k][1], sizes[k][0]) for k in keys}
    rank = _ranks(keys, edges)
    chains: list[list[str]] = []  # each edge as the nodes it passes, dummies included
    for index, (source, target) in enumerate(edges):
        chain = [source]
        for step in range(rank[source] + 1, rank[target]):
            dummy = f"\0{index}:{step}"
            rank[dummy], extent[dummy] = step, (0.0, 0.0)
            chain.append(dummy)
        chains.append([*chain, target])
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for key in [*keys, *(k for k in rank if k not in sizes)]:
        layers[rank[key]].append(key)
    up: dict[str, list[str]] = {k: [] for k in rank}
    down: dict[str, list[str]] = {k: [] for k in rank}
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
    _order(layers, up, down)
    gap = 18 * scale  # Graphviz's nodesep, 0.25 inch
    across = _place(layers, extent, up, down, gap)
    along: dict[str, float] = {}
    bands: list[tuple[float, float]] = []  # each rank's extent along the flow
    position = 10 * scale
    for layer in layers:
        depth = max((extent[k][1] for k in layer), default=0.0)
        for key in layer:
            along[key] = position + (depth - extent[key][1]) / 2
        bands.append((position, position + depth))
        position += depth + 36 * scale  # Graphviz's ranksep, 0.5 inch
    span = max((across[k] + extent[k][0] for k in rank), default=0.0) + gap
    length = position - 36 * scale + 10 * scale

    def corner(key: str) -> Point:
        a, b = across[key], along[key]
        if rankdir in ("BT", "RL"):
            b = length - b - extent[key][1]
        return (a, b) if vertical else (b, a)

    placed = {k: corner(k) for k in keys}
    entries = _entries(chains, across, extent)
    paths = [
        _route(chain, entry, rank, across, along, bands, extent, rankdir, length)
        for chain, entry in zip(chains, entries, strict=True)
    ]
    size = (span, length) if vertical else (length, span)
    return placed, paths, size


def _order(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Barycentre sweeps: each node moves toward the mean position of its neighbours."""
    for sweep in range(4):
        forward = sweep % 2 == 0
        indices = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for i in indices:
            neighbour_layer = layers[i - 1] if forward else layers[i + 1]
            where = {k: n for n, k in enumerate(neighbour_layer)}
            links = up if forward else down
            centres = {}
            for n, key in enumerate(layers[i]):
                found = [where[k] for k in links[key] if k in where]
                centres[key] = sum(found) / len(found) if found else float(n)
            layers[i].sort(key=centres.__getitem__)


def _place(
    layers: list[list[str]],
    extent: dict[str, tuple[float, float]],
    up: dict[str, list[str]],
    down: dict[str, list[str]],
    gap: float,
) -> dict[str, float]:
    """Left edges across the ranks: each node as near the centre of its neighbours as
    the order and the gaps allow."""
    across: dict[str, float] = {}
    for layer in layers:  # packed, to start from
        x = 0.0
        for key in layer:
            across[key] = x
            x += extent[key][0] + gap
    for sweep in range(4):
        links = up if sweep % 2 == 0 else down
        for layer in layers if sweep % 2 == 0 else reversed(layers):
            wanted = []
            for key in layer:
                centres = [across[k] + extent[k][0] / 2 for k in links[key]]
                here = across[key] + extent[key][0] / 2
                wanted.append(sum(centres) / len(centres) if centres else here)
            left = None
            for key, centre in zip(layer, wanted, strict=True):
                x = centre - extent[key][0] / 2
                if left is not None:
                    x = max(x, left)
                across[key] = x
                left = x + extent[key][0] + gap
            # Pushing right may have moved the rank off its targets: shift it back.
            offset = sum(
                w - (across[k] + extent[k][0] / 2) for k, w in zip(layer, wanted, strict=True)
            )
            for key in layer:
                across[key] += offset / max(len(layer), 1)
    low = min(across.values(), default=0.0)
    return {k: x - low + gap for k, x in across.items()}


def _entries(
    chains: list[list[str]], across: dict[str, float], extent: dict[str, tuple[float, float]]
) -> list[float]:
    """Where each edge meets its target: several edges into one node are spread along its
    near side, in the order of where they come from."""
    arrivals: dict[str, list[tuple[float, int]]] = {}
    for index, chain in enumerate(chains):
        before = chain[-2]
        arrivals.setdefault(chain[-1], []).append((across[before] + extent[before][0] / 2, index))
    entries = [0.0] * len(chains)
    for target, found in arrivals.items():
        width = extent[target][0]
        for n, (_, index) in enumerate(sorted(found)):
            entries[index] = across[target] + width * (n + 1) / (len(found) + 1)
    return entries


def _route(
    chain: list[str],
    entry: float,
    rank: dict[str, int],
    across: dict[str, float],
    along: dict[str, float],
    bands: list[tuple[float, float]],
    extent: dict[str, tuple[float, float]],
    rankdir: str,
    length: float,
) -> list[Point]:
    """An edge from the source's far side, straight through the ranks it skips (beside
    their nodes), to the target's near side."""
    source, target = chain[0], chain[-1]
    points = [(across[source] + extent[source][0] / 2, along[source] + extent[source][1])]
    for dummy in chain[1:-1]:
        top, bottom = bands[rank[dummy]]
        points += [(across[dummy], top), (across[dummy], bottom)]
    points.append((entry, along[target]))
    if rankdir in ("BT", "RL"):
        points = [(a, length - b) for a, b in points]
    return points if rankdir in ("TB", "BT") else [(b, a) for a, b in points]


__all__ = ["layout"]
