"""DFG benchmark 2D-2 (Re = 100, vortex shedding; docs/references.md §1) in NGSolve, the peer of
tessera-cfd in bench/bench_cfd_peers.sh: what a user of a Python finite-element library writes for
the case tessera-cfd solves, with tessera's discretisation and time scheme so that the time per
step compares like with like:

- Taylor-Hood P2/P1 on a Netgen mesh of the DFG channel (2.2 x 0.41, cylinder r = 0.05 at
  (0.2, 0.2)) sized like tessera's deck mesh (about 22,000 unknowns; --maxh-cylinder, --maxh);
  the cylinder is curved (order 2, as NGSolve users do), tessera's a 63-sided polygon;
- BDF2 (BDF1 first) with the advecting velocity extrapolated, w = 2u^n - u^(n-1): one linear
  system per step, assembled each step;
- the system solved by a sparse direct factorisation (--inverse, UMFPACK by default; NGSolve's
  wheel has no MUMPS), refreshed every --refactor-every steps and in between by GMRES
  preconditioned with the stale factors to |r| <= 1e-8 |b|, as tessera's default (5 steps);
- c_D and c_L from the momentum residual tested with a function that is 1 on the cylinder (the
  volume form of the surface force), c_D,max, c_L,max and St over t >= --analysis-start with the
  same parabolic peak interpolation as tessera (solvers/signal.cpp).

    python cfd_ngsolve.py --end 5.5 --analysis-start 4.5 --threads 1
prints "mesh <cells> <unknowns>", then one line
    "ngsolve <steps> <seconds of the steps> <c_D,max> <c_L,max> <St> <mean linear iterations>"
(a direct solve counts one, as in tessera's linear_iterations).
"""
import argparse
import math
import os
import time


def peaks(t, y, start):
    """Interior local maxima of y(t) for t >= start, each moved to the vertex of the parabola
    through it and its neighbours (tessera's solvers::find_peaks)."""
    out = []
    for i in range(1, len(y) - 1):
        if t[i] < start or not (y[i] > y[i - 1] and y[i] >= y[i + 1]):
            continue
        h1, h2 = t[i] - t[i - 1], t[i + 1] - t[i]
        d1, d2 = (y[i] - y[i - 1]) / h1, (y[i + 1] - y[i]) / h2
        curv = (d2 - d1) / (h1 + h2)
        p = (t[i], y[i])
        if curv < 0:
            slope = d1 + curv * h1
            dt = -slope / (2 * curv)
            if abs(dt) <= max(h1, h2):
                p = (t[i] + dt, y[i] + slope * dt + curv * dt * dt)
        out.append(p)
    return out


