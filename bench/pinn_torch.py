"""The Lagrangian PINN training step of tessera (train/pinn/learner.cpp) written the usual PyTorch
way, for bench_pinn: tanh MLP on (cos x, sin x, t), derivatives by torch.autograd.grad with
create_graph (only those the residual reads: no u_xx without viscosity, as tessera's jet; u_t and
u_x of one output from one reverse pass), the loss
of docs/references.md §8, Adam (amsgrad). Full batch on the nx × nt grid.

    python pinn_torch.py --threads 1 --dtype fp32 --formulation lpinn --problem advection
runs its warm-up steps, then one timed step per request of bench_pinn (bench/peer_protocol.py).
"""
import math

import torch

import peer_protocol
import pinn_step_args


def make_net(width, layers, outputs):
    mods = [torch.nn.Linear(3, width), torch.nn.Tanh()]
    for _ in range(layers - 1):
        mods += [torch.nn.Linear(width, width), torch.nn.Tanh()]
    mods.append(torch.nn.Linear(width, outputs))
    return torch.nn.Sequential(*mods)


def main():
    ap = pinn_step_args.parser()
    ap.add_argument("--formulation", choices=["pinn", "lpinn"], default="lpinn")
    a = ap.parse_args()
    peer_protocol.start(a)
    dtype = torch.float64 if a.dtype == "fp64" else torch.float32
    lagrangian = a.formulation == "lpinn"
    net = make_net(a.width, a.layers, 2 if lagrangian else 1).to(dtype)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, amsgrad=True)
    burgers = a.problem == "burgers"
    c, nu = (0.0, 0.01) if burgers else (20.0, 0.0)
    t = torch.linspace(0, 1, a.nt, dtype=dtype)
    x = torch.arange(a.nx, dtype=dtype) * (2 * math.pi / a.nx)
    tt = t.repeat_interleave(a.nx).requires_grad_(True)
    xx = x.repeat(a.nt).requires_grad_(True)
    x0 = x.clone()

    def forward(t_, x_):
        return net(torch.stack([torch.cos(x_), torch.sin(x_), t_], 1))

    def grad(y, v):
        return torch.autograd.grad(y.sum(), v, create_graph=True)[0]

    def step():
        opt.zero_grad()
        out = forward(tt, xx)
        at0 = forward(torch.zeros_like(x0), x0)
        if lagrangian:
            d, u = out[:, 0], out[:, 1]
            d_t = grad(d, tt)
            # The derivatives the residual reads: u_xx (and the u_x it comes from) only with viscosity;
            # u_t and u_x then from one reverse pass.
            if nu != 0:
                u_t, u_x = torch.autograd.grad(u.sum(), (tt, xx), create_graph=True)
                r_u = u_t - nu * grad(u_x, xx)
            else:
                r_u = grad(u, tt)
            r_x = d_t - u if burgers else d_t - c
            loss = (10 * r_x.pow(2).sum().sqrt() + r_u.pow(2).sum().sqrt()
                    + 1000 * (at0[:, 0].pow(2).sum().sqrt() + (at0[:, 1] - torch.sin(x0)).pow(2).sum().sqrt()))
        else:
            u = out[:, 0]
            # u_t and u_x from one reverse pass (the gradient w.r.t. both inputs).
            u_t, u_x = torch.autograd.grad(u.sum(), (tt, xx), create_graph=True)
            transport = u * u_x if burgers else c * u_x
            r = u_t + transport - nu * grad(u_x, xx) if nu != 0 else u_t + transport
            loss = r.pow(2).sum().sqrt() + 1000 * (at0[:, 0] - torch.sin(x0)).pow(2).sum().sqrt()
        loss.backward()
        opt.step()
        return loss.item()

    peer_protocol.serve(step, sum(p.numel() for p in net.parameters()), a.warmup)


if __name__ == "__main__":
    main()
