// Where training and rollouts compute: the device and precision named in a deck (the autocast
// scope itself is gnn/autocast.hpp).
#pragma once
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "core/comm.hpp"

namespace tessera::train {

// "cpu"; "cuda": this rank's GPU, its node-local rank modulo the visible GPUs (so `mpirun` with
// one rank per GPU needs no per-rank setting); "cuda:N"; "auto": cuda where a GPU is visible,
// else cpu. Throws Error saying what is wrong (no GPU, N out of range, unknown name).
// Collective over `comm` for "cuda" and "auto".
c10::Device select_device(const std::string& spec, const Comm& comm);

// Help text of the device keys (train.device, rollout.device), read by read_device (train/family.hpp).
inline constexpr const char* kDeviceKeyHelp =
    "cpu; cuda: this rank's GPU (node-local rank modulo the visible GPUs); cuda:N; auto: cuda where a GPU is "
    "visible, else cpu";

// Checks the form of a device name alone (no GPU query): where the options are read.
void check_device_name(const std::string& spec);

// select_device, with an error carrying `key` (e.g. "train.device") so that the app frame
// locates it in the deck.
c10::Device select_device_for(const std::string& spec, const std::string& key, const Comm& comm);

// The deck's precision name (fp32 or bf16) as the autocast dtype (Float: no autocast).
c10::ScalarType precision_dtype(const std::string& name);

}  // namespace tessera::train
