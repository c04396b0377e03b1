"""Every registry (datasets, model presets, losses) refuses a name that is already taken."""

import dataclasses

import pytest

from gan_core.data.datasets import DATASETS, register_dataset
from gan_core.losses import LOSSES, register_loss
from gan_core.models import PRESETS, register_preset
from gan_core.registry import Registry


@pytest.mark.parametrize("table, register, name, kind", [
    (DATASETS, register_dataset, "mnist5k", "dataset"),
    (PRESETS, register_preset, "tf-tutorial", "model preset"),
    (LOSSES, register_loss, "non-saturating", "loss"),
])
def test_a_second_item_with_a_taken_name_is_refused_and_the_first_kept(table, register, name, kind):
    first = table[name]
    impostor = dataclasses.replace(first, description="a different one")
    with pytest.raises(ValueError, match=f"a {kind} named '{name}' is already registered"):
        register(impostor)
    assert table[name] is first


def test_registering_a_new_name_adds_it_under_that_name():
    @dataclasses.dataclass(frozen=True)
    class Item:
        name: str

    table = Registry("thing")
    a = table.register(Item("a"))
    assert table == {"a": a} and table.register(Item("b")) is table["b"]
    with pytest.raises(ValueError, match="a thing named 'a'"):
        table.register(Item("a"))
