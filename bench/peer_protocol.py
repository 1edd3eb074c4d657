"""The kept peer process's side of bench/peer_server.hpp, shared by the peers' scripts
(mgn_peers.py, gnnpipe_peers.py, transformer_peers.py): after `warmup` untimed steps it prints

    params <count>
    ready

then runs one timed step per "step" line on its standard input and answers each with
"ms <step time>", until "quit" or the end of its input."""
import sys
import time


def serve(step, params, warmup):
    print("params", params, flush=True)
    for _ in range(warmup):
        step()
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        t = time.perf_counter()
        step()
        print("ms", 1e3 * (time.perf_counter() - t), flush=True)


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
    """torch with the bench's threads and a fixed seed."""
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
