"""Judging a generator: ``classifier`` (the small CNN per dataset the numbers are measured with),
``metrics`` (Fréchet distance, confidence, mode coverage, Inception Score; the toys' mode metrics),
``two_sample`` (the independent judge that needs no labels: a classifier two-sample test, its gallery,
copies and diversity) and ``diagnostics`` (plain-word warnings while a run trains)."""
