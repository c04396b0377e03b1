"""The model overview graph of a GAN (after GAN Lab, Kahng et al. 2019): what one update of Algorithm 1
uses and where its gradient goes.

The graph's nodes are the latent vector z, the generator G, its samples G(z), the real data x, the
discriminator D, D's output D(·) and the loss (the value function's side that the update descends).
``lighting("D")`` and ``lighting("G")`` say what a D step and a G step light up: the edges their
forward pass uses, the path the gradient takes back from the loss, and the network it changes (and,
in a G step, the one it passes through unchanged). The page draws it (``views/_modes_graph.py``).

    lighting("G").gradient   # (("loss", "prediction"), ("prediction", "D"), ("D", "fake"), ("fake", "G"))
"""

from __future__ import annotations

from dataclasses import dataclass

NODES = ("z", "G", "fake", "real", "D", "prediction", "loss")
Edge = tuple[str, str]
# The forward pass of both networks, in data-flow order: z -> G -> G(z) -> D <- x, D -> D(.) -> loss.
EDGES: tuple[Edge, ...] = (("z", "G"), ("G", "fake"), ("fake", "D"), ("real", "D"), ("D", "prediction"),
                           ("prediction", "loss"))
NETWORKS = ("D", "G")


@dataclass(frozen=True)
class Lighting:
    """What the overview graph lights up for one update (``updated`` None: no update, nothing lit).

    ``forward`` are the edges the update's forward pass runs along; ``gradient`` the edges its gradient
    flows back along, each written in the gradient's direction, from the loss to ``updated``;
    ``frozen`` the network the gradient passes through without changing it."""

    updated: str | None
    forward: tuple[Edge, ...]
    gradient: tuple[Edge, ...]
    frozen: str | None = None


def _back(path: tuple[str, ...]) -> tuple[Edge, ...]:
    """The gradient's edges along ``path`` (loss first)."""
    return tuple(zip(path, path[1:]))


def lighting(update: str | None) -> Lighting:
    """What an update of ``update`` ("D" or "G"; None for none) lights up.

    A D step scores a real and a fake batch (every edge) and its gradient stops at D: G(z) is a fixed
    input there, so G does not learn. A G step scores fake samples only (x is not used) and its
    gradient goes through D, which stays as it is, into G."""
    if update is None:
        return Lighting(None, (), ())
    if update == "D":
        return Lighting("D", EDGES, _back(("loss", "prediction", "D")))
    if update == "G":
        forward = tuple(e for e in EDGES if e != ("real", "D"))
        return Lighting("G", forward, _back(("loss", "prediction", "D", "fake", "G")), frozen="D")
    raise ValueError(f"an update is one of {', '.join(NETWORKS)}, not {update!r}")
