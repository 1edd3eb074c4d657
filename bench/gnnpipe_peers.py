"""GCNII training epochs in other frameworks, for bench/bench_gnnpipe_peers.cpp.

Reads the graph that bench_gnnpipe_peers wrote (--dir: meta.txt and raw little-endian arrays:
directed edges without self loops, features, labels, training nodes), builds the same GCNII
(docs/references.md §6: input layer, `layers` convolutions, output layer; dropout before each),
takes --warmup untimed epochs, then serves timed epochs one at a time (bench/peer_protocol.py).

An epoch is what tessera's GNNPipe engine does in graph mode on one rank: zero_grad, full-graph
forward in training mode (dropout), negative log-likelihood over the training nodes, backward, one
Adam step with the GCNII authors' two weight decays (convolutions, dense layers); fp32, --threads
CPU threads. The normalised adjacency D^-1/2 (A + I) D^-1/2 is built once, before the warm-up,
as both peers' own examples do.

Peers:
  pyg     torch_geometric.nn.GCN2Conv (shared weights, normalize=True, cached=True) on an
          edge_index: PyTorch Geometric's GCNII layer in its default message-passing form
          (gather, scale, scatter), as in its examples/gcn2_cora.py model
  torch   the GCNII authors' model (github.com/chennnM/GCNII, model.py: GraphConvolution with
          torch.spmm on a sparse COO adjacency); needs only torch
"""

import math
import sys

import peer_protocol


def load(d):
    import torch

    meta, arr = peer_protocol.read_dir(d)
    n, e, f = int(meta["nodes"]), int(meta["edges"]), int(meta["features"])

    src = arr("src.i64", e, torch.int64)
    dst = arr("dst.i64", e, torch.int64)
    x = arr("x.f32", n * f, torch.float32).view(n, f)
    y = arr("y.i64", n, torch.int64)
    train = arr("train.i64", int(meta["train"]), torch.int64)
    return src, dst, x, y, train, meta


def normalized_adjacency(src, dst, n):
    """D^-1/2 (A + I) D^-1/2 as a sparse COO tensor, rows = destinations (the authors' form)."""
    import torch

    loops = torch.arange(n)
    rows, cols = torch.cat([dst, loops]), torch.cat([src, loops])
    deg = torch.zeros(n).index_add_(0, rows, torch.ones(rows.numel()))
    w = deg.rsqrt()[rows] * deg.rsqrt()[cols]
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), w, (n, n), check_invariants=False).coalesce()


def torch_model(f, classes, meta, adj):
    import torch
    from torch import nn
    from torch.nn import functional as F

    hidden, layers = int(meta["hidden"]), int(meta["layers"])
    alpha, lam, p = float(meta["alpha"]), float(meta["lambda"]), float(meta["dropout"])

    class GraphConvolution(nn.Module):  # chennnM/GCNII model.py, variant=False, residual=False
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(hidden, hidden))
            stdv = 1.0 / math.sqrt(hidden)
            self.weight.data.uniform_(-stdv, stdv)

        def forward(self, x, adj, h0, lamda, alpha, l):
            theta = math.log(lamda / l + 1)
            hi = torch.spmm(adj, x)
            support = (1 - alpha) * hi + alpha * h0
            return theta * torch.mm(support, self.weight) + (1 - theta) * support

    class Gcnii(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList(GraphConvolution() for _ in range(layers))
            self.fcs = nn.ModuleList([nn.Linear(f, hidden), nn.Linear(hidden, classes)])

        def forward(self, x):
            x = F.dropout(x, p, training=self.training)
            h = h0 = F.relu(self.fcs[0](x))
            for i, conv in enumerate(self.convs):
                h = F.dropout(h, p, training=self.training)
                h = F.relu(conv(h, adj, h0, lam, alpha, i + 1))
            h = F.dropout(h, p, training=self.training)
            return F.log_softmax(self.fcs[-1](h), dim=1)

    model = Gcnii()
    return model, list(model.convs.parameters()), list(model.fcs.parameters())


def pyg_model(f, classes, meta, edge_index):
    from torch import nn
    from torch.nn import functional as F
    from torch_geometric.nn import GCN2Conv

    hidden, layers = int(meta["hidden"]), int(meta["layers"])
    alpha, lam, p = float(meta["alpha"]), float(meta["lambda"]), float(meta["dropout"])

    class Gcnii(nn.Module):  # PyTorch Geometric's examples/gcn2_cora.py
        def __init__(self):
            super().__init__()
            self.lins = nn.ModuleList([nn.Linear(f, hidden), nn.Linear(hidden, classes)])
            self.convs = nn.ModuleList(
                GCN2Conv(hidden, alpha, lam, layer + 1, shared_weights=True, normalize=True, cached=True)
                for layer in range(layers)
            )

        def forward(self, x):
            x = F.dropout(x, p, training=self.training)
            x = x_0 = F.relu(self.lins[0](x))
            for conv in self.convs:
                x = F.dropout(x, p, training=self.training)
                x = F.relu(conv(x, x_0, edge_index))
            x = F.dropout(x, p, training=self.training)
            return F.log_softmax(self.lins[1](x), dim=1)

    model = Gcnii()
    return model, list(model.convs.parameters()), list(model.lins.parameters())


def main():
    a = peer_protocol.parser(["pyg", "torch"]).parse_args()
    peer_protocol.start(a)

    import torch
    from torch.nn import functional as F

    src, dst, x, y, train, meta = load(a.dir)
    n, classes = x.shape[0], int(meta["classes"])
    if a.peer == "torch":
        model, conv, dense = torch_model(x.shape[1], classes, meta, normalized_adjacency(src, dst, n))
    else:
        model, conv, dense = pyg_model(x.shape[1], classes, meta, torch.stack([src, dst]))
    model.train()
    opt = torch.optim.Adam(
        [
            dict(params=conv, weight_decay=float(meta["weight_decay_conv"])),
            dict(params=dense, weight_decay=float(meta["weight_decay_dense"])),
        ],
        lr=float(meta["lr"]),
    )

    def epoch():
        opt.zero_grad()
        F.nll_loss(model(x)[train], y[train]).backward()
        opt.step()

    peer_protocol.serve(epoch, sum(q.numel() for q in model.parameters()), a.warmup)


if __name__ == "__main__":
    sys.exit(main())
