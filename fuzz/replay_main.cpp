// Replay driver: the fuzz targets built without libFuzzer (the normal GCC build). Every argument
// is a file or a directory whose regular files (not its subdirectories) are each passed once to
// LLVMFuzzerTestOneInput, in sorted order; a missing argument is skipped, so a regression folder
// that does not exist yet costs nothing. ctest runs the seed corpora and tests/data/bad/fuzz this
// way, so inputs that once crashed keep being checked without clang.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& arg) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_regular_file(arg)) {
    files.push_back(arg);
  } else if (std::filesystem::is_directory(arg)) {
    for (const auto& entry : std::filesystem::directory_iterator(arg))
      if (entry.is_regular_file()) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  int count = 0;
  for (int a = 1; a < argc; ++a)
    for (const auto& path : inputs_of(argv[a])) {
      std::ifstream in(path, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // Named before the call: if the input crashes the program, the log says which one it was.
      std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++count;
    }
  std::printf("replayed %d inputs without a finding\n", count);
  return count > 0 ? 0 : 1;  // no inputs at all means the seed paths are wrong
}
