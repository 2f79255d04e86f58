"""PyTorch equivalent of the tfjs network (packages/model/src/core.ts), for a samples/s ratio.

Usage: python3 torch_bench.py '<json: {"cfg": model.*, "n_mels": M, "frames": T}>' batch steps threads
Prints one JSON line. Same structure and sizes: residual blocks (conv3x3-BN-ReLU-conv3x3-BN +
1x1 conv-BN shortcut when channels change), ReLU, pooling, dropout; flatten; dense D (ReLU);
2x4 max pool -> frames as sequence -> linear d_model -> sinusoidal PE -> post-norm encoder layers;
cross-attention (Q from f_cnn); concat; linear 8. Training step: forward + CE + backward + SGD.
`Net` is the one PyTorch definition of the network: torch_gpu_bench.py and torch_parity.py (the
tfjs/PyTorch parity check, which loads the tfjs weights into it) import it from here.
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, c, pool, kind, p):
        super().__init__()
        self.c1 = nn.Conv2d(cin, c, 3, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(c)
        self.sc = nn.Sequential(nn.Conv2d(cin, c, 1, bias=False), nn.BatchNorm2d(c)) if cin != c else nn.Identity()
        self.pool = (nn.MaxPool2d if kind == 'max' else nn.AvgPool2d)(pool, pool)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        return self.drop(self.pool(F.relu(y + self.sc(x))))


class Net(nn.Module):
    def __init__(self, cfg, n_mels, frames):
        super().__init__()
        blocks, cin, m, t = [], 1, n_mels, frames
        ps = tuple(cfg['pool']['size'])
        for c in cfg['channels']:
            blocks.append(Block(cin, c, ps, cfg['pool']['kind'], cfg['dropout']))
            cin, m, t = c, m // ps[0], t // ps[1]
        self.cnn = nn.Sequential(*blocks)
        self.f_cnn = nn.Linear(cin * m * t, cfg['cnn_dim'])
        pm, pt = cfg['transformer_pool']
        self.tr_pool = nn.MaxPool2d((pm, pt), (pm, pt))
        d = cfg['d_model']
        self.proj = nn.Linear(n_mels // pm, d)
        steps = frames // pt
        kind = cfg.get('positional_encoding', 'sinusoidal')
        if kind == 'learned':  # as the tfjs layer: a trainable [T', d] table, N(0, 0.02)
            self.pe = nn.Parameter(torch.randn(steps, d) * 0.02)
        else:  # sinusoidal (fixed) or none (zeros)
            pe = torch.zeros(steps, d)
            if kind == 'sinusoidal':
                pos = torch.arange(steps).unsqueeze(1)
                div = torch.pow(10000.0, torch.arange(0, d, 2) / d)
                pe[:, 0::2] = torch.sin(pos / div)
                pe[:, 1::2] = torch.cos(pos / div)[:, : d // 2]
            self.register_buffer('pe', pe)
        layer = nn.TransformerEncoderLayer(d, cfg['heads'], cfg['ffn_dim'], cfg['transformer_dropout'], batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg['transformer_layers'], enable_nested_tensor=False)
        a = cfg['attention_dim']
        self.wq, self.wk, self.wv = nn.Linear(cfg['cnn_dim'], a), nn.Linear(d, a), nn.Linear(d, a)
        self.a = a
        self.out = nn.Linear(cfg['cnn_dim'] + a, 8)

    def forward(self, x):  # x: [B, M, T], already standardized
        img = x.unsqueeze(1)
        f = F.relu(self.f_cnn(torch.flatten(self.cnn(img), 1)))
        s = self.tr_pool(img).squeeze(1).transpose(1, 2)  # [B, T', M']
        s = self.encoder(self.proj(s) + self.pe)
        q = self.wq(f).unsqueeze(1)
        alpha = torch.softmax(q @ self.wk(s).transpose(1, 2) / math.sqrt(self.a), -1)
        fused = (alpha @ self.wv(s)).squeeze(1)
        return self.out(torch.cat([f, fused], 1))


def main():
    spec = json.loads(sys.argv[1])
    batch, steps, threads = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = Net(spec['cfg'], spec['n_mels'], spec['frames'])
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.8, weight_decay=1e-3)
    x = torch.randn(batch, spec['n_mels'], spec['frames'])
    y = torch.arange(batch) % 8
    net.train()

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    t0 = time.perf_counter()
    step()
    warm = time.perf_counter() - t0
    t1 = time.perf_counter()
    c1 = time.process_time()  # this process's CPU time, all threads: less sensitive to other load
    for _ in range(steps):
        step()
    secs = time.perf_counter() - t1
    cpu_secs = time.process_time() - c1
    print(json.dumps({
        'impl': 'pytorch', 'backend': f'cpu-{threads}t', 'torch': torch.__version__,
        'params': sum(p.numel() for p in net.parameters() if p.requires_grad),
        'batch': batch, 'steps': steps, 'warmupS': round(warm, 2),
        'samplesPerSec': round(batch * steps / secs, 2),
        'samplesPerCpuSec': round(batch * steps / cpu_secs, 2),
        'peakRssMB': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == '__main__':
    main()
