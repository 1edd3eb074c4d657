"""The command line shared by bench_pinn's peer scripts (pinn_torch.py, pinn_deepxde.py): the step
to time (threads, warm-up steps, dtype, problem, grid, network), as bench_pinn passes it."""
import argparse


def parser():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--dtype", choices=["fp32", "fp64"], default="fp32")
    ap.add_argument("--problem", choices=["advection", "burgers"], default="advection")
    ap.add_argument("--nx", type=int, default=256)
    ap.add_argument("--nt", type=int, default=100)
    ap.add_argument("--width", type=int, default=50)
    ap.add_argument("--layers", type=int, default=5)
    return ap
