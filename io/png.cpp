#include "io/png.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace tessera::io {
namespace {

void put32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put32(out, crc32(body));
}

}  // namespace

uint32_t crc32(const std::string& data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string png_bytes(int64_t width, int64_t height, const std::vector<uint8_t>& rgb) {
  if (width < 1 || height < 1 || rgb.size() != static_cast<size_t>(width * height * 3))
    throw Error(cat("PNG: ", rgb.size(), " bytes do not make a ", width, "x", height, " RGB image"));
  // Scanlines with filter type 0.
  std::string raw;
  raw.reserve(static_cast<size_t>(height * (1 + 3 * width)));
  for (int64_t r = 0; r < height; ++r) {
    raw.push_back(0);
    raw.append(reinterpret_cast<const char*>(rgb.data() + r * width * 3), static_cast<size_t>(width * 3));
  }
  // zlib: CMF/FLG, stored deflate blocks of at most 65535 bytes, Adler-32.
  std::string z = {0x78, 0x01};
  for (size_t pos = 0; pos < raw.size() || pos == 0;) {
    const size_t len = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<char>(len & 0xff));
    z.push_back(static_cast<char>(len >> 8));
    z.push_back(static_cast<char>(~len & 0xff));
    z.push_back(static_cast<char>((~len >> 8) & 0xff));
    z.append(raw, pos, len);
    pos += len;
    if (last) break;
  }
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, (b << 16) | a);
  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put32(ihdr, static_cast<uint32_t>(width));
  put32(ihdr, static_cast<uint32_t>(height));
  ihdr += std::string{8, 2, 0, 0, 0};  // 8 bits, RGB, deflate, adaptive filtering, no interlace
  chunk(out, "IHDR", ihdr);
  chunk(out, "IDAT", z);
  chunk(out, "IEND", "");
  return out;
}

void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& rgb) {
  core::write_text_atomic(path, png_bytes(width, height, rgb));
}

void colormap_rgb(double value, double lo, double hi, uint8_t* rgb) {
  double s = hi > lo ? (value - lo) / (hi - lo) : 0.5;
  if (!std::isfinite(s)) s = 0.5;
  s = std::clamp(s, 0.0, 1.0);
  // Blue (59, 76, 192) -> white -> red (180, 4, 38), linear in each half.
  static const double blue[3] = {59, 76, 192}, white[3] = {247, 247, 247}, red[3] = {180, 4, 38};
  const double* a = s < 0.5 ? blue : white;
  const double* b = s < 0.5 ? white : red;
  const double w = s < 0.5 ? 2 * s : 2 * s - 1;
  for (int i = 0; i < 3; ++i) rgb[i] = static_cast<uint8_t>(std::lround((1 - w) * a[i] + w * b[i]));
}

}  // namespace tessera::io
