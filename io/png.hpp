// PNG images without a display or an image library: 8-bit RGB, zlib stream of stored (uncompressed)
// deflate blocks, CRC-32 and Adler-32 as the PNG specification (ISO/IEC 15948) defines them; and a
// diverging colour map for plots of signed fields. Written atomically.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

// rgb: width × height × 3 bytes, row-major from the top row.
void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& rgb);
// The PNG file's bytes (what write_png writes).
std::string png_bytes(int64_t width, int64_t height, const std::vector<uint8_t>& rgb);
// CRC-32 (ISO 3309, the PNG/zlib polynomial) of `data`.
uint32_t crc32(const std::string& data);
// Blue–white–red: value in [lo, hi] -> RGB (lo blue, middle white, hi red; clamped).
void colormap_rgb(double value, double lo, double hi, uint8_t* rgb);

}  // namespace tessera::io
