"""``python -m gan_core bench``: measure the speed goals and write BENCHMARKS.md.

- ``harness``    what the parts share (``BenchSettings``: presets, batch, A/B rounds; ``--quick`` shrinks
                 them and every part's own ``sizes`` so a test can check the JSON in well under a minute,
                 its numbers mean nothing), what a ``Part`` and a ``Goal`` are, and the timing tools
                 (alternating A/B rounds, FLOP counting, fresh processes)
- ``reference``  ``ReferenceLoop``: the plain PyTorch DCGAN loop the ``Trainer`` is timed against
- ``parts/``     one module per measurement, each with its markdown section and its goals; a new
                 module there is a new part (its docstring says what it measures)
- ``run``        ``run_bench`` (every part in order, the goals), ``markdown``, ``write_markdown``

The command line is ``gan_core.cli.bench``.
"""

from gan_core.bench.harness import BenchContext, BenchSettings, Goal, Part, alternate, paired_ratio
from gan_core.bench.parts import PARTS
from gan_core.bench.reference import ReferenceLoop
from gan_core.bench.run import GOALS, MARK_END, MARK_START, goals, markdown, run_bench, write_markdown

__all__ = ["BenchContext", "BenchSettings", "GOALS", "Goal", "MARK_END", "MARK_START", "PARTS", "Part",
           "ReferenceLoop", "alternate", "goals", "markdown", "paired_ratio", "run_bench", "write_markdown"]
