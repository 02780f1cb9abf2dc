// The part of a task's Result that says which task it was: the same for every backend.
#pragma once

#include <string>

#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"

namespace cgspawn {

inline Result result_for(const TaskSpec& spec, const std::string& backend) {
  Result result;
  result.id = spec.id;
  result.backend = backend;
  result.argv = spec.argv;
  result.labels = spec.labels;
  return result;
}

}  // namespace cgspawn
