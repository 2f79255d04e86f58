#!/usr/bin/env python3
"""Decode + segment + log-mel with NumPy/SciPy, the same maths and dtypes as librosa 0.11.0
(librosa.load -> float32; stft: float64 window * float32 frames -> rfft -> complex64;
|S|**2 float32; float32 Slaney mel basis; power_to_db). With --librosa, librosa itself.

usage: bench_numpy.py --list files.txt --repeats 5 [--librosa] [--dump first.npy]
Prints one JSON line: {"impl", "clips", "seconds": [wall, per repeat], "cpu_seconds": [process CPU]}.
"""
import argparse, json, os, sys, time

import numpy as np
import scipy.io.wavfile
import scipy.signal

SR, OFFSET, DURATION = 48000, 0.5, 3.0
N_FFT, WIN, HOP, N_MELS = 1024, 512, 256, 128
AMIN, TOP_DB = 1e-10, 80.0


def hz_to_mel(f):
    f = np.asanyarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep, f / f_sp)


def mel_to_hz(m):
    m = np.asanyarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_basis(sr=SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=None):
    """librosa.filters.mel(htk=False, norm='slaney', dtype=float32)."""
    fmax = sr / 2 if fmax is None else fmax
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fftfreqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


WINDOW = np.zeros(N_FFT)
WINDOW[(N_FFT - WIN) // 2 : (N_FFT - WIN) // 2 + WIN] = scipy.signal.get_window("hann", WIN, fftbins=True)
MEL = mel_basis()


def load_segment(path):
    """librosa.load(path, sr=48000, offset=0.5, duration=3.0) + zero-pad to 3 s."""
    sr, data = scipy.io.wavfile.read(path)
    if sr != SR:
        raise SystemExit(f"{path}: {sr} Hz (this benchmark expects {SR} Hz)")
    y = data.astype(np.float32) / 32768.0 if data.dtype == np.int16 else data.astype(np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    start, n = int(OFFSET * SR), int(DURATION * SR)  # librosa.load: int() truncation
    seg = np.zeros(n, dtype=np.float32)
    part = y[start : start + n]
    seg[: len(part)] = part
    return seg


def logmel_numpy(y):
    yp = np.pad(y, N_FFT // 2, mode="constant")
    n_frames = 1 + (len(yp) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(yp, shape=(N_FFT, n_frames), strides=(yp.strides[0], HOP * yp.strides[0]))
    stft = np.fft.rfft(WINDOW[:, None] * frames, axis=0).astype(np.complex64)
    power = np.abs(stft) ** 2
    S = MEL @ power
    log_spec = 10.0 * np.log10(np.maximum(AMIN, S))
    log_spec -= 10.0 * np.log10(np.maximum(AMIN, S.max()))
    return np.maximum(log_spec, log_spec.max() - TOP_DB)


def run_librosa(path):
    import librosa

    y, _ = librosa.load(path, sr=SR, offset=OFFSET, duration=DURATION)
    y = librosa.util.fix_length(y, size=int(DURATION * SR))
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, win_length=WIN, hop_length=HOP, n_mels=N_MELS)
    return librosa.power_to_db(S, ref=np.max, amin=AMIN, top_db=TOP_DB)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--librosa", action="store_true")
    ap.add_argument("--dump")
    a = ap.parse_args()
    files = [l.strip() for l in open(a.list) if l.strip()]
    fn = run_librosa if a.librosa else (lambda p: logmel_numpy(load_segment(p)))
    if a.dump:
        np.save(a.dump, fn(files[0]).astype(np.float32))
    fn(files[0])  # warm-up (imports, caches)
    secs, cpu = [], []
    for _ in range(a.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for p in files:
            fn(p)
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(json.dumps({"impl": "librosa" if a.librosa else "numpy", "clips": len(files), "seconds": secs, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main()
