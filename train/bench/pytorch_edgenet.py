#!/usr/bin/python3
# pytorch_edgenet.py — the PyTorch side of `deepedge bench train`: the same network
# (edgenet-s: 4 x conv3x3 pad 1 + ReLU, 2x2 max-pool after the first three, GAP, FC
# 256->257, 3x64x64, no BN), random data, SGD (momentum 0.9, weight decay 5e-4), median
# of N timed steps after 5 warm-up steps; then forward-only latency at batch 1 and 8.
# usage: /usr/bin/python3 exec/bench/pytorch_edgenet.py [--steps 50] [--threads 1,2] [--batch 8,32,64] [--cuda]
import argparse, statistics, time
import torch
import torch.nn as nn

def edgenet_s():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(256, 257))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", default="8,32,64")
    ap.add_argument("--cuda", action="store_true")
    a = ap.parse_args()
    dev = torch.device("cuda" if a.cuda else "cpu")
    torch.manual_seed(1)
    net = edgenet_s().to(dev)
    nparams = sum(p.numel() for p in net.parameters())
    flops = 2 * (3*32*9*64*64 + 32*64*9*32*32 + 64*128*9*16*16 + 128*256*9*8*8 + 256*257)
    print(f"pytorch {torch.__version__} edgenet-s, {nparams} parameters, forward {flops/1e6:.1f} MFLOP/image, "
          f"training counted as 3x; median of {a.steps} steps after 5 warm-up steps")
    opt = torch.optim.SGD(net.parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    sync = torch.cuda.synchronize if a.cuda else (lambda: None)
    threads = [int(t) for t in a.threads.split(",")] if not a.cuda else [0]
    batches = [int(b) for b in a.batch.split(",")]
    print(f"{'device':8} {'threads':>7} {'batch':>6} {'images/s':>10} {'ms/step':>10} {'GFLOP/s':>9}")
    for th in threads:
        if th:
            torch.set_num_threads(th)
        for b in batches:
            x = torch.randn(b, 3, 64, 64, device=dev)
            y = torch.randint(0, 257, (b,), device=dev)
            ts = []
            for s in range(a.steps + 5):
                sync(); t0 = time.perf_counter()
                opt.zero_grad(set_to_none=True)
                loss_fn(net(x), y).backward()
                opt.step()
                sync(); t = time.perf_counter() - t0
                if s >= 5:
                    ts.append(t)
            m = statistics.median(ts)
            print(f"{dev.type:8} {th:7d} {b:6d} {b/m:10.1f} {1e3*m:10.2f} {3*flops*b/m/1e9:9.1f}", flush=True)
    print(f"\ninference (forward only, eval mode)\n{'device':8} {'threads':>7} {'batch':>6} {'ms':>10} {'images/s':>10}")
    net.eval()
    with torch.no_grad():
        for th in threads:
            if th:
                torch.set_num_threads(th)
            for b in (1, 8):
                x = torch.randn(b, 3, 64, 64, device=dev)
                ts = []
                for s in range(a.steps + 5):
                    sync(); t0 = time.perf_counter()
                    net(x)
                    sync(); t = time.perf_counter() - t0
                    if s >= 5:
                        ts.append(t)
                m = statistics.median(ts)
                print(f"{dev.type:8} {th:7d} {b:6d} {1e3*m:10.2f} {b/m:10.1f}", flush=True)

if __name__ == "__main__":
    main()
