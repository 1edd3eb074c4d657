"""Graph-transformer mesh simulator training steps in other frameworks, for
bench/bench_transformer_peers.cpp.

Reads the mesh graph that bench_transformer_peers wrote (--dir: meta.txt and raw little-endian
arrays: the mesh's edges and the dilated graph's, node coordinates, inputs, targets), builds the
same model as tessera's gnn::MeshTransformer (docs/references.md §3, the graph-physics
transformer): an MLP encoder (4 Linear layers, SiLU), blocks of x + Attention(RMSNorm(x)) and
x + GatedMLP(RMSNorm(x)) with rotary position embedding from the coordinates, an MLP decoder.
Attention is masked by the mesh: node i attends over the sources of the edges entering it; in the
last `dilated_layers` blocks the second half of the heads attend over the dilated graph instead
(tessera's mask_plan). It takes --warmup untimed steps, then serves timed steps one at a time
(bench/peer_protocol.py).

A training step: AdamW zero_grad, forward, mean squared error against a fixed target, backward,
AdamW step, fp32, --threads CPU threads.

The authors' code (DonsetPG/graph-physics) computes this attention with DGL's sparse matrices;
DGL's wheels on PyPI trail current torch releases, so the peers are the two ways a user writes
mesh-masked attention without it:
  pyg     per-edge scores, torch_geometric.utils.softmax over each node's incoming edges and
          torch_geometric.utils.scatter of the weighted values (PyTorch Geometric's attention
          layers, e.g. TransformerConv, work this way)
  torch   the same in plain PyTorch: scatter_reduce (amax) for the softmax's maximum, exp,
          index_add_ for its sum and for the weighted values; needs only torch
"""

import sys

import peer_protocol


def load(d):
    import torch

    meta, arr = peer_protocol.read_dir(d)
    n, e, ed = int(meta["nodes"]), int(meta["edges"]), int(meta["dilated_edges"])
    node_in, out = int(meta["node_in"]), int(meta["out"])

    graphs = (
        (arr("src.i64", e, torch.int64), arr("dst.i64", e, torch.int64)),
        (arr("dilated_src.i64", ed, torch.int64), arr("dilated_dst.i64", ed, torch.int64)),
    )
    pos = arr("pos.f32", n * 2, torch.float32).view(n, 2)
    x = arr("x.f32", n * node_in, torch.float32).view(n, node_in)
    y = arr("y.f32", n * out, torch.float32).view(n, out)
    return graphs, pos, x, y, meta


def edge_softmax_torch(score, dst, n):
    """Softmax of score [E, H] over the edges entering each node, in plain PyTorch."""
    import torch

    h = score.shape[1]
    mx = torch.full((n, h), float("-inf")).scatter_reduce(0, dst.unsqueeze(1).expand(-1, h), score, "amax")
    ex = (score - mx.index_select(0, dst)).exp()
    den = torch.zeros(n, h).index_add_(0, dst, ex)
    return ex / den.index_select(0, dst)


def make_model(meta, peer):
    import torch
    from torch import nn
    from torch.nn import functional as F

    node_in, out = int(meta["node_in"]), int(meta["out"])
    d, layers, heads = int(meta["latent"]), int(meta["layers"]), int(meta["heads"])
    dilated_layers, rope_scale = int(meta["dilated_layers"]), float(meta["rope_scale"])
    hd = d // heads
    if peer == "pyg":
        from torch_geometric.utils import scatter, softmax

        def attend(q, k, v, src, dst, n):  # q, k, v [N, g, hd]
            score = (q.index_select(0, dst) * k.index_select(0, src)).sum(-1) * hd**-0.5
            alpha = softmax(score, dst, num_nodes=n)
            return scatter(v.index_select(0, src) * alpha.unsqueeze(-1), dst, dim=0, dim_size=n, reduce="sum")

    else:

        def attend(q, k, v, src, dst, n):
            score = (q.index_select(0, dst) * k.index_select(0, src)).sum(-1) * hd**-0.5
            alpha = edge_softmax_torch(score, dst, n)
            return torch.zeros_like(v).index_add_(0, dst, v.index_select(0, src) * alpha.unsqueeze(-1))

    def mlp(i, o):  # tessera's make_mlp(i, d, o, 3, no norm, silu)
        return nn.Sequential(nn.Linear(i, d), nn.SiLU(), nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d), nn.SiLU(),
                             nn.Linear(d, o))

    class RMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight

    class GatedMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = nn.Linear(d, 3 * d, bias=False)
            self.up = nn.Linear(d, 3 * d, bias=False)
            self.down = nn.Linear(3 * d, d, bias=False)

        def forward(self, x):
            return self.down(F.silu(self.gate(x)) * self.up(x))

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)

        def forward(self, x, groups, turn):
            n = x.shape[0]
            q, k, v = self.qkv(x).view(n, 3, heads, hd).unbind(1)
            # Rotary embedding: each consecutive pair of a head's features as a complex number.
            q = torch.view_as_real(torch.view_as_complex(q.reshape(n, heads, hd // 2, 2)) * turn).view(n, heads, hd)
            k = torch.view_as_real(torch.view_as_complex(k.reshape(n, heads, hd // 2, 2)) * turn).view(n, heads, hd)
            outs, h0 = [], 0
            for (src, dst), g in groups:
                outs.append(attend(q[:, h0 : h0 + g], k[:, h0 : h0 + g], v[:, h0 : h0 + g], src, dst, n))
                h0 += g
            return self.proj(torch.cat(outs, 1).reshape(n, d))

    class MeshTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = mlp(node_in, d), mlp(d, out)
            self.norm1 = nn.ModuleList(RMSNorm() for _ in range(layers))
            self.attn = nn.ModuleList(Attention() for _ in range(layers))
            self.norm2 = nn.ModuleList(RMSNorm() for _ in range(layers))
            self.mlp = nn.ModuleList(GatedMLP() for _ in range(layers))

        def forward(self, x, graphs, pos):
            n, pairs = x.shape[0], hd // 4  # rotation pairs per coordinate axis (2 axes)
            freq = rope_scale * torch.pow(10000.0, -torch.arange(pairs, dtype=torch.float32) / pairs)
            theta = (pos.unsqueeze(2) * freq).view(n, 2 * pairs)
            turn = torch.polar(torch.ones_like(theta), theta).view(n, 1, 2 * pairs)
            h = self.encoder(x)
            for l in range(layers):
                dilated = l >= layers - dilated_layers
                groups = [(graphs[0], heads - heads // 2), (graphs[1], heads // 2)] if dilated else [(graphs[0], heads)]
                h = h + self.attn[l](self.norm1[l](h), groups, turn)
                h = h + self.mlp[l](self.norm2[l](h))
            return self.decoder(h)

    return MeshTransformer()


def main():
    a = peer_protocol.parser(["pyg", "torch"]).parse_args()
    peer_protocol.start(a)

    import torch

    graphs, pos, x, y, meta = load(a.dir)
    model = make_model(meta, a.peer)
    model.train()
    opt = torch.optim.AdamW(model.parameters())

    def step():
        opt.zero_grad()
        ((model(x, graphs, pos) - y) ** 2).mean().backward()
        opt.step()

    peer_protocol.serve(step, sum(p.numel() for p in model.parameters()), a.warmup)


if __name__ == "__main__":
    sys.exit(main())
