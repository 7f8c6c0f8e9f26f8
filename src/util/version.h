/* Version and git commit, generated at build time by cmake/version.cmake. */
#ifndef ISB_UTIL_VERSION_H
#define ISB_UTIL_VERSION_H
extern const char isb_version_string[];
extern const char isb_git_commit[];
#endif
