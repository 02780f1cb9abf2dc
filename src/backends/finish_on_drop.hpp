// A Task dropped before it was finished is destroyed at once, with no grace: nothing it owns
// outlives it. Each backend's destructor calls this (while its own finish() is still theirs).
#pragma once

#include "cgspawn/spawner.hpp"

namespace cgspawn {

// Never throws: a failure is logged, naming the task.
void finish_on_drop(Task& task) noexcept;

}  // namespace cgspawn
