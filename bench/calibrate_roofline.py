#!/usr/bin/python3
"""Calibrates the roofline constants of dfgpar's ONNX cost model
(include/dfgpar/onnx/cost_model.hpp, `roofline_defaults`) on this machine.

Runs with PyTorch on ONE intra-op thread (the unit the scheduler hands out):
  peak_gflops    a 3x3 convolution 64->64 channels on 56x56 (oneDNN; the op that
                 dominates CNNs; Debian's torch.mm uses a generic BLAS and is slower,
                 it is printed for reference)
  bandwidth_gbs  torch.add(a, b, out=c) on 64 MiB fp32 tensors (3 x 64 MiB moved)
  overhead_us    torch.add(a, b, out=c) on 1-element tensors (dispatch cost of one op)
Each figure is the best (fastest) of several timed repeats: on a shared
machine other work only ever slows a repeat down. The hand-off constants
(comm_latency_us, comm_bandwidth_gbs) come from bench/calibrate_comm.cpp.

Usage: /usr/bin/python3 bench/calibrate_roofline.py   (prints a load_options::costs snippet)
"""
import time

import torch


def best_time(fn, inner, repeats=9):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return min(times)


def main():
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)

    x = torch.randn(1, 64, 56, 56)
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, bias=False).eval()
    t = best_time(lambda: conv(x), 5)
    peak_gflops = 2 * 64 * 64 * 9 * 56 * 56 / t / 1e9

    n = 512
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    t = best_time(lambda: torch.mm(a, b, out=c), 10)
    mm_gflops = 2 * n**3 / t / 1e9

    m = 16 << 20  # 16 Mi floats = 64 MiB per tensor
    x, y, z = torch.ones(m), torch.ones(m), torch.empty(m)
    t = best_time(lambda: torch.add(x, y, out=z), 3)
    bandwidth_gbs = 3 * 4 * m / t / 1e9

    s1, s2, s3 = torch.ones(1), torch.ones(1), torch.empty(1)
    t = best_time(lambda: torch.add(s1, s2, out=s3), 20000)
    overhead_us = t * 1e6

    print(f"torch {torch.__version__}, 1 intra-op thread")
    print(f"peak_gflops   = {peak_gflops:.1f}   (Conv2d 64->64 3x3 on 56x56; torch.mm {n}x{n}: {mm_gflops:.1f})")
    print(f"bandwidth_gbs = {bandwidth_gbs:.2f}   (torch.add, 3 x 64 MiB)")
    print(f"overhead_us   = {overhead_us:.2f}   (torch.add on 1 element)")
    print("load_options o; o.costs.peak_gflops = %.1f; o.costs.bandwidth_gbs = %.2f; o.costs.overhead_us = %.2f;"
          % (peak_gflops, bandwidth_gbs, overhead_us))


if __name__ == "__main__":
    main()
