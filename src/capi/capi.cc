// SPDX-License-Identifier: MIT
// The C ABI (include/cgspawn/cgspawn.h) over the C++ API: every exception becomes a status and
// a per-thread message here, and nothing of C++ crosses.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cgspawn/cgspawn.h"
#include "cgspawn/cgspawn.hpp"
#include "report/json_codec.hpp"
#include "supervisor/start_request.hpp"

struct cgspawn_task {
  std::unique_ptr<cgspawn::Task> task;
  cgspawn::TaskSpec spec;
};

namespace {

using nlohmann::json;

thread_local std::string last_error;

int fail(int status, const std::string& message) {
  last_error = message;
  return status;
}

int status_of(cgspawn::ErrorKind kind) {
  switch (kind) {
    case cgspawn::ErrorKind::invalid_argument:
      return CGSPAWN_INVALID_ARGUMENT;
    case cgspawn::ErrorKind::unsupported:
      return CGSPAWN_UNSUPPORTED;
    case cgspawn::ErrorKind::not_found:
      return CGSPAWN_NOT_FOUND;
    case cgspawn::ErrorKind::unknown_task:
      return CGSPAWN_UNKNOWN_TASK;
    case cgspawn::ErrorKind::not_executable:
      return CGSPAWN_NOT_EXECUTABLE;
    case cgspawn::ErrorKind::system:
      return CGSPAWN_SYSTEM;
  }
  return CGSPAWN_SYSTEM;
}

// Runs `body`, turning every exception into a status and the thread's message.
template <typename F>
int guarded(F&& body) {
  try {
    last_error.clear();
    body();
    return CGSPAWN_OK;
  } catch (const cgspawn::Error& e) {
    return fail(status_of(e.kind()), e.what());
  } catch (const json::exception& e) {
    return fail(CGSPAWN_INVALID_ARGUMENT, std::string("malformed JSON: ") + e.what());
  } catch (const std::exception& e) {
    return fail(CGSPAWN_SYSTEM, e.what());
  } catch (...) {
    return fail(CGSPAWN_SYSTEM, "unknown error");
  }
}

// A string the caller releases with cgspawn_free().
char* handed_out(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

void require(const void* pointer, const char* what) {
  if (!pointer) throw cgspawn::Error(cgspawn::ErrorKind::invalid_argument, std::string(what) + " is NULL");
}

std::shared_ptr<const cgspawn::Ledger> ledger_at(const char* state_dir) {
  std::string dir = state_dir && *state_dir ? state_dir : cgspawn::Ledger::default_dir();
  return std::make_shared<const cgspawn::Ledger>(dir);
}

cgspawn::DestroyOptions destroy_options(double grace_seconds) {
  if (!(grace_seconds >= 0) || !std::isfinite(grace_seconds))
    throw cgspawn::Error(cgspawn::ErrorKind::invalid_argument, "grace_seconds must be a number >= 0");
  cgspawn::DestroyOptions options;
  options.grace = std::chrono::duration_cast<cgspawn::Duration>(std::chrono::duration<double>(grace_seconds));
  return options;
}

std::map<std::string, std::string> labels_from(const char* labels_json) {
  if (!labels_json || !*labels_json) return {};
  return json::parse(labels_json).get<std::map<std::string, std::string>>();
}

// A request and its ledger, parsed.
cgspawn::StartRequest parse_request(const char* request_json) {
  require(request_json, "request_json");
  cgspawn::StartRequest request;
  std::string state_dir = cgspawn::start_request_from_json(request_json, request);
  request.backend.ledger = ledger_at(state_dir.c_str());
  return request;
}

}  // namespace

extern "C" {

int cgspawn_abi_version(void) {
  return CGSPAWN_ABI_VERSION;
}

const char* cgspawn_version(void) {
  return cgspawn::version;
}

const char* cgspawn_last_error(void) {
  return last_error.c_str();
}

void cgspawn_free(char* text) {
  std::free(text);
}

int cgspawn_spawn(const char* request_json, cgspawn_task** task) {
  return guarded([&] {
    require(task, "task");
    *task = nullptr;
    cgspawn::StartRequest request = parse_request(request_json);
    auto handle = std::make_unique<cgspawn_task>();
    handle->task = cgspawn::make_spawner(request.backend)->spawn(request.spec);
    handle->spec = request.spec;
    *task = handle.release();
  });
}

const char* cgspawn_task_id(const cgspawn_task* task) {
  return task ? task->task->id().c_str() : "";
}

int cgspawn_task_poll_fd(const cgspawn_task* task) {
  return task ? task->task->poll_fd() : -1;
}

int cgspawn_task_try_wait(cgspawn_task* task, int* ended, char** exit_json) {
  return guarded([&] {
    require(task, "task");
    require(ended, "ended");
    require(exit_json, "exit_json");
    *exit_json = nullptr;
    std::optional<cgspawn::ExitStatus> exit = task->task->try_wait();
    *ended = exit.has_value();
    if (!exit) return;
    cgspawn::Result partial;
    partial.exit = *exit;
    *exit_json = handed_out(json::parse(cgspawn::to_json(partial, -1)).at("exit").dump());
  });
}

int cgspawn_task_wait(cgspawn_task* task, char** result_json) {
  return guarded([&] {
    require(task, "task");
    require(result_json, "result_json");
    *result_json = handed_out(cgspawn::to_json(task->task->wait(), -1));
  });
}

int cgspawn_task_destroy(cgspawn_task* task, double grace_seconds, int reason, char** result_json) {
  return guarded([&] {
    require(task, "task");
    require(result_json, "result_json");
    cgspawn::ExitReason why =
        reason == CGSPAWN_REASON_TIMED_OUT ? cgspawn::ExitReason::timed_out : cgspawn::ExitReason::destroyed;
    *result_json = handed_out(cgspawn::to_json(task->task->finish(destroy_options(grace_seconds), why), -1));
  });
}

void cgspawn_task_free(cgspawn_task* task) {
  delete task;
}

int cgspawn_start(const char* request_json, char** id) {
  return guarded([&] {
    require(id, "id");
    *id = handed_out(cgspawn::start_supervised(parse_request(request_json)));
  });
}

int cgspawn_destroy(const char* state_dir, const char* id, double grace_seconds, char** report_json) {
  return guarded([&] {
    require(id, "id");
    require(report_json, "report_json");
    auto ledger = ledger_at(state_dir);
    *report_json =
        handed_out(cgspawn::to_json(cgspawn::destroy_task(*ledger, id, destroy_options(grace_seconds)), -1));
  });
}

int cgspawn_destroy_labels(const char* state_dir, const char* labels_json, double grace_seconds,
                           char** report_json) {
  return guarded([&] {
    require(report_json, "report_json");
    auto ledger = ledger_at(state_dir);
    auto report = cgspawn::destroy_tasks(*ledger, labels_from(labels_json), destroy_options(grace_seconds));
    *report_json = handed_out(cgspawn::to_json(report, -1));
  });
}

int cgspawn_reap(const char* state_dir, const char* labels_json, int orphans, double grace_seconds,
                 char** report_json) {
  return guarded([&] {
    require(report_json, "report_json");
    auto ledger = ledger_at(state_dir);
    auto report =
        cgspawn::reap(*ledger, labels_from(labels_json), orphans != 0, destroy_options(grace_seconds));
    *report_json = handed_out(cgspawn::to_json(report, -1));
  });
}

int cgspawn_capabilities(const char* backend_json, char** capabilities_json) {
  return guarded([&] {
    require(capabilities_json, "capabilities_json");
    std::string request =
        std::string("{\"backend\":") + (backend_json && *backend_json ? backend_json : "{}") + "}";
    cgspawn::StartRequest parsed;
    std::string state_dir = cgspawn::start_request_from_json(request, parsed);
    parsed.backend.ledger = ledger_at(state_dir.c_str());
    *capabilities_json = handed_out(cgspawn::to_json(cgspawn::backend_capabilities(parsed.backend), -1));
  });
}

int cgspawn_describe_result(const char* result_json, char** text) {
  return guarded([&] {
    require(result_json, "result_json");
    require(text, "text");
    *text = handed_out(cgspawn::describe(cgspawn::result_from_json(nlohmann::json::parse(result_json))));
  });
}

}  // extern "C"
