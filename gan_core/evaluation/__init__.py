"""Judging a generator: ``classifier`` (the small CNN per dataset the numbers are measured with),
``metrics`` (Fréchet distance, confidence, mode coverage, Inception Score; the toys' mode metrics) and
``diagnostics`` (plain-word warnings while a run trains)."""
