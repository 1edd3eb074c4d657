"""MeshGraphNet training steps in other frameworks, for bench/bench_mgn_peers.cpp.

Reads the graph that bench_mgn_peers wrote (--dir: meta.txt and raw little-endian arrays), builds
the same-size MeshGraphNet in the peer framework, takes --warmup untimed steps, then serves timed
steps one at a time to bench_mgn_peers (bench/peer_protocol.py).

A training step is what bench_mgn_peers times on the tessera side: AdamW zero_grad, forward,
mean squared error against a fixed target, backward, AdamW step, fp32, --threads CPU threads.

Peers:
  physicsnemo          physicsnemo.models.meshgraphnet.MeshGraphNet, defaults (concatenated edge
                       MLP inputs), a PyTorch Geometric graph
  physicsnemo-concat   the same with do_concat_trick=True (first edge layer split per node, its
                       gathered sum under torch.compile)
  pyg                  a PyTorch Geometric MessagePassing MeshGraphNet (the common processor-layer
                       form: message = edge MLP on [e, x_i, x_j] + e, sum aggregation, node MLP on
                       [x, aggregated] + x)
  torch                the same layers in plain PyTorch (index_select and index_add_), what a user
                       without a graph library writes; needs only torch
"""

import sys

import peer_protocol


def load(d):
    import torch

    meta, arr = peer_protocol.read_dir(d)
    n, e = int(meta["nodes"]), int(meta["edges"])
    node_in, edge_in, out = int(meta["node_in"]), int(meta["edge_in"]), int(meta["out"])

    src = arr("src.i64", e, torch.int64)
    dst = arr("dst.i64", e, torch.int64)
    x = arr("x.f32", n * node_in, torch.float32).view(n, node_in)
    ef = arr("e.f32", e * edge_in, torch.float32).view(e, edge_in)
    y = arr("y.f32", n * out, torch.float32).view(n, out)
    latent, steps, hidden = int(meta["latent"]), int(meta["steps"]), int(meta["hidden_layers"])
    return src, dst, x, ef, y, latent, steps, hidden


def physicsnemo_model(node_in, edge_in, out, latent, steps, hidden, concat_trick):
    from physicsnemo.models.meshgraphnet import MeshGraphNet

    return MeshGraphNet(
        input_dim_nodes=node_in,
        input_dim_edges=edge_in,
        output_dim=out,
        processor_size=steps,
        mlp_activation_fn="relu",
        num_layers_node_processor=hidden,
        num_layers_edge_processor=hidden,
        hidden_dim_processor=latent,
        hidden_dim_node_encoder=latent,
        num_layers_node_encoder=hidden,
        hidden_dim_edge_encoder=latent,
        num_layers_edge_encoder=hidden,
        hidden_dim_node_decoder=latent,
        num_layers_node_decoder=hidden,
        aggregation="sum",
        do_concat_trick=concat_trick,
    )


def mlp_factory(latent, hidden):
    from torch import nn

    def mlp(i, o, norm):
        layers, w = [], i
        for _ in range(hidden):
            layers += [nn.Linear(w, latent), nn.ReLU()]
            w = latent
        layers.append(nn.Linear(w, o))
        if norm:
            layers.append(nn.LayerNorm(o))
        return nn.Sequential(*layers)

    return mlp


def encode_process_decode(node_in, edge_in, out, latent, steps, hidden, processor):
    """The MeshGraphNet around `processor` (a module class taking (h, g, *graph), returning the new h
    and g): node and edge encoders, `steps` processors, the node decoder."""
    from torch import nn

    mlp = mlp_factory(latent, hidden)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.node_enc = mlp(node_in, latent, True)
            self.edge_enc = mlp(edge_in, latent, True)
            self.proc = nn.ModuleList(processor() for _ in range(steps))
            self.dec = mlp(latent, out, False)

        def forward(self, x, e, *graph):
            h, g = self.node_enc(x), self.edge_enc(e)
            for p in self.proc:
                h, g = p(h, g, *graph)
            return self.dec(h)

    return Net()


def torch_model(node_in, edge_in, out, latent, steps, hidden, src, dst):
    import torch
    from torch import nn

    mlp = mlp_factory(latent, hidden)

    class Processor(nn.Module):
        def __init__(self):
            super().__init__()
            self.edge_mlp = mlp(3 * latent, latent, True)
            self.node_mlp = mlp(2 * latent, latent, True)

        def forward(self, h, g):
            g = g + self.edge_mlp(torch.cat([g, h.index_select(0, src), h.index_select(0, dst)], 1))
            agg = torch.zeros_like(h).index_add_(0, dst, g)
            return h + self.node_mlp(torch.cat([h, agg], 1)), g

    return encode_process_decode(node_in, edge_in, out, latent, steps, hidden, Processor)


def pyg_model(node_in, edge_in, out, latent, steps, hidden):
    import torch
    from torch_geometric.nn import MessagePassing

    mlp = mlp_factory(latent, hidden)

    class Processor(MessagePassing):
        def __init__(self):
            super().__init__(aggr="sum")  # flow source_to_target: aggregate at edge_index[1]
            self.edge_mlp = mlp(3 * latent, latent, True)
            self.node_mlp = mlp(2 * latent, latent, True)

        def forward(self, h, g, edge_index):
            agg = self.propagate(edge_index, x=h, edge_attr=g)
            return h + self.node_mlp(torch.cat([h, agg], 1)), self._edges

        def message(self, x_i, x_j, edge_attr):
            self._edges = edge_attr + self.edge_mlp(torch.cat([edge_attr, x_j, x_i], 1))
            return self._edges

    return encode_process_decode(node_in, edge_in, out, latent, steps, hidden, Processor)


def main():
    ap = peer_protocol.parser(["physicsnemo", "physicsnemo-concat", "pyg", "torch"])
    # PyTorch's fused AdamW kernel (the one tessera's optimiser calls) instead of the default
    # per-tensor loop that PyTorch takes on the CPU.
    ap.add_argument("--fused-adamw", action="store_true")
    a = ap.parse_args()
    peer_protocol.start(a)

    import torch

    src, dst, x, ef, y, latent, steps, hidden = load(a.dir)
    edge_index = torch.stack([src, dst])
    dims = (x.shape[1], ef.shape[1], y.shape[1], latent, steps, hidden)
    if a.peer.startswith("physicsnemo"):
        from torch_geometric.data import Data

        model = physicsnemo_model(*dims, concat_trick=a.peer == "physicsnemo-concat")
        graph = Data(edge_index=edge_index, num_nodes=x.shape[0])
        forward = lambda: model(x, ef, graph)  # noqa: E731
    elif a.peer == "torch":
        model = torch_model(*dims, src, dst)
        forward = lambda: model(x, ef)  # noqa: E731
    else:
        model = pyg_model(*dims)
        forward = lambda: model(x, ef, edge_index)  # noqa: E731
    model.train()
    opt = torch.optim.AdamW(model.parameters(), fused=True) if a.fused_adamw else torch.optim.AdamW(model.parameters())

    def step():
        opt.zero_grad()
        ((forward() - y) ** 2).mean().backward()
        opt.step()

    peer_protocol.serve(step, sum(p.numel() for p in model.parameters()), a.warmup)


if __name__ == "__main__":
    sys.exit(main())
