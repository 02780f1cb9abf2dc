// SPDX-License-Identifier: MIT
// Fault injection for the crash-safety tests: in builds with -Dcrash_points=true,
// crash_point("name") SIGKILLs the calling process when $CGSPAWN_CRASH_AT is "name", and
// stops it (SIGSTOP, until a SIGCONT) when it is "stop:name": a test then acts while the
// process waits there. The variable may name several points, comma-separated ("stop:a,stop:b"):
// a test then acts at each in turn. In other builds it compiles to nothing.
#pragma once

namespace cgspawn {

#ifdef CGSPAWN_CRASH_POINTS
void crash_point(const char* name);
#else
inline void crash_point(const char*) {}
#endif

}  // namespace cgspawn
