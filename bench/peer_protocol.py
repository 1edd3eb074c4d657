"""The kept peer process's side of bench/peer_server.hpp, shared by the peers' scripts
(mgn_peers.py, gnnpipe_peers.py, transformer_peers.py, pinn_torch.py, pinn_deepxde.py): after its
untimed warm-up steps it prints

    params <count>
    ready

then runs one timed step per "step" line on its standard input and answers each with
"ms <step time>", until "quit" or the end of its input."""
import sys
import time


def serve(step, params, warmup):
    for _ in range(warmup):
        step()
    announce(params)
    while requested():
        t = time.perf_counter()
        step()
        print("ms", 1e3 * (time.perf_counter() - t), flush=True)


def announce(params):
    """The peer's first two lines, once it has warmed up."""
    print("params", params, flush=True)
    print("ready", flush=True)


def requested():
    """Waits for the bench's next line: True for "step", False for "quit" or the end of input. A
    peer whose steps run inside another loop (DeepXDE's Model.train) calls this itself and prints
    "ms <step time>" after each step."""
    line = sys.stdin.readline()
    return line.strip() == "step"


def parser(peers):
    """The options every peer script takes: --dir (the files its bench wrote), --peer (one of
    `peers`), --threads, --warmup. A script adds its own before parsing."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--peer", required=True, choices=peers)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=2)
    return ap


def start(args):
    """torch with the bench's threads (args.threads) and a fixed seed."""
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)


def read_dir(d):
    """The bench's meta.txt as a dict of strings, and a reader of its raw little-endian arrays:
    arr(name, count, dtype) -> a 1-D tensor."""
    import os

    import torch

    meta = dict(line.split() for line in open(os.path.join(d, "meta.txt")))

    def arr(name, count, dtype):
        return torch.from_file(os.path.join(d, name), shared=False, size=count, dtype=dtype)

    return meta, arr
