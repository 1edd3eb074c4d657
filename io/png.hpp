// PNG images without a display: 8-bit RGB pixels written with VTK's PNG writer, atomically; and a
// diverging colour map for plots of signed fields.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::io {

// rgb: width × height × 3 bytes, row-major from the top row. Throws in builds without VTK.
void write_png(const std::string& path, int64_t width, int64_t height, const std::vector<uint8_t>& rgb);
// Blue–white–red: value in [lo, hi] -> RGB (lo blue, middle white, hi red; clamped).
void colormap_rgb(double value, double lo, double hi, uint8_t* rgb);

}  // namespace tessera::io
