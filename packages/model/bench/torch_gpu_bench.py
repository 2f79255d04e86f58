"""The PyTorch twin of the tfjs network (torch_bench.py's Net) timed on a CUDA GPU.

Usage: python3 torch_gpu_bench.py '<json: {"cfg": model.*, "n_mels": M, "frames": T}>' batch steps [device]
Same step as torch_bench.py (forward + CE + backward + SGD momentum 0.8, weight decay 1e-3) in
float32 with PyTorch's default math settings; CUDA is synchronized before each clock read.
Prints one JSON line.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Net  # noqa: E402


def main():
    spec = json.loads(sys.argv[1])
    batch, steps = int(sys.argv[2]), int(sys.argv[3])
    dev = torch.device(sys.argv[4] if len(sys.argv) > 4 else 'cuda')
    torch.manual_seed(1)
    net = Net(spec['cfg'], spec['n_mels'], spec['frames']).to(dev)
    opt = torch.optim.SGD(net.parameters(), lr=0.001, momentum=0.8, weight_decay=1e-3)
    x = torch.randn(batch, spec['n_mels'], spec['frames'], device=dev)
    y = (torch.arange(batch) % 8).to(dev)
    net.train()
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    t0 = time.perf_counter()
    for _ in range(3):
        step()
    sync()
    warm = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    sync()
    secs = time.perf_counter() - t1
    print(json.dumps({
        'impl': 'pytorch', 'backend': dev.type, 'torch': torch.__version__,
        'device': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
        'tf32': {'matmul': torch.backends.cuda.matmul.allow_tf32, 'cudnn': torch.backends.cudnn.allow_tf32} if dev.type == 'cuda' else None,
        'params': sum(p.numel() for p in net.parameters() if p.requires_grad),
        'batch': batch, 'steps': steps, 'warmupS': round(warm, 2), 'lastLoss': round(float(loss.item()), 5),
        'samplesPerSec': round(batch * steps / secs, 2),
        'peakGpuMB': round(torch.cuda.max_memory_allocated(dev) / 2**20) if dev.type == 'cuda' else None,
    }))


if __name__ == '__main__':
    main()
