#include "core/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/progress.hpp"

namespace tessera::core {

void log_info(spdlog::logger* log, const std::string& message) {
  if (log) log->info("{}", message);
}
void log_warn(spdlog::logger* log, const std::string& message) {
  if (log) log->warn("{}", message);
}
std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4e", x);
  return buf;
}

std::string sig3(double x) {
  char buf[32];
  // Three significant digits, but never an exponent for a whole number of four or more digits.
  std::snprintf(buf, sizeof buf, std::abs(x) >= 1000 && std::abs(x) < 1e15 ? "%.0f" : "%.3g", x);
  return buf;
}

std::string sci_ratio(double error, double baseline) {
  return baseline == 0 ? std::string("undefined") : sci(error / baseline);
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const Comm& comm, const LogOptions& o) {
  std::vector<spdlog::sink_ptr> sinks;
  if (comm.root()) {
    // Colour only on a terminal of our own (not through an MPI launcher into a pipe or file).
    auto console = std::make_shared<spdlog::sinks::stdout_color_sink_mt>(
        Progress::is_terminal() ? spdlog::color_mode::automatic : spdlog::color_mode::never);
    console->set_pattern("[%n] %^%l%$: %v");
    sinks.push_back(console);
  }
  if (!o.rank_dir.empty()) {
    // Errors name the flag: "/proc/nope: cannot create directories" left the reader to guess.
    const std::string path = cat(o.rank_dir, "/", name, ".rank", comm.rank(), ".log");
    std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file;
    try {
      std::filesystem::create_directories(o.rank_dir);
      file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, true);
    } catch (const std::filesystem::filesystem_error& e) {
      throw Error(cat("--log-dir ", o.rank_dir, ": cannot create the folder: ", e.code().message()));
    } catch (const spdlog::spdlog_ex&) {
      throw Error(cat("--log-dir ", o.rank_dir, ": cannot write the log file ", path));
    }
    file->set_pattern("%Y-%m-%d %H:%M:%S.%e [%n rank " + std::to_string(comm.rank()) + "] %l: %v");
    sinks.push_back(file);
  }
  auto logger = std::make_shared<spdlog::logger>(name, sinks.begin(), sinks.end());
  auto level = spdlog::level::from_str(o.level);
  if (level == spdlog::level::off && o.level != "off")
    throw Error(cat("log level '", o.level, "': expected trace, debug, info, warn, error or off"));
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  return logger;
}

}  // namespace tessera::core
