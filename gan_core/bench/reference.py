"""``ReferenceLoop``: the plain PyTorch DCGAN loop that ``Trainer`` is timed against."""

from __future__ import annotations

import torch
from torch import nn

from gan_core.data.datasets import to_float_images


class ReferenceLoop:
    """The plain way to write DCGAN training (pytorch/examples ``dcgan/main.py``), one loop body.

    Same models, initialisation, optimisers, batch and data order as ``Trainer`` for the
    non-saturating loss with k = 1; D sees real and fake batches through ``BCEWithLogitsLoss``, and
    the G step reuses the fake batch made for D (G runs forward once per iteration).
    """

    def __init__(self, config, images: torch.Tensor, device: torch.device) -> None:
        from gan_core.models import build_models

        c = config.resolved()
        self.config, self.device, self.images = c, device, images
        torch.manual_seed(c.seed)
        self.G, self.D = (m.to(device) for m in build_models(c.model_config()))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=c.lr_d, betas=c.betas_d)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=c.lr_g, betas=c.betas_g)
        self.criterion = nn.BCEWithLogitsLoss()
        self.rng = torch.Generator().manual_seed(c.seed)
        self.order, self.cursor = torch.randperm(len(images), generator=self.rng), 0
        self.images_seen = 0

    def step(self) -> dict:
        b = self.config.batch_size
        if self.cursor + b > len(self.order):
            self.order, self.cursor = torch.randperm(len(self.images), generator=self.rng), 0
        real = to_float_images(self.images[self.order[self.cursor:self.cursor + b]].to(self.device))
        self.cursor += b
        self.images_seen += b
        ones, zeros = torch.ones(b, device=self.device), torch.zeros(b, device=self.device)
        # (1) Update D: maximise log D(x) + log(1 - D(G(z)))
        self.D.zero_grad()
        out_real = self.D(real)
        err_real = self.criterion(out_real, ones)
        err_real.backward()
        noise = torch.randn(b, self.config.latent_dim, generator=self.rng).to(self.device)
        fake = self.G(noise)
        out_fake = self.D(fake.detach())
        err_fake = self.criterion(out_fake, zeros)
        err_fake.backward()
        self.opt_d.step()
        # (2) Update G: maximise log D(G(z)), reusing the fake batch
        self.G.zero_grad()
        out = self.D(fake)
        err_g = self.criterion(out, ones)
        err_g.backward()
        self.opt_g.step()
        # the example logs these every iteration
        return {"loss_d": (err_real + err_fake).item(), "loss_g": err_g.item(),
                "d_real": out_real.sigmoid().mean().item(), "d_fake": out_fake.sigmoid().mean().item()}
