// SPDX-License-Identifier: MIT
#include "dbus/sdbus/marshal.hpp"

#include <type_traits>

namespace cgspawn::dbus {
namespace {

sdbus::UnixFd to_sdbus(const UnixFd& fd) {
  return sdbus::UnixFd(fd.fd);  // a dup: the caller keeps its own
}
sdbus::Struct<std::string, std::vector<std::string>, bool> to_sdbus(const ExecCommand& c) {
  return {c.path, c.argv, c.ignore_failure};
}
sdbus::Struct<std::string, std::string> to_sdbus(const TemporaryFileSystem& t) {
  return {t.path, t.options};
}
sdbus::Struct<std::string, std::string, bool, std::uint64_t> to_sdbus(const BindPath& b) {
  return {b.source, b.destination, b.ignore_missing, b.flags};
}

// Plain D-Bus types as they are; cgspawn's structs one by one.
sdbus::Variant to_variant(const UnixFd& fd) {
  return sdbus::Variant(to_sdbus(fd));
}
template <typename T>
sdbus::Variant to_variant(const T& value) {
  return sdbus::Variant(value);
}
template <typename T>
sdbus::Variant to_variant(const std::vector<T>& values) {
  if constexpr (std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::string>) {
    return sdbus::Variant(values);
  } else {
    std::vector<decltype(to_sdbus(values.front()))> converted;
    for (const T& value : values) converted.push_back(to_sdbus(value));
    return sdbus::Variant(converted);
  }
}
}  // namespace

std::vector<SdbusProperty> marshal(const UnitProperties& properties) {
  std::vector<SdbusProperty> list;
  list.reserve(properties.size());
  for (const UnitProperty& p : properties)
    list.emplace_back(p.name, std::visit([](const auto& value) { return to_variant(value); }, p.value));
  return list;
}

}  // namespace cgspawn::dbus
