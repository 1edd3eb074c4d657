// Closing an HDF5 file that a full disk may refuse (H5File::close and its destructor): HDF5 1.10
// cannot recover from a write that fails while it closes a file. Internal to io/.
#pragma once
#include <hdf5.h>

#include <string>

namespace tessera::io::detail {

// H5Fclose, made safe against a full disk where this process writes the file alone (HDF5's sec2
// driver); `refused` is the disk's refusal ("" if none), in which case the file is unfinished
// and the caller's to remove. See h5_close.cpp.
herr_t close_reserved(hid_t file, std::string& refused);

}  // namespace tessera::io::detail
