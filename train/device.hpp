// Where training and rollouts compute: the device and precision named in a deck (the autocast
// scope itself is gnn/autocast.hpp).
#pragma once
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "io/deck.hpp"
#include "mesh/comm.hpp"

namespace tessera::train {

// "cpu"; "cuda": this rank's GPU, its node-local rank modulo the visible GPUs (so `mpirun` with
// one rank per GPU needs no per-rank setting); "cuda:N"; "auto": cuda where a GPU is visible,
// else cpu. Throws Error saying what is wrong (no GPU, N out of range, unknown name).
// Collective over `comm` for "cuda" and "auto".
c10::Device select_device(const std::string& spec, const Comm& comm);

// Help text of a deck key read by device_from_deck.
inline constexpr const char* kDeviceKeyHelp =
    "cpu; cuda: this rank's GPU (node-local rank modulo the visible GPUs); cuda:N; auto: cuda where a GPU is "
    "visible, else cpu";

// select_device for the deck's `key`; a bad value fails naming the deck and key.
c10::Device device_from_deck(const io::Deck& deck, const std::string& key, const Comm& comm);

// The deck's precision name (fp32 or bf16) as the autocast dtype (Float: no autocast).
c10::ScalarType precision_dtype(const std::string& name);

}  // namespace tessera::train
