// SPDX-License-Identifier: MIT
// The whole public C++ API of cgspawn.
#pragma once

#include "cgspawn/backends.hpp"
#include "cgspawn/capabilities.hpp"
#include "cgspawn/cleanup_report.hpp"
#include "cgspawn/error.hpp"
#include "cgspawn/json.hpp"
#include "cgspawn/ledger.hpp"
#include "cgspawn/process_spawner.hpp"
#include "cgspawn/recorded_tasks.hpp"
#include "cgspawn/result.hpp"
#include "cgspawn/spawner.hpp"
#include "cgspawn/start.hpp"
#include "cgspawn/task_spec.hpp"
#include "cgspawn/text.hpp"
#include "cgspawn/version.hpp"
#include "cgspawn/wait.hpp"
