"""The Eulerian PINN training step of bench_pinn written with DeepXDE (PyTorch backend), the way its
examples write a time-dependent PDE: a GeometryXTime domain, the residual through
dde.grad.jacobian / dde.grad.hessian, the initial condition as dde.icbc.IC, an FNN of tanh layers
50 x 5 with the input map (cos x, sin x, t) as its feature transform, Adam, full batch on the
nx x nt grid given as anchors (its t = 0 row is the initial-condition set). DeepXDE's own loss
(mean squares, initial condition weighted 1000) and Adam without amsgrad: the work per step is
that of tessera's and pinn_torch.py's step, not the same numbers.

    python pinn_deepxde.py --threads 1 --dtype fp32 --problem advection
runs its warm-up steps, then one timed step per request of bench_pinn (bench/peer_protocol.py),
inside DeepXDE's own training loop: a callback waits for the request in on_batch_begin and
answers in on_batch_end (the time between them: data, forward, loss, backward, Adam).
"""
import math
import os
import time

os.environ.setdefault("DDE_BACKEND", "pytorch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import deepxde as dde  # noqa: E402

import peer_protocol  # noqa: E402
import pinn_step_args  # noqa: E402


def main():
    ap = pinn_step_args.parser()
    a = ap.parse_args()
    peer_protocol.start(a)
    dde.config.set_default_float("float64" if a.dtype == "fp64" else "float32")
    dde.config.set_random_seed(0)
    burgers = a.problem == "burgers"
    c, nu = (0.0, 0.01) if burgers else (20.0, 0.0)

    geom = dde.geometry.Interval(0, 2 * math.pi)
    geomtime = dde.geometry.GeometryXTime(geom, dde.geometry.TimeDomain(0, 1))

    def pde(x, y):  # x[:, 0] is x, x[:, 1] is t
        u_x = dde.grad.jacobian(y, x, i=0, j=0)
        u_t = dde.grad.jacobian(y, x, i=0, j=1)
        if burgers:
            return u_t + y * u_x - nu * dde.grad.hessian(y, x, i=0, j=0)
        return u_t + c * u_x

    ic = dde.icbc.IC(geomtime, lambda x: np.sin(x[:, 0:1]), lambda _, on_initial: on_initial)
    x = np.arange(a.nx) * (2 * math.pi / a.nx)
    t = np.linspace(0, 1, a.nt)
    grid = np.stack([np.tile(x, a.nt), np.repeat(t, a.nx)], 1)
    data = dde.data.TimePDE(geomtime, pde, [ic], num_domain=0, num_boundary=0, num_initial=0, anchors=grid)
    net = dde.nn.FNN([3] + [a.width] * a.layers + [1], "tanh", "Glorot normal")
    net.apply_feature_transform(lambda v: torch.cat([torch.cos(v[:, 0:1]), torch.sin(v[:, 0:1]), v[:, 1:2]], 1))
    model = dde.Model(data, net)
    model.compile("adam", lr=1e-2, loss_weights=[1, 1000])

    params = sum(p.numel() for p in net.parameters())

    class Server(dde.callbacks.Callback):
        batches, start = 0, None

        def on_batch_begin(self):
            self.start = None
            if self.batches < a.warmup:
                return
            if self.batches == a.warmup:
                peer_protocol.announce(params)
            if peer_protocol.requested():
                self.start = time.perf_counter()
            else:  # "quit": this batch still runs, untimed, then DeepXDE's loop ends
                self.model.stop_training = True

        def on_batch_end(self):
            self.batches += 1
            if self.start is not None:
                print("ms", 1e3 * (time.perf_counter() - self.start), flush=True)

    model.train(iterations=10**12, display_every=10**12, callbacks=[Server()], verbose=0)


if __name__ == "__main__":
    main()
