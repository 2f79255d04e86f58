#!/usr/bin/env python3
"""Decode + segment + log-mel in NumPy/SciPy, written to be fast: the window read straight from a
memory-mapped WAV, preallocated buffers reused across clips, one rfft over all frames at once,
the float64 power and the mel product as a sparse (CSR) matrix times all frames, power_to_db in
place. The maths is librosa 0.11.0's (Slaney mel basis in float32 weights, ref=max, top_db).
With --librosa, librosa itself (melspectrogram + power_to_db) on the same decoded window.

usage: bench_numpy.py --list files.txt [--librosa] [--dump first.npy]
Loads, warms up (one pass) and prints {"ready": true}; then, for each line "run A B" on stdin, times
files A..B-1 (0-based) and prints one JSON line {"seconds": wall, "cpu_seconds": process CPU}; at the
end of stdin prints {"max_rss_mib": peak RSS} and exits. The caller interleaves these runs with its
own, so that every implementation is timed on the same clips in the same stretch of time.
"""
import argparse, json, os, resource, sys, time, warnings

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
SEG = int(DURATION * SR)  # librosa.load: int() truncation
FRAMES = 1 + SEG // HOP


class TightLogMel:
    """The whole chain on preallocated buffers, for clips of SEG samples."""

    def __init__(self):
        import scipy.sparse

        self.padded = np.zeros(SEG + N_FFT, dtype=np.float32)  # center=True, constant padding
        self.frames = np.empty((FRAMES, N_FFT), dtype=np.float64)
        self.power = np.empty((FRAMES, N_FFT // 2 + 1), dtype=np.float64)
        self.tmp = np.empty_like(self.power)
        self.mel = scipy.sparse.csr_matrix(MEL.astype(np.float64))  # float32 weights, float64 sums
        self.db = np.empty((N_MELS, FRAMES), dtype=np.float64)
        self.out = np.empty((N_MELS, FRAMES), dtype=np.float32)
        s = self.padded.strides[0]
        self.view = np.lib.stride_tricks.as_strided(self.padded, shape=(FRAMES, N_FFT), strides=(HOP * s, s), writeable=False)

    def load(self, path):
        """The 0.5 s + 3 s window of a 16-bit mono WAV, read from a memory map (no full decode)."""
        sr, data = scipy.io.wavfile.read(path, mmap=True)
        if sr != SR:
            raise SystemExit(f"{path}: {sr} Hz (this benchmark expects {SR} Hz)")
        start = int(OFFSET * SR)
        part = data[start : start + SEG]
        if part.ndim == 2:
            part = part.mean(axis=1)
        body = self.padded[N_FFT // 2 : N_FFT // 2 + SEG]
        n = len(part)
        if data.dtype == np.int16:
            np.multiply(part, np.float32(1 / 32768), out=body[:n], casting="unsafe")
        else:
            body[:n] = part
        body[n:] = 0
        return self.padded

    def logmel(self):
        np.multiply(self.view, WINDOW, out=self.frames)
        spec = np.fft.rfft(self.frames, axis=1)
        np.multiply(spec.real, spec.real, out=self.power)
        np.multiply(spec.imag, spec.imag, out=self.tmp)
        self.power += self.tmp
        S = self.mel @ self.power.T  # [n_mels, frames]
        np.maximum(S, AMIN, out=self.db)
        np.log10(self.db, out=self.db)
        self.db *= 10.0
        self.db -= 10.0 * np.log10(max(AMIN, S.max()))
        np.maximum(self.db, self.db.max() - TOP_DB, out=self.db)
        self.out[...] = self.db
        return self.out


def librosa_runner(tight):
    """librosa.feature.melspectrogram + librosa.power_to_db on the same window as the NumPy version
    (decoded by TightLogMel.load, as float32 like librosa.load)."""
    import librosa

    def run(path):
        y = tight.load(path)[N_FFT // 2 : N_FFT // 2 + SEG]
        S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, win_length=WIN, hop_length=HOP, n_mels=N_MELS)
        return librosa.power_to_db(S, ref=np.max, amin=AMIN, top_db=TOP_DB)

    return run


def main():
    warnings.simplefilter("ignore")  # scipy's WavFileWarning on RAVDESS's extra chunks
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--librosa", action="store_true")
    ap.add_argument("--dump")
    a = ap.parse_args()
    files = [l.strip() for l in open(a.list) if l.strip()]
    tight = TightLogMel()
    if a.librosa:
        fn = librosa_runner(tight)
    else:

        def fn(p):
            tight.load(p)
            return tight.logmel()
    if a.dump:
        np.save(a.dump, fn(files[0]).astype(np.float32))
    for p in files:  # warm-up pass (imports, caches, page cache)
        fn(p)
    say = lambda obj: print(json.dumps(obj), flush=True)
    say({"ready": True})
    for line in sys.stdin:
        cmd = line.split()
        if len(cmd) != 3 or cmd[0] != "run":
            raise SystemExit(f"bench_numpy.py: unknown command {line.strip()!r} (expected 'run A B')")
        t0, c0 = time.perf_counter(), time.process_time()
        for p in files[int(cmd[1]) : int(cmd[2])]:
            fn(p)
        say({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0})
    say({"max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})  # KiB on Linux


if __name__ == "__main__":
    main()
