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
