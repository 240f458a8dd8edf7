#pragma once

namespace conclave {
inline constexpr const char* kVersion = "0.1.0";
}
