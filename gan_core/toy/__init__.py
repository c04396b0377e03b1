"""Toy GANs whose theory can be computed exactly: ``toy_gan`` (what the two toy trainers share: two small
MLPs trained by ``gan_core.algorithm1``, counters, one bounded history, Play's updates, live settings);
``toy1d`` (the densities, D*, V(D*, G), JSD and KL of
Goodfellow et al. 2014 section 4 on the real line) and ``toy1d_train`` (a real 1-D ``ToyGAN``, with the page's presets and Figure 1's panel checks); ``toy2d`` (the 2-D targets of the mode-collapse
literature, a user's own points from a CSV, and KL / Jensen-Shannon estimated from samples with an error bar) and ``toy2d_train`` (a 2-D ``ToyGAN``
with any registered loss, measured by those estimators); ``optimizers``
(the optimisers both toys offer, one table); ``overview`` (the model overview graph: what a D step
and a G step light up); ``toy2d_compare`` (two 2-D runs one setting apart, side by side)."""
