/* SPDX-License-Identifier: MIT */
/* cgspawn.h: the C ABI of libcgspawn, for other languages (the Python package uses it through
 * ctypes) and for C programs. Plain C11; opaque handles; no C++ type or exception crosses it.
 *
 * Conventions
 * - Every function that can fail returns a status: CGSPAWN_OK (0), or one of the error kinds
 *   below; cgspawn_last_error() then has the one-line message (per thread, valid until the
 *   next call of this ABI in that thread).
 * - Structured data crosses as JSON text. Strings the library returns through a `char**` are
 *   the caller's, to release with cgspawn_free().
 * - A task request (cgspawn_spawn, cgspawn_start) is a JSON object. Only "argv" is required:
 *     "argv": ["prog", "arg", ...]          the program (looked up in PATH) and its arguments
 *     "env": ["NAME=VALUE", ...]            added to, or replacing in, the environment
 *     "inherit_env": true                   start from the caller's environment
 *     "cwd": "dir"                          working directory ("" = the caller's)
 *     "stdin_fd", "stdout_fd", "stderr_fd"  spawn only: the caller's fds (-1 = its own stdio)
 *     "stdout", "stderr": "path"            where the output goes (start), or is recorded as
 *                                           going (spawn)
 *     "limits": {"memory_max": bytes, "pids_max": n, "cpu_max": percent of one CPU}
 *     "timeout": seconds                    destroy the task after it (null: none)
 *     "grace": seconds                      SIGTERM to SIGKILL on destroy (default 5)
 *     "labels": {"key": "value"}            stored with the task, shown in the Result
 *     "id": "task id"                       default: a fresh one
 *     "bind_owner": true                    spawn: the task is destroyed when the calling
 *                                           process dies, whoever else is alive (default false)
 *     "bind_pid": pid                       start: the same, bound to process `pid`
 *     "state_dir": "dir"                    the ledger ("" = the default one)
 *     "on_leftovers": "kill"                kill, fail or report
 *     "track_lineage": true                 follow the task's processes by descent
 *     "scratch": false, "keep_scratch": false, "scratch_root": ""
 *                                           a scratch directory of the task's own
 *     "private_tmp": false, "private_ipc": false
 *                                           its own /tmp, /var/tmp, /dev/shm; its own IPC
 *     "backend": {"name": "process", "parent": "", "user_manager": false, "unit_type": "scope",
 *                 "image": "", "rootfs": "", "keep_container": false, "host": "",
 *                 "ssh_config": "", "lease": 30}
 *   docs/cli.md documents each, as the CLI's options of the same names.
 * - The Result, CleanupReport and reports are the JSON documents of docs/cli.md (schema 1).
 */
#ifndef CGSPAWN_CGSPAWN_H
#define CGSPAWN_CGSPAWN_H

#ifdef __cplusplus
extern "C" {
#endif

/* Exported from libcgspawn, which hides everything that is not its API. */
#pragma GCC visibility push(default)

/* The version of this ABI. A binding refuses a library whose cgspawn_abi_version() differs
 * from the one it was written for. Adding functions or JSON fields does not change it. */
#define CGSPAWN_ABI_VERSION 1

enum cgspawn_status {
  CGSPAWN_OK = 0,
  CGSPAWN_INVALID_ARGUMENT = 1, /* the caller asked for something malformed */
  CGSPAWN_UNSUPPORTED = 2,      /* the host cannot do what was asked */
  CGSPAWN_NOT_FOUND = 3,        /* the program does not exist */
  CGSPAWN_UNKNOWN_TASK = 4,     /* no task of that id in the ledger: nothing to destroy */
  CGSPAWN_NOT_EXECUTABLE = 5,   /* the program exists but cannot be executed */
  CGSPAWN_SYSTEM = 6            /* an operating-system call, systemd, podman or ssh failed */
};

/* How a task that still runs is marked when it is destroyed. */
enum cgspawn_reason {
  CGSPAWN_REASON_DESTROYED = 0, /* on request */
  CGSPAWN_REASON_TIMED_OUT = 1  /* the caller's own timeout */
};

typedef struct cgspawn_task cgspawn_task;

int cgspawn_abi_version(void);
const char* cgspawn_version(void);
const char* cgspawn_last_error(void);
void cgspawn_free(char* text);

/* Starts a task in the caller's process (its owner); *task is the handle. */
int cgspawn_spawn(const char* request_json, cgspawn_task** task);
const char* cgspawn_task_id(const cgspawn_task* task);
/* Readable once the task's main program has ended: for the caller's own poll loop. */
int cgspawn_task_poll_fd(const cgspawn_task* task);
/* Never blocks. *ended: 1 when the main program has ended (*exit_json: its exit, the Result's
 * "exit"), 0 while it runs (*exit_json NULL). */
int cgspawn_task_try_wait(cgspawn_task* task, int* ended, char** exit_json);
/* Blocks until the main program ends or the request's timeout fires, destroys what is left
 * with the request's grace, and returns the Result. */
int cgspawn_task_wait(cgspawn_task* task, char** result_json);
/* Destroys the task now (SIGTERM, grace, SIGKILL, verify) and returns the Result. A second
 * call returns the first Result. */
int cgspawn_task_destroy(cgspawn_task* task, double grace_seconds, int reason, char** result_json);
/* Releases the handle; a task never destroyed is destroyed first, without grace. */
void cgspawn_task_free(cgspawn_task* task);

/* Starts a task detached from the caller, owned by a supervisor; *id is its id. */
int cgspawn_start(const char* request_json, char** id);
/* Recorded tasks, from any process. `state_dir` NULL or "": the default ledger.
 * `labels_json`: {"key": "value"}; NULL: all. */
int cgspawn_destroy(const char* state_dir, const char* id, double grace_seconds, char** report_json);
int cgspawn_destroy_labels(const char* state_dir, const char* labels_json, double grace_seconds,
                           char** report_json);
int cgspawn_reap(const char* state_dir, const char* labels_json, int orphans, double grace_seconds,
                 char** report_json);
/* What a backend can guarantee here: `backend_json` as a request's "backend". */
int cgspawn_capabilities(const char* backend_json, char** capabilities_json);
/* A Result (its JSON) as the CLI's text summary: the exit, the hang report's process tree,
 * the cleanup report. */
int cgspawn_describe_result(const char* result_json, char** text);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* CGSPAWN_CGSPAWN_H */
