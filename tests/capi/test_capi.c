/* SPDX-License-Identifier: MIT */
/* The C ABI end to end, from C (built with -std=c11 -Wall -Werror against the shared library):
 * spawn, poll fd, try-wait, wait, destroy with grace, start and destroy by id and by label, reap,
 * capabilities, and the error codes with their messages. Real processes, a ledger of its own. */
#define _GNU_SOURCE
#include <cgspawn/cgspawn.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static char ledger[256];
static char request[2048];

static const char* make_request(const char* argv_json, const char* extra) {
  snprintf(request, sizeof request, "{\"argv\": %s, \"state_dir\": \"%s\", \"grace\": 0.5%s%s}", argv_json,
           ledger, extra[0] ? ", " : "", extra);
  return request;
}

/* No task record: dot files are the watchers' and the lineage server's, gone when they end. */
static int ledger_is_empty(void) {
  char command[512];
  snprintf(command, sizeof command, "test -z \"$(ls -A %s | grep -v -e '^parents$' -e '^\\.')\"", ledger);
  return system(command) == 0;
}

static void spawn_wait_destroy(void) {
  cgspawn_task* task = NULL;
  int rc = cgspawn_spawn(
      make_request("[\"/bin/sh\", \"-c\", \"sleep 1000 & exec sleep 0.2\"]", "\"id\": \"capi1\""), &task);
  CHECK(rc == CGSPAWN_OK);
  if (rc != CGSPAWN_OK) {
    fprintf(stderr, "spawn: %s\n", cgspawn_last_error());
    return;
  }
  CHECK(strcmp(cgspawn_task_id(task), "capi1") == 0);
  int ended = -1;
  char* exit_json = NULL;
  CHECK(cgspawn_task_try_wait(task, &ended, &exit_json) == CGSPAWN_OK);
  CHECK(ended == 0 && exit_json == NULL);
  struct pollfd p = {cgspawn_task_poll_fd(task), POLLIN, 0};
  CHECK(p.fd >= 0);
  CHECK(poll(&p, 1, 10000) == 1); /* the main program ends after 0.2 s */
  CHECK(cgspawn_task_try_wait(task, &ended, &exit_json) == CGSPAWN_OK);
  CHECK(ended == 1 && exit_json && strstr(exit_json, "\"code\":0"));
  cgspawn_free(exit_json);
  char* result = NULL;
  CHECK(cgspawn_task_destroy(task, 0.5, CGSPAWN_REASON_DESTROYED, &result) == CGSPAWN_OK);
  CHECK(result && strstr(result, "\"complete\":true"));
  CHECK(result && strstr(result, "\"comm\":\"sleep\"")); /* the background sleep was killed */
  char* again = NULL;
  CHECK(cgspawn_task_destroy(task, 0, CGSPAWN_REASON_DESTROYED, &again) == CGSPAWN_OK);
  CHECK(again && result && strcmp(again, result) == 0); /* a second destroy: the first Result */
  cgspawn_free(again);
  cgspawn_free(result);
  cgspawn_task_free(task);
  CHECK(ledger_is_empty());
}

static void wait_with_timeout(void) {
  cgspawn_task* task = NULL;
  CHECK(cgspawn_spawn(make_request("[\"sleep\", \"1000\"]", "\"timeout\": 0.3"), &task) == CGSPAWN_OK);
  char* result = NULL;
  CHECK(task && cgspawn_task_wait(task, &result) == CGSPAWN_OK);
  CHECK(result && strstr(result, "\"reason\":\"timed-out\""));
  cgspawn_free(result);
  cgspawn_task_free(task);
}

static void dropped_task_is_destroyed(void) {
  cgspawn_task* task = NULL;
  CHECK(cgspawn_spawn(make_request("[\"sleep\", \"1000\"]", "\"id\": \"dropped\""), &task) == CGSPAWN_OK);
  cgspawn_task_free(task); /* never destroyed: destroyed now */
  CHECK(ledger_is_empty());
}