def window_max(t, y, start):
    """The largest of y(t) for t >= start and of its interpolated peaks there (tessera's
    solvers::window_max); None when no t >= start."""
    values = [v for s, v in zip(t, y) if s >= start] + [p[1] for p in peaks(t, y, start)]
    return max(values) if values else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dt", type=float, default=0.005)  # imex needs a smaller one (bench_cfd_peers.sh)
    ap.add_argument("--end", type=float, default=5.5)
    ap.add_argument("--analysis-start", type=float, default=4.5)
    ap.add_argument("--maxh", type=float, default=0.023)
    ap.add_argument("--maxh-cylinder", type=float, default=0.0033)
    ap.add_argument("--refactor-every", type=int, default=5)
    ap.add_argument("--inverse", default="umfpack")
    ap.add_argument("--scheme", choices=["bdf2", "imex"], default="bdf2")
    a = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))

    from netgen.occ import X, Y, OCCGeometry, Rectangle
    import ngsolve as ng
    from ngsolve.krylovspace import GMResSolver

    ng.SetNumThreads(a.threads)
    nu, U_m, D = 1e-3, 1.5, 0.1
    U_mean = 2 * U_m / 3  # the reference velocity of c_D, c_L and St: 1
    shape = Rectangle(2.2, 0.41).Circle(0.2, 0.2, 0.05).Reverse().Face()
    shape.edges.name = "cyl"
    shape.edges.maxh = a.maxh_cylinder
    for side, name in ((shape.edges.Min(X), "inlet"), (shape.edges.Max(X), "outlet"),
                       (shape.edges.Min(Y), "wall"), (shape.edges.Max(Y), "wall")):
        side.name = name
        side.maxh = a.maxh
    mesh = ng.Mesh(OCCGeometry(shape, dim=2).GenerateMesh(maxh=a.maxh, grading=0.2))
    mesh.Curve(2)

    V = ng.VectorH1(mesh, order=2, dirichlet="wall|cyl|inlet")
    Q = ng.H1(mesh, order=1)
    X_ = V * Q
    (u, p), (v, q) = X_.TnT()
    print("mesh", mesh.ne, X_.ndof, flush=True)

    inflow = ng.CoefficientFunction((4 * U_m * ng.y * (0.41 - ng.y) / 0.41**2, 0))
    state, prev, older = ng.GridFunction(X_), ng.GridFunction(X_), ng.GridFunction(X_)
    advecting = ng.GridFunction(V)
    # The test function of the force: 1 (in x or y) on the cylinder's velocity dofs, 0 elsewhere.
    unit = [ng.GridFunction(X_), ng.GridFunction(X_)]
    for k, g in enumerate(unit):
        g.components[0].Set(ng.CoefficientFunction((1, 0) if k == 0 else (0, 1)),
                            definedon=mesh.Boundaries("cyl"))

    # The step's matrix: (a0 / dt) M + Stokes, assembled once per a0 (BDF1, then BDF2), plus the
    # convection (w.grad)u assembled each step into a matrix of the same sparsity and added
    # entry by entry. Right-hand side: the BDF history over dt.
    def constant_part(a0):
        m = ng.BilinearForm(X_)
        m += (a0 / a.dt) * u * v * ng.dx + nu * ng.InnerProduct(ng.grad(u), ng.grad(v)) * ng.dx
        m += (-ng.div(u) * q - ng.div(v) * p) * ng.dx
        return m.Assemble()

    if a.scheme == "bdf2":
        constant = {1.0: constant_part(1.0), 1.5: constant_part(1.5)}
        convection = ng.BilinearForm(X_)
        convection += ng.InnerProduct(ng.grad(u) * advecting, v) * ng.dx
        history = ng.GridFunction(V)
        f = ng.LinearForm(X_)
        f += (1 / a.dt) * ng.InnerProduct(history, v) * ng.dx

    def system(bdf2):
        convection.Assemble()
        convection.mat.AsVector().data += constant[1.5 if bdf2 else 1.0].mat.AsVector()
        history.vec.data = (2 * prev.components[0].vec - 0.5 * older.components[0].vec) if bdf2 else prev.components[0].vec
        f.Assemble()
        return convection, f

    times, c_d, c_l = [], [], []
    factors, iterations = None, 0
    res, rhs, correction, conv_prev = (state.vec.CreateVector() for _ in range(4))

    def step_bdf2(n):
        nonlocal factors, iterations
        bdf2 = n > 1
        advecting.vec.data = (2 * prev.components[0].vec - older.components[0].vec) if bdf2 else prev.components[0].vec
        m, f = system(bdf2)
        # Dirichlet values into the state, the rest from the extrapolated guess (GMRES's start).
        state.vec.data = 2 * prev.vec - older.vec if bdf2 else prev.vec
        state.components[0].Set(inflow, definedon=mesh.Boundaries("inlet"))
        rhs.data = f.vec - m.mat * state.vec
        if factors is None or (n - 1) % a.refactor_every == 0:
            factors = m.mat.Inverse(X_.FreeDofs(), inverse=a.inverse)
            state.vec.data += factors * rhs
            iterations += 1
        else:
            # PETSc's test in tessera: |B r| <= 1e-8 |B b|, B the stale factors, b the full
            # right-hand side; here GMRES corrects the guess (rhs = b - A x0). B b is close to the
            # solution, so |B b| is taken as the guess's norm (an exact |B b| costs one more solve).
            target = 1e-8 * ng.Norm(state.vec)
            gmres = GMResSolver(mat=m.mat, pre=factors, maxiter=200, atol=target, printrates=False)
            correction[:] = 0
            gmres.Solve(rhs=rhs, sol=correction)
            iterations += gmres.iterations
            if gmres.iterations >= 200:  # not converged on stale factors: fresh ones, as tessera retries
                factors = m.mat.Inverse(X_.FreeDofs(), inverse=a.inverse)
                correction.data = factors * rhs
                iterations += 1
            state.vec.data += correction
        res.data = m.mat * state.vec - f.vec  # the momentum residual, for the force

    if a.scheme == "imex":
        # NGSolve's own Navier-Stokes tutorial: the Stokes part implicit, the convection explicit,
        # (M + dt A)(x^(n+1) - x^n) = -dt (A x^n + C(u^n)), M + dt A factorised once (symmetric:
        # NGSolve's sparse LDL^T), the convection applied matrix-free.
        stokes = ng.BilinearForm(X_)
        stokes += nu * ng.InnerProduct(ng.grad(u), ng.grad(v)) * ng.dx + (-ng.div(u) * q - ng.div(v) * p) * ng.dx
        stokes.Assemble()
        mass = ng.BilinearForm(X_)
        mass += u * v * ng.dx
        mass.Assemble()
        mstar = ng.BilinearForm(X_, symmetric=True)
        # (the tutorial's -1e-10 p q gives the LDL^T a non-zero pressure pivot). At dt = 0.001 this
        # scheme blew up at t = 1.15 on the default mesh (explicit convection, h = 0.0033 at the
        # cylinder): bench_cfd_peers.sh runs it at 0.0005.
        mstar += (u * v + a.dt * (nu * ng.InnerProduct(ng.grad(u), ng.grad(v)) - ng.div(u) * q - ng.div(v) * p
                                  - 1e-10 * p * q)) * ng.dx
        mstar.Assemble()
        implicit = mstar.mat.Inverse(X_.FreeDofs(), inverse="sparsecholesky")
        conv = ng.BilinearForm(X_, nonassemble=True)
        conv += ng.InnerProduct(ng.Grad(u) * u, v) * ng.dx
        prev.components[0].Set(inflow, definedon=mesh.Boundaries("inlet"))

    def step_imex(n):
        conv.Apply(prev.vec, conv_prev)
        rhs.data = conv_prev + stokes.mat * prev.vec
        state.vec.data = prev.vec - a.dt * implicit * rhs
        res.data = (1 / a.dt) * (mass.mat * (state.vec - prev.vec)) + stokes.mat * state.vec + conv_prev

    steps = int(round(a.end / a.dt))
    start = time.perf_counter()
    step = step_imex if a.scheme == "imex" else step_bdf2
    for n in range(1, steps + 1):
        step(n)
        # Force on the cylinder: minus the momentum residual tested with the unit functions.
        times.append(n * a.dt)
        c_d.append(-2 / (D * U_mean**2) * ng.InnerProduct(res, unit[0].vec))
        c_l.append(-2 / (D * U_mean**2) * ng.InnerProduct(res, unit[1].vec))
        older.vec.data = prev.vec
        prev.vec.data = state.vec
        if not math.isfinite(c_d[-1]):
            raise SystemExit(f"cfd_ngsolve: non-finite drag at step {n}")
    seconds = time.perf_counter() - start

    d_max, l_max = window_max(times, c_d, a.analysis_start), window_max(times, c_l, a.analysis_start)
    if d_max is None:
        raise SystemExit(f"cfd_ngsolve: no step in the analysis window: --analysis-start {a.analysis_start} is not "
                         f"below --end {a.end}")
    l_peaks = peaks(times, c_l, a.analysis_start)
    st = (len(l_peaks) - 1) / (l_peaks[-1][0] - l_peaks[0][0]) * D / U_mean if len(l_peaks) >= 3 else float("nan")
    print(f"ngsolve {steps} {seconds:.3f} {d_max:.5f} {l_max:.5f} {st:.5f} {iterations / steps:.2f}", flush=True)


if __name__ == "__main__":
    main()
