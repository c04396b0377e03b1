"""Session-state keys that more than one page reads or writes, defined once.

A key used by one page alone is declared, as a constant, by the module of that page that owns it
(e.g. ``views._train_results.SAVED``)."""

TRAIN_RUN = "train_run"  # this browser session's TrainingRun (training page; heartbeaten by app.py; latent page)
OPEN_IN_LATENT = "latent_source"  # the training page asks the latent page to open "run" or "runs:NAME" first
QUEUED = "train_queued"  # (QueueTicket, TrainingRun): a Start waiting for a server slot (any page advances it)
TRAIN_NOTICE = "train_notice"  # (kind, text): a message the training page shows once, on its next run
COMPARE_PAIR = "train_compare_pair"  # the compare view's LivePair: two runs trained side by side (heartbeaten by app.py)
