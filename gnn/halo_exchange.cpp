#include "gnn/halo_exchange.hpp"

#include <ATen/ATen.h>
#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/error.hpp"

namespace tessera::gnn {

// Flat send/receive index lists and per-peer counts, in the layout MPI_Alltoallv wants.
struct HaloExchange::Plan : torch::CustomClassHolder {
  Comm comm;
  int64_t num_local = 0;
  at::Tensor send_idx, recv_idx;              // int64 local row ids, grouped by peer
  std::vector<int64_t> send_rows, recv_rows;  // per peer
  mutable int64_t bytes = 0;

  // Sends `rows_out` (rows grouped by peer, out_rows[p] for peer p); returns the rows received,
  // grouped by peer (in_rows[p] from p).
  at::Tensor alltoall(const at::Tensor& rows_out, const std::vector<int64_t>& out_rows,
                      const std::vector<int64_t>& in_rows) const {
    // Elements per row from the shape, not numel / rows: a rank may send no rows yet receive some.
    int64_t width = 1;
    for (int64_t d = 1; d < rows_out.dim(); ++d) width *= rows_out.size(d);
    std::vector<int64_t> in_shape(rows_out.sizes().begin(), rows_out.sizes().end());
    int64_t total_in = 0;
    for (auto r : in_rows) total_in += r;
    in_shape[0] = total_in;
    at::Tensor in = at::empty(in_shape, rows_out.options());
#if TESSERA_HAVE_MPI
    const int n = comm.size();
    const int64_t esize = rows_out.element_size();
    std::vector<int> sc(n), sd(n), rc(n), rd(n);
    int64_t so = 0, ro = 0;
    for (int p = 0; p < n; ++p) {
      sc[p] = static_cast<int>(out_rows[p] * width * esize);
      rc[p] = static_cast<int>(in_rows[p] * width * esize);
      sd[p] = static_cast<int>(so);
      rd[p] = static_cast<int>(ro);
      so += sc[p];
      ro += rc[p];
    }
    bytes = so;
    at::Tensor out = rows_out.contiguous();
    MPI_Alltoallv(out.data_ptr(), sc.data(), sd.data(), MPI_BYTE, in.data_ptr(), rc.data(), rd.data(), MPI_BYTE,
                  comm.mpi());
#endif
    return in;
  }
};

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Exchange : torch::autograd::Function<Exchange> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, c10::intrusive_ptr<HaloExchange::Plan> plan) {
    ctx->saved_data["plan"] = c10::IValue::make_capsule(plan);
    const auto& p = *plan;
    // MPI moves host memory: device tensors are staged through the host (plan indices live there).
    at::Tensor out = x.to(x.options().device(at::kCPU), /*non_blocking=*/false, /*copy=*/true);
    at::Tensor received = p.alltoall(out.index_select(0, p.send_idx), p.send_rows, p.recv_rows);
    out.index_copy_(0, p.recv_idx, received);
    return out.to(x.device());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad) {
    auto holder = ctx->saved_data["plan"].toCapsule();
    const auto& p = *static_cast<HaloExchange::Plan*>(holder.get());
    at::Tensor g = grad[0].to(grad[0].options().device(at::kCPU), /*non_blocking=*/false, /*copy=*/true);
    // Halo rows' gradients go back to their owners; the halo inputs themselves did not
    // influence the output (it overwrote them).
    at::Tensor back = p.alltoall(g.index_select(0, p.recv_idx), p.recv_rows, p.send_rows);
    g.index_fill_(0, p.recv_idx, 0);
    g.index_add_(0, p.send_idx, back);
    return {g.to(grad[0].device()), {}};
  }
};

}  // namespace

HaloExchange::HaloExchange(const mesh::LocalGraph& l, const Comm& comm) : plan_(c10::make_intrusive<Plan>()) {
  if (l.parts != comm.size())
    throw Error(
        cat("halo exchange: the partition has ", l.parts, " parts but the communicator ", comm.size(), " ranks"));
  Plan& p = *plan_;
  p.comm = comm;
  p.num_local = l.num_local();
  std::vector<int64_t> s, r;
  for (int q = 0; q < l.parts; ++q) {
    s.insert(s.end(), l.send[q].begin(), l.send[q].end());
    r.insert(r.end(), l.recv[q].begin(), l.recv[q].end());
    p.send_rows.push_back(static_cast<int64_t>(l.send[q].size()));
    p.recv_rows.push_back(static_cast<int64_t>(l.recv[q].size()));
  }
  p.send_idx = at::tensor(at::ArrayRef<int64_t>(s), at::kLong);
  p.recv_idx = at::tensor(at::ArrayRef<int64_t>(r), at::kLong);
}

HaloExchange::HaloExchange(const HaloExchange&) = default;
HaloExchange& HaloExchange::operator=(const HaloExchange&) = default;
HaloExchange::~HaloExchange() = default;

at::Tensor HaloExchange::operator()(const at::Tensor& x) const {
  if (x.size(0) != plan_->num_local)
    throw Error(cat("halo exchange: ", x.size(0), " rows for ", plan_->num_local, " local nodes"));
  if (plan_->comm.size() == 1) return x;
  return Exchange::apply(x, plan_);
}

int64_t HaloExchange::bytes_last() const { return plan_->bytes; }

}  // namespace tessera::gnn
