"""Background training for the app: a ``TrainingRun`` runs a ``Trainer`` in its own process.

The run's loop (a thread of that process, never touching Streamlit) calls ``trainer.step()`` and,
between steps, publishes plain data; the page reads ``run.snapshot()`` about once a second::

    run = TrainingRun(TrainConfig(preset="small"), dataset, steps=2000)
    run.start()            # raises RunLimitReached if the server's run slots are taken
    run.snapshot()         # RunSnapshot: status, step, history columns, grids, metrics, warnings
    run.pause(); run.resume(); run.stop()
    run.save_checkpoint()  # safe while training: it waits for the current step to end

One module per concept:

- ``registry``  -- the server-wide run slots (``REGISTRY``, ``RunLimitReached``), the queue for them
  (``QueueTicket``, ``estimated_wait``), runs a browser can take over after a reload, the orphan timeout
- ``pacing``    -- synchronisation and pacing between the training thread and the page
  (``Turnstile``, ``Cadence``)
- ``run``       -- the run's loop (``_Worker``), ``ThreadRun`` that drives it in a thread, and the
  page's handle ``TrainingRun``
- ``process``   -- a run in its own process, the app's end (``ChildRun``): memory limit, lower priority,
  Stop at once, memory returned, a crash that harms nobody else
- ``child``     -- the run's end in that process (``child_main``): trains, answers, publishes, keeps the
  run for its student if the app process dies (``gan_core.rescue``)
- ``channel``   -- the messages between the two ends, and the app's ``Mirror`` of the run's record
- ``snapshot``  -- ``RunSnapshot``, the plain-data state the page reads

The names below are this package's public interface (``from gan_core.worker import TrainingRun``).
"""

from gan_core.worker.registry import (REGISTRY, QueueTicket, RunLimitReached, RunRegistry, WorkerError,
                                     default_orphan_timeout, estimated_wait)
from gan_core.worker.run import RunOptions, TrainingRun, default_run_dir
from gan_core.worker.snapshot import ACTIVE_STATUSES, HISTORY_FIELDS, RunSnapshot

__all__ = ["ACTIVE_STATUSES", "HISTORY_FIELDS", "REGISTRY", "QueueTicket", "RunLimitReached", "RunOptions", "RunRegistry",
           "RunSnapshot", "TrainingRun", "WorkerError", "default_orphan_timeout", "default_run_dir", "estimated_wait"]