static void errors(void) {
  cgspawn_task* task = NULL;
  CHECK(cgspawn_spawn(make_request("[\"/no/such/program\"]", ""), &task) == CGSPAWN_NOT_FOUND);
  CHECK(task == NULL);
  CHECK(strstr(cgspawn_last_error(), "/no/such/program") != NULL);
  CHECK(cgspawn_spawn("{not json", &task) == CGSPAWN_INVALID_ARGUMENT);
  CHECK(strstr(cgspawn_last_error(), "malformed JSON") != NULL);
  CHECK(cgspawn_spawn(make_request("[]", ""), &task) == CGSPAWN_INVALID_ARGUMENT);
  CHECK(cgspawn_spawn(make_request("[\"true\"]", "\"backend\": {\"name\": \"nope\"}"), &task) ==
        CGSPAWN_INVALID_ARGUMENT);
  CHECK(strstr(cgspawn_last_error(), "unknown backend") != NULL);
  char* report = NULL;
  CHECK(cgspawn_destroy(ledger, "no-such-task", 0, &report) == CGSPAWN_UNKNOWN_TASK);
  CHECK(report == NULL);
  CHECK(cgspawn_task_destroy(NULL, 0, 0, &report) == CGSPAWN_INVALID_ARGUMENT);
  CHECK(ledger_is_empty());
}

static void start_and_destroy_by_id_and_label(void) {
  char* id = NULL;
  int rc = cgspawn_start(
      make_request("[\"sleep\", \"1000\"]", "\"id\": \"started\", \"labels\": {\"job\": \"c\"}"), &id);
  CHECK(rc == CGSPAWN_OK);
  if (rc != CGSPAWN_OK) fprintf(stderr, "start: %s\n", cgspawn_last_error());
  CHECK(id && strcmp(id, "started") == 0);
  cgspawn_free(id);
  CHECK(cgspawn_start(make_request("[\"sleep\", \"1000\"]", "\"labels\": {\"job\": \"c\"}"), &id) ==
        CGSPAWN_OK);
  cgspawn_free(id);
  char* report = NULL;
  CHECK(cgspawn_destroy(ledger, "started", 0.2, &report) == CGSPAWN_OK);
  CHECK(report && strstr(report, "\"complete\":true"));
  cgspawn_free(report);
  CHECK(cgspawn_destroy_labels(ledger, "{\"job\": \"c\"}", 0.2, &report) == CGSPAWN_OK);
  CHECK(report && strstr(report, "\"complete\":true") && strstr(report, "\"tasks\":[{"));
  cgspawn_free(report);
  CHECK(cgspawn_reap(ledger, NULL, 0, 0, &report) == CGSPAWN_OK);
  CHECK(report && strstr(report, "\"tasks\":[]"));
  cgspawn_free(report);
  CHECK(ledger_is_empty());
}

static void capabilities(void) {
  char* caps = NULL;
  CHECK(cgspawn_capabilities("{\"name\": \"process\"}", &caps) == CGSPAWN_OK);
  CHECK(caps && strstr(caps, "\"backend\":\"process\""));
  cgspawn_free(caps);
}

int main(void) {
  CHECK(cgspawn_abi_version() == CGSPAWN_ABI_VERSION);
  CHECK(strlen(cgspawn_version()) > 0);
  snprintf(ledger, sizeof ledger, "/tmp/cgspawn-test-capi-%d", (int)getpid());
  CHECK(mkdir(ledger, 0700) == 0);
  spawn_wait_destroy();
  wait_with_timeout();
  dropped_task_is_destroyed();
  errors();
  start_and_destroy_by_id_and_label();
  capabilities();
  char command[512];
  snprintf(command, sizeof command, "rm -rf %s", ledger);
  CHECK(system(command) == 0);
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("C ABI: all checks passed\n");
  return failures ? 1 : 0;
}
