"""PyTorch side of the tfjs/PyTorch parity check (driven by parity.ts; see packages/model/README.md).

Usage: python3 torch_parity.py <dir> [float32|float64]
<dir>/manifest.json (written by parity.ts) names the config, the tfjs weights (raw little-endian
float32 files, by their fixed tfjs names), the scaler, the batches (raw float32 x [B, M, T], int32
y) and the SGD settings. This script loads the tfjs weights into torch_bench.py's Net, applies the
Standardize layer ((x - mean) / scale) before it, runs in the given dtype (default float32;
float64 is a reference: how far float32 PyTorch itself drifts from it is the noise floor) and
writes <dir>/torch-<dtype>.json:
  probs_eval:  softmax of the eval-mode logits of batch 0 with the initial weights
  probs_train: the same in training mode (= the forward of SGD step 1)
  losses:      mean cross-entropy of each free-running SGD step (torch.optim.SGD,
               lr/momentum/weight_decay, F.cross_entropy)
  probs_eval_final: eval-mode softmax of batch 0 after the last step (BN running statistics)
  sync_losses: (float32, when the manifest has `sync`) the loss of step s started from OUR state
               before our step s (weights + BN statistics from sync_w.bin, momentum buffers from
               sync_b.bin): each step compared on its own, without accumulated rounding
and float32 files in tfjs layouts, in the manifest's weight order: <dir>/torch-<dtype>_grads1.bin
(step-1 gradients, trainable weights), <dir>/torch-<dtype>_final.bin (all weights after the last
free-running step), <dir>/torch-float32_sync_w.bin (all weights after each synced step).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_bench import Net  # noqa: E402


def mapping(net, cfg, n_mels, frames):
    """[(tfjs name, torch tensor, row slice or None, kind)], kind = how tfjs's layout maps to torch's:
    copy | linear (Dense kernel [in, out] -> Linear weight [out, in]) | conv (HWIO -> OIHW) |
    flatten (f_cnn: tfjs flattens NHWC as (h, w, c), torch NCHW as (c, h, w))."""
    e = []
    ps = cfg['pool']['size']
    m, t, cin = n_mels, frames, 1
    for i, c in enumerate(cfg['channels']):
        b, p = net.cnn[i], f'block{i + 1}_'
        bns = [('bn1', b.b1), ('bn2', b.b2)]
        e += [(p + 'conv1/kernel', b.c1.weight, None, 'conv'), (p + 'conv2/kernel', b.c2.weight, None, 'conv')]
        if cin != c:
            e.append((p + 'short_conv/kernel', b.sc[0].weight, None, 'conv'))
            bns.append(('short_bn', b.sc[1]))
        for n, bn in bns:
            e += [(p + n + '/gamma', bn.weight, None, 'copy'), (p + n + '/beta', bn.bias, None, 'copy'),
                  (p + n + '/moving_mean', bn.running_mean, None, 'copy'),
                  (p + n + '/moving_variance', bn.running_var, None, 'copy')]
        cin, m, t = c, m // ps[0], t // ps[1]
    e += [('f_cnn/kernel', net.f_cnn.weight, None, ('flatten', m, t, cin)), ('f_cnn/bias', net.f_cnn.bias, None, 'copy'),
          ('tr_project/kernel', net.proj.weight, None, 'linear'), ('tr_project/bias', net.proj.bias, None, 'copy')]
    if cfg['positional_encoding'] == 'learned':
        e.append(('tr_position/table', net.pe, None, 'copy'))
    d = cfg['d_model']
    for i, layer in enumerate(net.encoder.layers):
        p, att = f'enc{i + 1}_', layer.self_attn
        for j, n in enumerate('qkv'):  # in_proj rows [q; k; v]
            sl = slice(j * d, (j + 1) * d)
            e += [(p + 'mhsa/w' + n, att.in_proj_weight, sl, 'linear'), (p + 'mhsa/b' + n, att.in_proj_bias, sl, 'copy')]
        e += [(p + 'mhsa/wo', att.out_proj.weight, None, 'linear'), (p + 'mhsa/bo', att.out_proj.bias, None, 'copy')]
        for n, lin in (('ffn1', layer.linear1), ('ffn2', layer.linear2)):
            e += [(p + n + '/kernel', lin.weight, None, 'linear'), (p + n + '/bias', lin.bias, None, 'copy')]
        for n, ln in (('norm1', layer.norm1), ('norm2', layer.norm2)):
            e += [(p + n + '/gamma', ln.weight, None, 'copy'), (p + n + '/beta', ln.bias, None, 'copy')]
    for n, lin in (('wq', net.wq), ('wk', net.wk), ('wv', net.wv)):
        e += [('cross_attention/' + n, lin.weight, None, 'linear'), ('cross_attention/b' + n[1], lin.bias, None, 'copy')]
    e += [('classifier/kernel', net.out.weight, None, 'linear'), ('classifier/bias', net.out.bias, None, 'copy')]
    return e


def to_torch(kind, a):
    if kind == 'copy':
        return a
    if kind == 'linear':
        return a.T
    if kind == 'conv':
        return a.transpose(3, 2, 0, 1)
    _, h, w, c = kind
    return a.reshape(h, w, c, -1).transpose(3, 2, 0, 1).reshape(-1, c * h * w)


def to_tfjs(kind, a):
    if kind == 'copy':
        return a
    if kind == 'linear':
        return a.T
    if kind == 'conv':
        return a.transpose(2, 3, 1, 0)
    _, h, w, c = kind
    return a.reshape(-1, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)


def main():
    d = sys.argv[1]
    man = json.load(open(os.path.join(d, 'manifest.json')))
    name = sys.argv[2] if len(sys.argv) > 2 else 'float32'
    if name not in ('float32', 'float64'):
        raise SystemExit(f'torch_parity: dtype float32 or float64, got {name}')
    dtype = getattr(torch, name)
    prefix = os.path.join(d, f'torch-{name}')
    torch.set_num_threads(int(man.get('threads', 1)))
    cfg, M, T = man['cfg'], man['n_mels'], man['frames']
    net = Net(cfg, M, T).to(dtype)
    by_name = {n: (ten, sl, kind) for n, ten, sl, kind in mapping(net, cfg, M, T)}
    weights = man['weights']
    trainable = [w for w in weights if w['trainable']]
    names = {w['name'] for w in weights}
    missing = [n for n in by_name if n not in names]
    extra = [n for n in names if n not in by_name and not n.startswith('standardize/')]
    if missing or extra:
        raise SystemExit(f'torch_parity: tfjs weights missing: {missing}; without a torch counterpart: {extra}')
    size = lambda w: int(np.prod(w['shape'], dtype=np.int64))  # noqa: E731

    def split(flat, ws):
        """A flat float32 array -> {name: array of the tfjs shape}, in the order of ws."""
        out, off = {}, 0
        for w in ws:
            out[w['name']] = flat[off:off + size(w)].reshape(w['shape'])
            off += size(w)
        return out

    def read(file, count=None):
        return np.fromfile(os.path.join(d, file), dtype='<f4', count=-1 if count is None else count)

    def set_weights(arrays):
        """tfjs arrays (by name) -> the torch net; checks that every torch parameter is covered."""
        covered = 0
        with torch.no_grad():
            for n, (ten, sl, kind) in by_name.items():
                v = torch.from_numpy(np.ascontiguousarray(to_torch(kind, arrays[n]))).to(dtype)
                dst = ten if sl is None else ten[sl]
                if tuple(dst.shape) != tuple(v.shape):
                    raise SystemExit(f'torch_parity: {n}: torch {tuple(dst.shape)} vs tfjs {tuple(v.shape)}')
                dst.copy_(v)
                if isinstance(ten, torch.nn.Parameter):
                    covered += v.numel()
        n_params = sum(p.numel() for p in net.parameters())
        if covered != n_params:
            raise SystemExit(f'torch_parity: loaded {covered} of {n_params} torch parameters (mapping incomplete)')

    def set_momentum(opt, arrays):
        """tfjs momentum buffers (by name) -> torch.optim.SGD state (same layouts as the weights)."""
        bufs = {}
        for n, (ten, sl, kind) in by_name.items():
            if n not in arrays:
                continue
            b = bufs.setdefault(ten, torch.zeros_like(ten))
            (b if sl is None else b[sl]).copy_(torch.from_numpy(np.ascontiguousarray(to_torch(kind, arrays[n]))).to(dtype))
        for p, b in bufs.items():
            opt.state[p]['momentum_buffer'] = b

    def get_weights(f, grad=False, only_trainable=False):
        """The torch net (or its gradients) in tfjs layouts, float32, in the manifest order -> file f."""
        for w in (trainable if only_trainable else weights):
            if w['name'].startswith('standardize/'):
                a = initial[w['name']]
            else:
                ten, sl, kind = by_name[w['name']]
                t = ten.grad if grad else ten
                a = to_tfjs(kind, (t if sl is None else t[sl]).detach().double().numpy())
            f.write(np.ascontiguousarray(a).astype('<f4').tobytes())

    initial = split(np.concatenate([read(w['file']) for w in weights]), weights)
    set_weights(initial)
    mean = torch.from_numpy(initial['standardize/mean']).to(dtype)
    scale = torch.from_numpy(initial['standardize/scale']).to(dtype)
    B, S = man['batch'], man['steps']
    xs = torch.from_numpy(read(man['x']).reshape(S, B, M, T)).to(dtype)
    ys = torch.from_numpy(np.fromfile(os.path.join(d, man['y']), dtype='<i4').reshape(S, B).astype(np.int64))
    sgd = man['sgd']

    def fwd(x):
        return net((x - mean) / scale)

    def step(opt, s, before_update=None):
        opt.zero_grad()
        logits = fwd(xs[s])
        loss = F.cross_entropy(logits, ys[s])
        loss.backward()
        if before_update:
            before_update(logits.detach())
        opt.step()
        return loss.item()

    def new_opt():
        return torch.optim.SGD(net.parameters(), lr=sgd['lr'], momentum=sgd['momentum'], weight_decay=sgd['weight_decay'])

    out = {'torch': torch.__version__, 'dtype': name}
    net.eval()
    with torch.no_grad():
        out['probs_eval'] = torch.softmax(fwd(xs[0]), -1).flatten().tolist()

    # Free-running: S steps from the initial weights, as training would.
    net.train()
    opt = new_opt()
    losses = []
    def first(logits):  # step 1: its training-mode outputs and gradients
        out['probs_train'] = torch.softmax(logits, -1).flatten().tolist()
        with open(prefix + '_grads1.bin', 'wb') as f:
            get_weights(f, grad=True, only_trainable=True)

    for s in range(S):
        losses.append(step(opt, s, first if s == 0 else None))
    out['losses'] = losses
    net.eval()
    with torch.no_grad():
        out['probs_eval_final'] = torch.softmax(fwd(xs[0]), -1).flatten().tolist()
    with open(prefix + '_final.bin', 'wb') as f:
        get_weights(f)

    # Synced: step s starts from tfjs's weights, BN statistics and momentum buffers before its step
    # s, so float32 rounding cannot accumulate over steps: each step is compared on its own.
    if 'sync' in man and name == 'float32':
        n_all, n_tr = sum(size(w) for w in weights), sum(size(w) for w in trainable)
        sw, sb = read(man['sync']['weights']).reshape(-1, n_all), read(man['sync']['buffers']).reshape(-1, n_tr)
        net.train()
        opt = new_opt()
        sync_losses = []
        with open(prefix + '_sync_w.bin', 'wb') as f:
            for s in range(S):
                set_weights(split(sw[s], weights))
                set_momentum(opt, split(sb[s], trainable))
                sync_losses.append(step(opt, s))
                get_weights(f)
        out['sync_losses'] = sync_losses
    with open(prefix + '.json', 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main()
