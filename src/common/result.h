// The error style of the control path: a function that can fail returns either its value or an
// error value, never throws, and the caller must look (C++20 has no std::expected). The packet
// path does not use this: it drops and counts (see sfu/router.h).
#pragma once

#include <utility>
#include <variant>

namespace conclave::common {

// Either a T or an E. T and E must be different types (each constructor takes one of them).
template <typename T, typename E>
class [[nodiscard]] Result {
 public:
  Result(T value) : mState(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : mState(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return mState.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(mState); }
  const T& value() const& { return std::get<0>(mState); }
  T&& value() && { return std::get<0>(std::move(mState)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const E& error() const { return std::get<1>(mState); }

 private:
  std::variant<T, E> mState;
};

}  // namespace conclave::common
