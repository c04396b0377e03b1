"""gan_core.toy.overview: what the model overview graph lights up for a D step and a G step, checked
against what a real 2-D trainer's updates do (which weights change, whether x is drawn)."""

import pytest
import torch

from gan_core.toy.overview import EDGES, NODES, lighting
from gan_core.toy.toy2d_train import Toy2DConfig, Toy2DTrainer


def _is_path_back_from_loss(gradient) -> bool:
    """The gradient's edges form one path from the loss, each the reverse of a forward edge."""
    return (gradient[0][0] == "loss" and all(a[1] == b[0] for a, b in zip(gradient, gradient[1:]))
            and all((b, a) in EDGES for a, b in gradient))


def test_the_graph_is_the_gan_z_to_g_to_d_from_x_to_the_loss():
    assert set(a for a, _ in EDGES) | set(b for _, b in EDGES) == set(NODES)
    assert [b for a, b in EDGES if a == "D"] == ["prediction"]
    assert sorted(a for a, b in EDGES if b == "D") == ["fake", "real"]


def test_a_d_step_uses_every_edge_and_its_gradient_stops_at_d():
    d = lighting("D")
    assert d.updated == "D" and d.frozen is None
    assert set(d.forward) == set(EDGES)
    assert _is_path_back_from_loss(d.gradient) and d.gradient[-1][1] == "D"
    assert not any("G" in edge or "fake" in edge for edge in d.gradient)


def test_a_g_step_leaves_x_out_and_its_gradient_goes_through_d_into_g():
    g = lighting("G")
    assert g.updated == "G" and g.frozen == "D"
    assert ("real", "D") not in g.forward and set(g.forward) == set(EDGES) - {("real", "D")}
    assert _is_path_back_from_loss(g.gradient) and g.gradient[-1][1] == "G"
    assert "D" in {node for edge in g.gradient for node in edge}


def test_no_update_lights_nothing_and_another_name_is_refused():
    none = lighting(None)
    assert none.updated is None and not none.forward and not none.gradient
    with pytest.raises(ValueError, match="one of D, G"):
        lighting("both")


def _weights(net: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in net.parameters()]).clone()


@pytest.mark.parametrize("update", ["D", "G"])
def test_the_lighting_matches_what_an_update_of_a_real_trainer_does(update):
    trainer = Toy2DTrainer(Toy2DConfig(hidden=16, depth=1, batch_size=32))
    drawn = []
    sample_real = trainer.algorithm.sample_real
    trainer.algorithm.sample_real = lambda m: drawn.append(m) or sample_real(m)
    before = {"D": _weights(trainer.D), "G": _weights(trainer.G)}
    (trainer.d_step if update == "D" else trainer.g_step)()
    changed = {net for net, module in (("D", trainer.D), ("G", trainer.G))
               if not torch.equal(before[net], _weights(module))}
    lit = lighting(update)
    assert changed == {lit.updated}  # the frozen D of a G step is unchanged
    assert bool(drawn) == (("real", "D") in lit.forward)  # x is drawn only when the graph says it is used
