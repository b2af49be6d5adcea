// Fuzzes the safetensors reader: any bytes either parse or raise logclf::Error; a parsed file's F32, F16
// and BF16 tensors then convert to F32 with one value per element, and other dtypes refuse with Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "encoder/e5/safetensors.h"
#include "logclf/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logclf::encoder::e5;
  try {
    const SafeTensors st = SafeTensors::parse({reinterpret_cast<const std::byte*>(data), size}, "fuzz.safetensors");
    for (const auto& [name, tensor] : st.tensors()) {
      if (tensor.dtype == DType::other) {
        try {
          tensor.to_f32();
          std::abort();  // must have refused
        } catch (const logclf::Error&) {
        }
        continue;
      }
      if (tensor.to_f32().size() != tensor.elements()) std::abort();
    }
  } catch (const logclf::Error&) {
  }
  return 0;
}
