#include "train/mesh_sim_options.hpp"

#include <algorithm>

#include "core/counted.hpp"
#include "core/error.hpp"
#include "io/deck.hpp"
#include "io/mesh_deck.hpp"
#include "train/device.hpp"
#include "train/family.hpp"

namespace tessera::train {

namespace {

void add_data_and_optimiser_keys(io::Schema& s) {
  using io::KeyType;
  s.section("data", "the dataset (graph-physics layout: <dir>/meta.json and <dir>/<split>.h5)");
  io::Schema::input_path(s.required("data.dir", KeyType::String, "dataset directory"));
  s.add("data.train_split", KeyType::String, "train", "split used for training");
  s.add("data.valid_split", KeyType::String, "valid", "split used for validation");
  s.add("data.max_trajectories", KeyType::Int, "0", "use at most this many trajectories per split; 0: all").min = 0;
  s.add("train.batch", KeyType::Int, "2", "samples (graphs) per step").min = 1;
  s.add("train.lr", KeyType::Float, "1e-3", "peak learning rate (AdamW)").min = 0;
  s.add("train.lr_min", KeyType::Float, "1e-6", "learning rate at the end of the cosine decay").min = 0;
  s.add("train.warmup", KeyType::Int, "1000", "linear warm-up steps").min = 0;
  s.add("train.weight_decay", KeyType::Float, "1e-4", "AdamW weight decay").min = 0;
  auto& b = s.add("train.betas", KeyType::FloatList, "[0.9, 0.95]", "AdamW betas");
  b.list_size = 2;
  b.min = 0;
  b.max = 1;
  b.max_exclusive = true;  // AdamW divides by 1 - beta^t
  s.add("train.clip", KeyType::Float, "1.0", "gradient-norm clipping; 0: off").min = 0;
  s.add("train.noise_std", KeyType::Float, "0.02", "std of Gaussian noise on the input velocity of normal nodes").min =
      0;
  auto& ng = s.add("train.noise_gamma", KeyType::Float, "1",
                   "fraction of the input noise that the target corrects: 1, the target is the true next state (the "
                   "model learns to remove the noise, MeshGraphNets' choice for velocity); 0, the clean increment");
  ng.min = 0;
  ng.max = 1;
  s.add("train.unroll", KeyType::Int, "1",
        "k: steps each sample predicts autoregressively from its input (boundary nodes imposed after each), so "
        "training sees and corrects the model's own errors; 1: next-step training")
      .min = 1;
  s.add("train.unroll_grad", KeyType::Int, "1",
        "loss on the last this many of the k unrolled steps, with gradient through them; the earlier steps run "
        "without gradient (the pushforward trick); at most train.unroll")
      .min = 1;
  s.add("train.unroll_ramp", KeyType::Int, "0",
        "curriculum: the unroll length grows linearly from 1 to train.unroll over this many optimiser steps; 0: "
        "train.unroll from the start")
      .min = 0;
  auto& ud = s.add("train.unroll_discount", KeyType::Float, "1",
                   "weight of the loss steps over the unroll: step j of g weighs discount^(g - j) (normalised); 1: "
                   "equal weights, < 1: the last step weighs most");
  ud.min = 0;
  ud.max = 1;
  auto& pf = s.add("train.pushforward", KeyType::Float, "0",
                   "probability that a sample's input is the model's own prediction from the step before (no "
                   "gradient through it; the pushforward trick), so training sees the model's own errors; 0: off");
  pf.min = 0;
  pf.max = 1;
  io::Schema::input_path(
      s.add("train.init", KeyType::String, "",
            "fine-tuning: a checkpoint of the same model whose weights and normalisers this run starts from, with a "
            "fresh optimiser, schedule and step count (train.resume, when also set, takes precedence)"));
  // Settings that act only through another: set while it leaves them idle, a warning (run_app).
  s.read_only_when("train.init", {{"train.resume", {""}}},
                   "the run continues from train.resume, whose weights a fine-tuning run got from train.init");
  s.read_only_when("train.lr_min", {io::below("train.warmup", "train.steps")}, "the warm-up takes every step");
  s.read_only_when("train.noise_gamma", {io::not_one_of("train.noise_std", {"0"})}, "there is no input noise");
  s.read_only_when("train.unroll_ramp", {io::not_one_of("train.unroll", {"1"})}, "next-step training");
  s.read_only_when("train.unroll_discount", {io::not_one_of("train.unroll_grad", {"1"})}, "the loss is on one step");
  s.add("train.valid_trajectories", KeyType::Int, "2",
        "validation trajectories: the first this many of data.valid_split; the 1-step RMSE is over all of them, the "
        "validation rollout uses the first alone")
      .min = 1;
  s.add("train.rollout_steps", KeyType::Int, "50",
        "steps of the validation rollout, on the first validation trajectory (at most its steps)")
      .min = 1;
  s.add("train.precision", KeyType::Choice, "fp32",
        "fp32, or bf16: mixed precision (autocast runs matrix products in bfloat16; parameters, optimiser state, "
        "normalisers and the loss stay fp32); on GPU, and on CPU too")
      .choices = {"fp32", "bf16"};
  s.add("train.parallel", KeyType::Choice, "data",
        "under mpirun: data (each rank computes whole graphs, samples dealt out round-robin; for many small "
        "meshes) or graph (every graph partitioned over the ranks; for meshes too big for one rank)")
      .choices = {"data", "graph"};
}

void add_model_keys(io::Schema& s, const std::string& family) {
  using io::KeyType;
  s.section("model", "the model family and its size");
  s.add("model.latent", KeyType::Int, "64", "latent width (transformer d; MeshGraphNet latent size)").min = 1;
  s.add("model.layers", KeyType::Int, "4", "transformer blocks, or MeshGraphNet message-passing steps").min = 1;
  s.add("model.bundle", KeyType::Int, "1",
        "temporal bundling: future steps predicted per forward pass, each relative to the input state; a rollout "
        "then calls the model once per this many steps")
      .min = 1;
  if (family == "transformer") {
    s.add("model.heads", KeyType::Int, "4", "attention heads (must divide latent)").min = 1;
    s.add("model.mlp_layers", KeyType::Int, "4", "Linear layers of the encoder/decoder MLPs").min = 2;
    s.add("model.rope", KeyType::Bool, "true",
          "rotary position embedding from node coordinates; without it attention cannot tell neighbours apart by "
          "direction");
    s.add("model.dilation_layers", KeyType::Int, "2",
          "last layers whose second half of heads use the dilated graph (when augment.dilation is on)")
        .min = 0;
  } else {
    s.add("model.hidden_layers", KeyType::Int, "2", "hidden layers of every MLP").min = 1;
  }
}

ModelOptions model_options(const io::Deck& d) {
  ModelOptions o;
  o.family = d.get_string("model.family");
  o.bundle = d.get_int("model.bundle");
  if (o.family == "transformer") {
    gnn::TransformerConfig& c = o.transformer;
    c.latent = d.get_int("model.latent");
    c.layers = d.get_int("model.layers");
    c.heads = d.get_int("model.heads");
    c.mlp_layers = d.get_int32("model.mlp_layers");
    c.rope = d.get_bool("model.rope");
    if (c.latent % c.heads) d.fail("model.heads", cat("must divide model.latent (", c.latent, ")"));
    // Rotary embedding turns pairs of each head's channels by the two coordinates: 4 at least.
    if (c.rope && c.latent / c.heads < 4)
      d.fail("model.heads",
             cat("gives heads of ", core::counted(c.latent / c.heads, "channel", "channels"), " (model.latent ",
                 c.latent, " / ", c.heads, "); rotary position embedding (model.rope) needs at least 4 per head"));
    o.dilation_layers = d.get_int("model.dilation_layers");
    // Checked only where it is read (a dilated graph and several heads): its default 2 refused a
    // 1-layer transformer that has no dilated graph at all.
    const bool dilation_read = d.get_int("augment.dilation") != 0 && c.heads != 1;
    if (dilation_read && o.dilation_layers > c.layers)
      d.fail("model.dilation_layers", cat("exceeds model.layers (", c.layers, ")"));
    o.dilation_layers = std::min(o.dilation_layers, c.layers);
  } else {
    gnn::MeshGraphNetConfig& c = o.meshgraphnet;
    c.latent = d.get_int("model.latent");
    c.steps = d.get_int("model.layers");
    c.hidden_layers = d.get_int32("model.hidden_layers");
  }
  return o;
}

}  // namespace

int64_t UnrollOptions::length_at(int64_t step) const {
  if (ramp <= 0 || step >= ramp) return steps;
  return 1 + (steps - 1) * step / ramp;
}

int64_t UnrollOptions::grad_steps_at(int64_t step) const { return std::min(grad_steps, length_at(step)); }

void add_mesh_sim_keys(io::Schema& s, const std::string& family) {
  add_data_and_optimiser_keys(s);
  add_model_keys(s, family);
  io::add_augment_keys(s);
  // Added once (the condition names the family itself): MeshGraphNet's messages pass over the mesh
  // graph alone, and augmentations set for it changed nothing without a word.
  if (family == "meshgraphnet")
    s.read_only_when("augment", {{"model.family", {"transformer"}}},
                     "MeshGraphNet passes messages over the mesh graph alone");
  if (family == "transformer") {
    s.read_only_when("model.dilation_layers", {io::not_one_of("augment.dilation", {"0"})}, "there is no dilated graph");
    s.read_only_when("model.dilation_layers", {io::not_one_of("model.heads", {"1"})},
                     "with one head every layer attends over the mesh graph");
  }
}

MeshSimOptions mesh_sim_options(const io::Deck& d) {
  MeshSimOptions o;
  // The model first: its errors surface before anything else is checked.
  o.model = model_options(d);
  // MeshGraphNet passes messages over the mesh graph alone: no masks are built for it (its
  // augment keys are idle, a warning), so none of their checks can stop its run.
  if (o.model.family == "transformer") o.augment = io::augment_options(d);
  o.data.dir = d.resolve_path(d.get_string("data.dir"));
  o.data.train_split = d.get_string("data.train_split");
  o.data.valid_split = d.get_string("data.valid_split");
  o.data.max_trajectories = d.get_int("data.max_trajectories");
  OptimOptions& p = o.optim;
  p.steps = d.get_int("train.steps");
  p.batch = d.get_int("train.batch");
  p.lr = d.get_float("train.lr");
  p.lr_min = d.get_float("train.lr_min");
  // The cosine decay would raise the rate instead (as stagger.lr_min's check says).
  if (p.lr_min > p.lr)
    d.fail_pair("train.lr_min", "train.lr", cat("train.lr_min (", p.lr_min, ") must be <= train.lr (", p.lr, ")"));
  p.warmup = d.get_int("train.warmup");
  p.weight_decay = d.get_float("train.weight_decay");
  const auto betas = d.get_floats("train.betas");
  p.betas = {betas[0], betas[1]};
  p.clip = d.get_float("train.clip");
  o.noise_std = d.get_float("train.noise_std");
  o.noise_gamma = d.get_float("train.noise_gamma");
  o.pushforward = d.get_float("train.pushforward");
  UnrollOptions& u = o.unroll;
  u.steps = d.get_int("train.unroll");
  u.grad_steps = d.get_int("train.unroll_grad");
  u.ramp = d.get_int("train.unroll_ramp");
  u.discount = d.get_float("train.unroll_discount");
  if (u.grad_steps > u.steps)
    d.fail_pair("train.unroll_grad", "train.unroll",
                cat("train.unroll_grad (", u.grad_steps, ") exceeds train.unroll (", u.steps, ")"));
  if (u.discount <= 0) d.fail("train.unroll_discount", "must be > 0");
  o.seed = d.get_int("train.seed");
  o.valid_trajectories = d.get_int("train.valid_trajectories");
  o.rollout_steps = d.get_int("train.rollout_steps");
  if (d.has("train.resume")) o.resume = d.resolve_path(d.get_string("train.resume"));
  if (d.has("train.init")) o.init = d.resolve_path(d.get_string("train.init"));
  o.device = read_device(d, "train.device");
  o.precision = d.get_string("train.precision");
  o.graph_parallel = d.get_string("train.parallel") == "graph";
  o.deck_yaml = d.resolved_yaml();
  o.deck_dir = d.base_dir();
  return o;
}

MeshSimOptions mesh_sim_training_options(const io::Deck& d) {
  MeshSimOptions o = mesh_sim_options(d);
  // Refused at every rank count, so that a deck that runs on one process runs under mpirun (one
  // process ignores train.parallel, and this deck failed only from np = 2 on, in the Trainer's
  // own check). Not in mesh_sim_options: checkpoints that such runs wrote still load.
  if (const std::string e = o.unroll_parallel_error(); !e.empty()) d.fail("train.unroll_grad", e);
  return o;
}

}  // namespace tessera::train
