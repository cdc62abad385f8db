# SPDX-License-Identifier: GPL-3.0-or-later
# train_torch.py: the peer of bench_train: the same flat MusicVAE training step (bidirectional LSTM encoder,
# mu / softplus sigma, reparameterisation, z -> tanh initial state, 2-layer LSTM decoder fed [previous target
# one-hot, z], output projection, softmax cross-entropy + beta * KL, global-norm clip 1.0, Adam) in PyTorch
# (Debian's python3-torch), on random windows, timed the way bench_train times ours.
# Usage: /usr/bin/python3 bench/train_torch.py KIND STEPS THREADS BATCH MODE [Z UE UD L]
#   (Z UE UD L: latent, encoder units, decoder units and layers; default 128 256 256 2, bench_train's default;
#   256 512 256 2 is cat-mel_2bar_small)
#   KIND melody|drums; MODE cell (an LSTMCell loop, step by step as scheduled sampling needs and as ours runs)
#   or seq (nn.LSTM over the whole teacher-forced sequence: the fastest a PyTorch user can write it)
# Prints one JSON line.
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

T, Z, UE, UD, L = 32, 128, 256, 256, 2


class FlatVae(nn.Module):
    def __init__(self, din, d, mode):
        super().__init__()
        self.d, self.mode = d, mode
        self.enc = nn.LSTM(din, UE, bidirectional=True)
        self.mu = nn.Linear(2 * UE, Z)
        self.sigma = nn.Linear(2 * UE, Z)
        self.init = nn.Linear(Z, 2 * L * UD)
        if mode == "cell":
            self.cells = nn.ModuleList(nn.LSTMCell(d + Z if i == 0 else UD, UD) for i in range(L))
        else:
            self.dec = nn.LSTM(d + Z, UD, num_layers=L)
        self.proj = nn.Linear(UD, d)

    def forward(self, x, y, beta, free_nats):
        b = x.shape[1]
        _, (h, _) = self.enc(x)                              # h [2, B, UE]: last fw, last bw
        last = torch.cat([h[0], h[1]], dim=-1)
        mu, sigma = self.mu(last), F.softplus(self.sigma(last))
        z = mu + sigma * torch.randn_like(mu)
        st = torch.tanh(self.init(z)).view(b, L, 2, UD)
        c0, h0 = st[:, :, 0].transpose(0, 1).contiguous(), st[:, :, 1].transpose(0, 1).contiguous()
        prev = torch.zeros(T, b, self.d)
        prev[1:] = F.one_hot(y[:-1], self.d).float()
        inp = torch.cat([prev, z.unsqueeze(0).expand(T, b, Z)], dim=-1)
        if self.mode == "cell":
            hs, cs, tops = list(h0), list(c0), []
            for t in range(T):
                v = inp[t]
                for i, cell in enumerate(self.cells):
                    hs[i], cs[i] = cell(v, (hs[i], cs[i]))
                    v = hs[i]
                tops.append(v)
            top = torch.stack(tops)
        else:
            top, _ = self.dec(inp, (h0, c0))
        logits = self.proj(top)
        ce = F.cross_entropy(logits.view(T * b, self.d), y.view(T * b), reduction="sum") / b
        kl = (-torch.log(sigma) + 0.5 * (mu * mu + sigma * sigma - 1.0)).sum(dim=1)
        kl_cost = torch.clamp(kl - free_nats, min=0.0).mean()
        return ce + beta * kl_cost


def main():
    global Z, UE, UD, L
    kind, steps, threads, batch, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
        sys.argv[5]
    if len(sys.argv) > 9:
        Z, UE, UD, L = (int(v) for v in sys.argv[6:10])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    din, d = (10, 512) if kind == "drums" else (90, 90)
    model = FlatVae(din, d, mode)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    data = torch.randint(0, d, (1024, T))
    t0 = 0.0
    for it in range(-2, steps):
        if it == 0:
            t0 = time.perf_counter()
        y = data[torch.randint(0, 1024, (batch,))].t().contiguous()          # [T, B]
        if kind == "drums":
            x = ((y.unsqueeze(-1) >> torch.arange(9)) & 1).float()
            x = torch.cat([x, (y == 0).float().unsqueeze(-1)], dim=-1)         # 9 classes + "no hit"
        else:
            x = F.one_hot(y, d).float()
        opt.zero_grad(set_to_none=True)
        loss = model(x, y, 0.1, 0.0)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    dt = time.perf_counter() - t0
    sps = steps * batch / dt
    shape = "cat-mel_2bar_small" if (Z, UE, UD, L) == (256, 512, 256, 2) else \
        "default" if (Z, UE, UD, L) == (128, 256, 256, 2) else "custom"
    print(json.dumps({"kind": kind, "shape": shape, "peer": "pytorch " + torch.__version__ + " " + mode, "z": Z, "enc_units": UE,
                      "dec": "%dx%d" % (L, UD), "batch": batch, "threads": threads,
                      "samples_per_s": round(sps, 1), "ms_per_step": round(1e3 * batch / sps, 1)}), flush=True)


if __name__ == "__main__":
    main()
