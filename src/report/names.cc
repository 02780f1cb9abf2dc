// SPDX-License-Identifier: MIT
// The names of kinds, states, outcomes and exit reasons: one table per enum, read both ways.
#include "report/names.hpp"

#include <utility>

namespace cgspawn {
namespace {

constexpr std::pair<ResourceKind, std::string_view> kKinds[] = {
    {ResourceKind::cgroup, "cgroup"},
    {ResourceKind::process, "process"},
    {ResourceKind::process_group, "process-group"},
    {ResourceKind::scope, "scope"},
    {ResourceKind::service, "service"},
    {ResourceKind::container, "container"},
    {ResourceKind::conmon, "conmon"},
    {ResourceKind::ssh_master, "ssh-master"},
    {ResourceKind::remote_unit, "remote-unit"},
    {ResourceKind::remote_cgroup, "remote-cgroup"},
    {ResourceKind::directory, "directory"},
    {ResourceKind::escaped_process, "escaped-process"},
    {ResourceKind::ipc, "ipc"},
};

constexpr std::pair<TaskState, std::string_view> kTaskStates[] = {
    {TaskState::starting, "starting"}, {TaskState::running, "running"}, {TaskState::exited, "exited"}};

constexpr std::pair<OwnerKind, std::string_view> kOwners[] = {
    {OwnerKind::library, "library"}, {OwnerKind::run, "run"}, {OwnerKind::supervisor, "supervisor"}};

constexpr std::pair<ResourceState, std::string_view> kStates[] = {{ResourceState::intended, "intended"},
                                                                  {ResourceState::created, "created"},
                                                                  {ResourceState::destroyed, "destroyed"},
                                                                  {ResourceState::failed, "failed"}};

constexpr std::pair<Outcome, std::string_view> kOutcomes[] = {{Outcome::destroyed, "destroyed"},
                                                              {Outcome::already_gone, "already-gone"},
                                                              {Outcome::kept, "kept"},
                                                              {Outcome::not_guaranteed, "not-guaranteed"},
                                                              {Outcome::failed, "failed"}};

constexpr std::pair<LeftoversPolicy, std::string_view> kPolicies[] = {
    {LeftoversPolicy::kill, "kill"}, {LeftoversPolicy::fail, "fail"}, {LeftoversPolicy::report, "report"}};

constexpr std::pair<ExitReason, std::string_view> kReasons[] = {{ExitReason::exited, "exited"},
                                                                {ExitReason::signaled, "signaled"},
                                                                {ExitReason::timed_out, "timed-out"},
                                                                {ExitReason::destroyed, "destroyed"}};

constexpr std::pair<ExitCause, std::string_view> kCauses[] = {
    {ExitCause::exited, "exited"},        {ExitCause::signal, "signal"},
    {ExitCause::timeout, "timeout"},      {ExitCause::destroyed, "destroyed"},
    {ExitCause::oom_limit, "oom-limit"},  {ExitCause::oom_host, "oom-host"},
    {ExitCause::owner_gone, "owner-gone"}};

template <typename E, std::size_t N>
std::string_view name_in(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "unknown";
}

template <typename E, std::size_t N>
std::optional<E> value_in(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [v, n] : table)
    if (n == name) return v;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(ResourceKind kind) {
  return name_in(kKinds, kind);
}
std::string_view to_string(TaskState state) {
  return name_in(kTaskStates, state);
}
std::string_view to_string(OwnerKind kind) {
  return name_in(kOwners, kind);
}
std::string_view to_string(ResourceState state) {
  return name_in(kStates, state);
}
std::string_view to_string(Outcome outcome) {
  return name_in(kOutcomes, outcome);
}
std::string_view to_string(ExitReason reason) {
  return name_in(kReasons, reason);
}

std::optional<ResourceKind> parse_resource_kind(std::string_view name) {
  return value_in(kKinds, name);
}
std::optional<TaskState> parse_task_state(std::string_view name) {
  return value_in(kTaskStates, name);
}
std::optional<OwnerKind> parse_owner_kind(std::string_view name) {
  return value_in(kOwners, name);
}
std::optional<ResourceState> parse_resource_state(std::string_view name) {
  return value_in(kStates, name);
}
std::optional<Outcome> parse_outcome(std::string_view name) {
  return value_in(kOutcomes, name);
}
std::optional<ExitReason> parse_exit_reason(std::string_view name) {
  return value_in(kReasons, name);
}
std::string_view to_string(ExitCause cause) {
  return name_in(kCauses, cause);
}
std::optional<ExitCause> parse_exit_cause(std::string_view name) {
  return value_in(kCauses, name);
}
ExitCause cause_of_reason(ExitReason reason) {
  switch (reason) {
    case ExitReason::signaled:
      return ExitCause::signal;
    case ExitReason::timed_out:
      return ExitCause::timeout;
    case ExitReason::destroyed:
      return ExitCause::destroyed;
    case ExitReason::exited:
      break;
  }
  return ExitCause::exited;
}
std::string_view to_string(LeftoversPolicy policy) {
  return name_in(kPolicies, policy);
}
std::optional<LeftoversPolicy> parse_leftovers_policy(std::string_view name) {
  return value_in(kPolicies, name);
}

bool CleanupReport::complete() const {
  for (const auto& row : resources) {
    if (row.outcome != Outcome::destroyed && row.outcome != Outcome::already_gone &&
        row.outcome != Outcome::kept)
      return false;
  }
  return true;
}

}  // namespace cgspawn
